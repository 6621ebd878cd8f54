"""cltv: customer spend and lifetime value from transactions, over the same C++ core as the ``cltv``
command line.

>>> import cltv
>>> tx = cltv.read_transactions("online_retail.csv", schema="online-retail")
>>> feats = cltv.features(tx, as_of="2011-11-01")
>>> model = cltv.train(tx, model="hurdle", train_as_of="2011-10-01")
>>> model.predict(tx).head()

``cltv.lifetimes`` is a drop-in for the lifetimes package. Errors are :class:`cltv.Error` subclasses
carrying the core's message and hint.
"""

# The compiled module is built into <build>/python/cltv (or installed beside this file by the wheel).
__path__ = __import__("pkgutil").extend_path(__path__, __name__)

from . import _cltv  # noqa: E402
from .errors import ConfigError, Error, InputError, InternalError, IOError, ModelError
from .models import Model, compare, load, model_names, run, train
from .transactions import COLUMNS, features, read_transactions, to_table

__version__: str = _cltv.version

from . import lifetimes  # noqa: E402  (after the names it uses)
from .lifetimes import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter  # noqa: E402

__all__ = ["__version__", "read_transactions", "features", "to_table", "COLUMNS", "train", "load", "compare",
           "run", "model_names", "Model", "lifetimes", "BetaGeoFitter", "ParetoNBDFitter", "GammaGammaFitter",
           "Error", "InputError", "IOError", "ConfigError", "ModelError", "InternalError"]
