"""One exception root: every error cclib raises for a user's input is a CclibError."""

import importlib
import inspect
import pkgutil

import cclib
from cclib.errors import CclibError


def test_every_exception_class_in_the_package_derives_from_cclib_error():
    found = {}
    for module in pkgutil.iter_modules(cclib.__path__):
        imported = importlib.import_module(f"cclib.{module.name}")
        for name, value in vars(imported).items():
            if (inspect.isclass(value) and issubclass(value, BaseException)
                    and value.__module__.startswith("cclib.")):
                found[f"{value.__module__}.{name}"] = value
    assert len(found) >= 10, sorted(found)
    strays = sorted(name for name, value in found.items() if not issubclass(value, CclibError))
    assert strays == []
    # ... and each also is the built-in kind a caller outside cclib may catch
    assert all(issubclass(value, (ValueError, RuntimeError, OSError))
               for value in found.values() if value is not CclibError)
