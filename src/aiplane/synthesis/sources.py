"""Where each synthesized object came from: the environment file line a person edits (the item, and the
field a finding names), the module in compositions/ or xrds/ that builds a platform object, and the
generated file under manifests/. Reports place findings there instead of at generated objects.

Positions come from each environment file's one composed node graph (synthesis.positions, built lazily
and cached per file), so locating many findings costs one parse per file, not one per finding."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiplane.errors import located
from aiplane.project import Settings
from aiplane.synthesis.environment import Environment
from aiplane.synthesis.environment_record import ENVIRONMENT_RECORD, RECORD_SOURCES
from aiplane.synthesis.positions import Path_
from aiplane.validation.fieldpath import parse_field_path

ObjectKey = tuple[str, str, str]  # (kind, namespace, name)


@dataclass(frozen=True)
class SourceLocation:
    """A place in a file of the project: the path relative to the project root (posix), 1-based line and
    column when known."""

    file: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        return located(self.file, self.line, self.column)

    def as_json(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "column": self.column}


def object_key(obj: Mapping[str, Any]) -> ObjectKey:
    meta = obj.get("metadata") or {}
    return (str(obj.get("kind", "")), str(meta.get("namespace", "") or ""), str(meta.get("name", "")))


def relative_to_root(path: str | Path, root: Path) -> str:
    """`path` (relative to the working directory, or absolute) relative to the project root."""
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except (ValueError, OSError):
        return Path(path).as_posix()


@dataclass(frozen=True)
class _EnvironmentOrigin:
    env: Environment
    file: str
    path: Path_  # the item's (or setting's) path in the file
    kind: str  # "item", "record" or "setting"


class SourceMap:
    """Objects (by kind, namespace, name) → their source location and generated file."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._environment: dict[ObjectKey, _EnvironmentOrigin] = {}
        self._modules: dict[ObjectKey, tuple[str, Path | None]] = {}
        self._documents: dict[ObjectKey, SourceLocation] = {}
        self._generated: dict[ObjectKey, str] = {}

    def locate(self, obj: Mapping[str, Any], field: str = "") -> SourceLocation | None:
        """Where a person fixes a finding on `obj` at `field` (None: not known)."""
        key = object_key(obj)
        origin = self._environment.get(key)
        if origin is not None:
            where = origin.env._positions.locate((*origin.path, *_field_in_source(origin, field)))
            return SourceLocation(origin.file, *(where or (None, None)))
        module = self._modules.get(key)
        if module is not None:
            return SourceLocation(module[0], *(_resource_in_module(module[1], obj, field) or (1, 1)))
        return self._documents.get(key)

    def generated(self, obj: Mapping[str, Any]) -> SourceLocation | None:
        """The generated file of `obj` under manifests/, if it exists on disk."""
        path = self._generated.get(object_key(obj))
        if path is None or not (self.root / path).is_file():
            return None
        return SourceLocation(path)

    def environment_file(self, name: str) -> SourceLocation | None:
        for origin in self._environment.values():
            if origin.env.settings.name == name:
                return SourceLocation(origin.file, 1, 1)
        return None

    def add_documents(self, docs: Iterable[Any]) -> None:
        """Objects read from files (`aiplane check --manifests`): each at its document's first line."""
        for doc in docs:
            if isinstance(doc.obj, dict):
                self._documents[object_key(doc.obj)] = SourceLocation(
                    relative_to_root(doc.path, self.root), doc.line, 1
                )


def _field_in_source(origin: _EnvironmentOrigin, field: str) -> Path_:
    """The path inside the item (or setting) that a finding's field of the generated object names."""
    if not field:
        return ()
    try:
        segments = parse_field_path(field)
    except ValueError:
        return ()
    if origin.kind == "record":
        if segments[:1] == ["data"] and len(segments) > 1:
            return RECORD_SOURCES.get(str(segments[1]), ())
        return ()
    if origin.kind == "item":
        if segments[:1] == ["spec"] and segments[1:2] != ["crossplane"]:
            return tuple(segments[1:])
        if segments == ["metadata", "name"]:
            return ("name",)
        if segments[:1] == ["waivers"]:  # a waiver's own problems (aiplane.policy.waivers)
            return tuple(segments)
    return ()


def _resource_in_module(module: Path | None, obj: Mapping[str, Any], field: str) -> tuple[int, int] | None:
    """Where a Composition module names the composed resource a finding's field points into
    (`spec.pipeline[i].input.resources[j]...`): the first place quoting its name (None when the name is
    built at run time, or the field names no resource)."""
    if module is None or not field:
        return None
    try:
        segments = parse_field_path(field)
    except ValueError:
        return None
    current: Any = obj
    name = None
    for segment in segments:
        try:
            current = current[segment]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(current, Mapping) and isinstance(current.get("name"), str) and "base" in current:
            name = current["name"]
    if name is None:
        return None
    try:
        lines = module.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for quoted in (f'"{name}"', f"'{name}'"):
        for number, text in enumerate(lines, start=1):
            if quoted in text:
                return number, text.index(quoted) + 1
    return None


def _module_file(package: str, match: str, attribute: str, folder: Path) -> Path | None:
    """The project module under `folder` (imported by discovery as aiplane_project.<package>.<stem>) whose
    `attribute` names `match`."""
    for path in sorted(folder.glob("*.py")):
        module = sys.modules.get(f"aiplane_project.{package}.{path.stem}")
        value = getattr(module, attribute, None)
        if attribute == "API":
            value = getattr(value, "kind", None)
        if value == match:
            return path
    return None


def build_source_map(
    settings: Settings,
    environments: Iterable[Environment],
    manifests: Iterable[tuple[str, Mapping[str, Any]]],
) -> SourceMap:
    """The source map of one synthesis: `manifests` are (path relative to manifests/, object)."""
    root = settings.root
    sources = SourceMap(root)
    manifests_rel = relative_to_root(settings.manifests, root)
    for env in environments:
        file = relative_to_root(env.source, root)
        ns = env.settings.namespace

        origins: list[tuple[ObjectKey, Path_, str]] = [
            (("Namespace", "", ns), ("namespace",), "setting"),
            (("ConfigMap", ns, ENVIRONMENT_RECORD), (), "record"),
            (("ProviderConfig", ns, env.settings.providerConfigRef.name), ("providerConfigRef",), "setting"),
            *((("Subnet", ns, s.id), ("subnets", i), "setting") for i, s in enumerate(env.settings.subnets)),
            *(((item.api.kind, ns, item.name), item.source, "item") for item in env.items),
        ]
        for key, path, what in origins:
            sources._environment[key] = _EnvironmentOrigin(env, file, path, what)
    for generated_path, obj in manifests:
        key = object_key(obj)
        sources._generated[key] = f"{manifests_rel}/{generated_path}"
        kind = key[0]
        if kind == "Composition":
            composed = str(((obj.get("spec") or {}).get("compositeTypeRef") or {}).get("kind", ""))
            module = _module_file("compositions", composed, "KIND", settings.compositions)
        elif kind == "CompositeResourceDefinition":
            composed = str(((obj.get("spec") or {}).get("names") or {}).get("kind", ""))
            module = _module_file("xrds", composed, "API", settings.xrds)
        else:
            continue
        if module is not None:
            sources._modules[key] = (relative_to_root(module, root), module)
    return sources
