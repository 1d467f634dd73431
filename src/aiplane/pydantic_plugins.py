"""pydantic plugins off for the command line, and pydantic's plugin loader not imported.

pydantic looks for plugins when the first model is built: it imports `pydantic.plugin._loader`, which imports
`importlib.metadata` (with email, zipfile, csv...: about 17 ms), and walks every installed distribution's
entry points (about 4 ms). aiplane's models are its own and no pydantic plugin of them is supported, so the
command line sets `PYDANTIC_DISABLE_PLUGINS=__all__` (set the variable yourself, even empty, to keep
pydantic's default) and, while plugins are disabled that way, registers a stand-in for the loader module
whose `get_plugins()` returns what pydantic's own returns then: no plugins. Any other name a later pydantic
asks of the loader is taken from the real module, imported then; tests/test_startup.py checks that the
real one is not imported by the everyday commands.
Standard library only: this runs before anything imports pydantic.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys
import types
from collections.abc import Iterable
from typing import Any

LOADER = "pydantic.plugin._loader"
# The values for which pydantic's get_plugins() returns no plugins without looking (pydantic/plugin/_loader.py).
_ALL_DISABLED = ("__all__", "1", "true")


def disable_pydantic_plugins() -> None:
    """Plugins off (unless the variable is already set), and the stand-in loader while they are."""
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    if os.environ["PYDANTIC_DISABLE_PLUGINS"] in _ALL_DISABLED and LOADER not in sys.modules:
        sys.modules[LOADER] = _StandInLoader(LOADER, "aiplane.pydantic_plugins: plugins are disabled")


class _StandInLoader(types.ModuleType):
    @staticmethod
    def get_plugins() -> Iterable[Any]:
        return ()

    def __getattr__(self, name: str) -> Any:
        # A name the stand-in lacks that a later pydantic may ask for: answer from pydantic's real loader,
        # imported now (the stand-in stays registered). Dunder names (`__file__`, `__path__`...) are asked of
        # every module by tools that walk sys.modules; they are simply absent here.
        if name.startswith("__"):
            raise AttributeError(name)
        import pydantic.plugin

        spec = importlib.machinery.PathFinder.find_spec(LOADER, list(pydantic.plugin.__path__))
        if spec is None or spec.loader is None:
            raise AttributeError(name)
        real = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(real)
        return getattr(real, name)
