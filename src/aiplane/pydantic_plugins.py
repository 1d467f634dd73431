"""pydantic plugins off for the command line, and pydantic's plugin loader not imported.

pydantic looks for plugins when the first model is built: it imports `pydantic.plugin._loader`, which imports
`importlib.metadata` (with email, zipfile, csv...: about 17 ms), and walks every installed distribution's
entry points (about 4 ms). aiplane's models are its own and no pydantic plugin of them is supported, so the
command line sets `PYDANTIC_DISABLE_PLUGINS=__all__` (set the variable yourself, even empty, to keep
pydantic's default) and, while plugins are disabled that way, registers a stand-in for the loader module.
Its `get_plugins()` answers as pydantic's own does, reading the variable on every call: no plugins while it
disables them all, else pydantic's own answer. Any other name is taken from pydantic's real loader, imported
then (once). tests/test_startup.py checks that the everyday commands do not import the real one.
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
VARIABLE = "PYDANTIC_DISABLE_PLUGINS"
# The values for which pydantic's get_plugins() returns no plugins without looking (pydantic/plugin/_loader.py).
_ALL_DISABLED = ("__all__", "1", "true")


def disable_pydantic_plugins() -> None:
    """Plugins off (unless the variable is already set), and the stand-in loader while they are."""
    os.environ.setdefault(VARIABLE, "__all__")
    if os.environ[VARIABLE] in _ALL_DISABLED and LOADER not in sys.modules:
        sys.modules[LOADER] = _StandInLoader(LOADER, "aiplane.pydantic_plugins: plugins are disabled")


class _StandInLoader(types.ModuleType):
    def __init__(self, name: str, doc: str) -> None:
        super().__init__(name, doc)
        # What importlib.util.find_spec returns for a module already imported (no loader: nothing to reload).
        self.__spec__ = importlib.machinery.ModuleSpec(name, None, origin=__name__)
        self._real: types.ModuleType | None = None

    def get_plugins(self) -> Iterable[Any]:
        if os.environ.get(VARIABLE) in _ALL_DISABLED:
            return ()
        plugins: Iterable[Any] = self._pydantics_loader().get_plugins()
        return plugins

    def __getattr__(self, name: str) -> Any:
        # A name the stand-in lacks that a later pydantic may ask for: answer from pydantic's real loader. Dunder
        # names (`__file__`, `__path__`...) are asked of every module by tools that walk sys.modules; they are
        # simply absent here.
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._pydantics_loader(), name)

    def _pydantics_loader(self) -> types.ModuleType:
        """pydantic's own loader module, imported on first need beside the stand-in (which stays registered)."""
        if self._real is None:
            import pydantic.plugin

            spec = importlib.machinery.PathFinder.find_spec(LOADER, list(pydantic.plugin.__path__))
            if spec is None or spec.loader is None:
                raise AttributeError(f"{LOADER} cannot be found")
            real = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(real)
            self._real = real
        return self._real
