"""Finding the project's platform APIs (xrds/) and compositions (compositions/), and those that
installed packages contribute through entry points, without the engine knowing any of them."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol, cast

from aiplane.authoring.api import PlatformAPI
from aiplane.catalog.instances import Catalog, CatalogError, load_catalog
from aiplane.errors import InputError
from aiplane.project import Settings, display_path, entry_points

API_ENTRY_POINTS = "aiplane.platform_apis"
COMPOSITION_ENTRY_POINTS = "aiplane.compositions"


class CompositionModule(Protocol):
    """What a module in compositions/ provides."""

    KIND: str
    DEFAULT_VARIANT: str

    def compositions(self, ctx: Any) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class Project:
    """The platform APIs by kind, the composition modules and the price catalog of one project."""

    apis: dict[str, PlatformAPI]
    compositions: tuple[CompositionModule, ...]
    # The shipped catalog with the project's own price files (`[tool.aiplane] prices`) in force.
    catalog: Catalog = field(default_factory=load_catalog)


def project_catalog(settings: Settings) -> Catalog:
    """The shipped catalog with the project's own price files; a broken one is the user's input error."""
    try:
        shown = settings.prices.relative_to(settings.root).as_posix()
    except ValueError:
        shown = str(settings.prices)
    try:
        return load_catalog(settings.prices, shown)
    except CatalogError as err:
        raise InputError.single(shown, f"bad price file: {err}") from None


def _import_file(path: Path, package: str) -> ModuleType:
    name = f"aiplane_project.{package}.{path.stem}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise InputError.single(display_path(path), "cannot import this module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except InputError:
        raise
    except Exception as err:  # a broken platform module is the user's input error, shown plainly
        del sys.modules[name]
        raise InputError.single(display_path(path), f"importing failed: {type(err).__name__}: {err}") from err
    return module


def _modules(folder: Path, package: str) -> list[ModuleType]:
    if not folder.is_dir():
        return []
    return [_import_file(p, package) for p in sorted(folder.glob("*.py")) if not p.name.startswith("_")]


@cache
def discover(settings: Settings) -> Project:
    apis: dict[str, PlatformAPI] = {}
    sources: dict[str, str] = {}

    def add_api(api: object, origin: str) -> None:
        if not isinstance(api, PlatformAPI):
            raise InputError.single(origin, "`API` must be an aiplane.authoring.api.PlatformAPI")
        if api.kind in apis:
            raise InputError.single(
                origin, f"platform API {api.kind} is already defined in {sources[api.kind]}"
            )
        apis[api.kind] = api
        sources[api.kind] = origin

    for module in _modules(settings.xrds, "xrds"):
        if not hasattr(module, "API"):
            raise InputError.single(
                str(module.__file__), "a platform API module must define `API = PlatformAPI(...)`"
            )
        add_api(module.API, str(module.__file__))
    # The project's own folders come first and win: a kind the project defines in xrds/ (say, its copy of a
    # shipped API, made by `aiplane init`) hides the same kind from an installed package, and with it that
    # package's compositions of the kind, so a team's copy is never mixed with the original.
    own_kinds = set(apis)
    for ep in entry_points(group=API_ENTRY_POINTS):
        api = ep.load()
        if getattr(api, "kind", None) not in own_kinds:
            add_api(api, f"entry point {ep.name} ({ep.value})")

    compositions: list[CompositionModule] = []
    loaded = _modules(settings.compositions, "compositions")
    for ep in entry_points(group=COMPOSITION_ENTRY_POINTS):
        module = ep.load()
        if getattr(module, "KIND", None) not in own_kinds:
            loaded.append(module)
    for module in loaded:
        origin = str(getattr(module, "__file__", module))
        for attr in ("KIND", "DEFAULT_VARIANT", "compositions"):
            if not hasattr(module, attr):
                raise InputError.single(origin, f"a composition module must define `{attr}`")
        if module.KIND not in apis:
            raise InputError.single(origin, f"composes {module.KIND}, which no platform API defines")
        compositions.append(cast(CompositionModule, module))
    return Project(apis, tuple(compositions), project_catalog(settings))
