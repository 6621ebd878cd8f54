"""Drop-in for the lifetimes package: the same classes, methods and argument names, computed by the
core's "buy 'til you die" code (the code of ``cltv btyd``). Change ``import lifetimes`` to
``import cltv.lifetimes as lifetimes`` (or ``from cltv.lifetimes import BetaGeoFitter``)."""

from . import utils
from .fitters import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter

__all__ = ["BetaGeoFitter", "ParetoNBDFitter", "GammaGammaFitter", "utils"]
