"""Packages cltv: the pure-Python package beside this file plus the compiled module the CMake build
made (CLTV_EXTENSION), at the CLI's version (CLTV_VERSION). Run by scripts/python-wheel."""

import os
import shutil
from pathlib import Path

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py


class BuildWithModule(build_py):
    """Copies the compiled module into the package."""

    def run(self) -> None:
        super().run()
        module = Path(os.environ["CLTV_EXTENSION"])
        shutil.copy2(module, Path(self.build_lib) / "cltv" / module.name)


class PlatformDistribution(Distribution):
    """A wheel for this platform and Python: the package holds a compiled module."""

    def has_ext_modules(self) -> bool:
        return True


setup(
    name="cltv",
    version=os.environ["CLTV_VERSION"],
    description="Customer spend and lifetime value from transactions: Python package over the cltv C++ core",
    packages=["cltv", "cltv.lifetimes"],
    python_requires=">=3.9",
    install_requires=["numpy", "pandas"],
    cmdclass={"build_py": BuildWithModule},
    distclass=PlatformDistribution,
)
