"""SchemaRegistry: find the schema of an object by apiVersion + kind.

Sources, in lookup order: CRDs/XRDs added explicitly (from `--crds` folders or found among the inputs;
later ones override earlier ones by group + kind), the CRDs shipped in aiplane/data/crds, and the
Kubernetes built-in kinds shipped in aiplane/data/k8s-schemas. Shipped files are indexed by a cheap
scan of their first lines and parsed only when a kind is looked up; parsed shipped kinds are cached per
process, so `SchemaRegistry.default()` is cheap to call repeatedly and keeps compiled validators.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

from aiplane import DATA
from aiplane.errors import InputError
from aiplane.validation.crdcache import cached_crd
from aiplane.validation.kinds import KindSchema, served_versions, split_api_version
from aiplane.validation.xr_schema import xr_kind_schemas
from aiplane.yamlio import YAML_SUFFIXES, load_documents_from_text, load_paths

CRD_API_VERSION = "apiextensions.k8s.io/v1"
XRD_GROUP = "apiextensions.crossplane.io"

# (group, kind) -> version -> KindSchema
_KindTable = dict[tuple[str, str], dict[str, KindSchema]]


def is_crd(obj: Any) -> bool:
    return (
        isinstance(obj, dict)
        and obj.get("kind") == "CustomResourceDefinition"
        and obj.get("apiVersion") == CRD_API_VERSION
    )


def is_xrd(obj: Any) -> bool:
    return (
        isinstance(obj, dict)
        and obj.get("kind") == "CompositeResourceDefinition"
        and split_api_version(str(obj.get("apiVersion", "")))[0] == XRD_GROUP
    )


def crd_kind_schemas(crd: dict[str, Any], source: str) -> list[KindSchema]:
    """One KindSchema per served version of a CRD; ValueError when the CRD lacks group, kind or versions."""
    spec, group, kind, served = served_versions(crd, "CRD")
    versions = spec["versions"]
    garbage = [
        v for v in versions if not (isinstance(v, dict) and isinstance(v.get("name"), str) and v["name"])
    ]
    if garbage or not served:
        # The apiserver refuses such a CRD; registering what is left would let its objects pass unchecked.
        raise ValueError(
            "CRD spec.versions must be a list of versions, each with a name, at least one served"
        )
    out = []
    for version in served:
        holder = version.get("schema")
        schema = holder.get("openAPIV3Schema") if isinstance(holder, dict) else None
        out.append(
            KindSchema(
                group=group,
                version=version["name"],
                kind=kind,
                schema=schema
                if isinstance(schema, dict)
                else {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                deprecated=bool(version.get("deprecated")),
                deprecation_warning=warning
                if isinstance(warning := version.get("deprecationWarning"), str)
                else None,
                namespaced=spec.get("scope", "Namespaced") == "Namespaced",
                source=source,
            )
        )
    return out


# --- shipped data ---------------------------------------------------------------------------------------

_HEAD_GROUP = re.compile(r"^  group: *['\"]?([^\s'\"]+)", re.MULTILINE)
_HEAD_KIND = re.compile(r"^  names:\n(?:    .*\n)*?    kind: *['\"]?([^\s'\"]+)", re.MULTILINE)


# How much of a shipped CRD file its group and kind are read from: controller-gen writes both before the
# versions (the schemas), a few hundred bytes in.
_HEAD_BYTES = 8192


@cache
def _shipped_crd_index() -> dict[tuple[str, str], str]:
    """(group, kind) -> shipped CRD file, from the first lines of each file (controller-gen layout): reading
    whole files (4.5 MB) cost every validating command 5 ms. A shipped file holds one CRD
    (tests/validation/test_crd_cache.py); a file whose head does not match the layout is parsed whole."""
    index: dict[tuple[str, str], str] = {}
    for entry in sorted((DATA / "crds").iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(YAML_SUFFIXES):
            continue
        with entry.open("rb") as handle:
            head = handle.read(_HEAD_BYTES).decode("utf-8", errors="ignore")  # a character cut at the end
        head = head[: head.find("\n  versions:")] if "\n  versions:" in head else ""
        group, kind = _HEAD_GROUP.search(head), _HEAD_KIND.search(head)
        if group and kind:
            index[(group.group(1), kind.group(1))] = entry.name
            continue
        for ks in _parse_crd_file(entry.name):
            index[(ks.group, ks.kind)] = entry.name
    return index


def shipped_crd_name(group: str, kind: str) -> str | None:
    """`<plural>.<group>` of a shipped CRD (its file is controller-gen's `<group>_<plural>.yaml`), which is
    also the name of a provider's ManagedResourceDefinition for that kind; None when not shipped."""
    file = _shipped_crd_index().get((group, kind))
    if file is None:
        return None
    stem = file.rsplit(".", 1)[0]
    file_group, _, plural = stem.partition("_")
    return f"{plural}.{file_group}" if file_group == group and plural else None


@cache
def _parse_crd_file(name: str) -> tuple[KindSchema, ...]:
    source = f"aiplane/data/crds/{name}"
    text = (DATA / "crds" / name).read_text(encoding="utf-8")
    cached = cached_crd(name, text)  # aiplane.validation.crdcache: the same documents, as JSON
    objects, compiled = cached if cached is not None else ([d.obj for d in load_documents_from_text(text, source)], {})
    kinds = tuple(ks for obj in objects if is_crd(obj) for ks in crd_kind_schemas(obj, source))
    for ks in kinds:
        ks.precompiled = compiled.get(f"{ks.kind}/{ks.version}")
    return kinds


@cache
def _shipped_crd_versions(group: str, kind: str) -> dict[str, KindSchema]:
    name = _shipped_crd_index().get((group, kind))
    if name is None:
        return {}
    return {ks.version: ks for ks in _parse_crd_file(name) if ks.group == group and ks.kind == kind}


@cache
def _builtin_index() -> dict[tuple[str, str], Path]:
    """(group, lowercased kind) -> file; files are named `<group or core>_<version>_<kind>.json`."""
    index = {}
    for entry in (DATA / "k8s-schemas").iterdir():
        if entry.name.endswith(".json"):
            group, _version, kind = entry.name[: -len(".json")].split("_")
            index[("" if group == "core" else group, kind)] = entry
    return index


@cache
def _builtin_versions(group: str, kind_lower: str) -> dict[str, KindSchema]:
    entry = _builtin_index().get((group, kind_lower))
    if entry is None:
        return {}
    data = json.loads(entry.read_text(encoding="utf-8"))
    g, version = split_api_version(data["apiVersion"])
    ks = KindSchema(
        group=g,
        version=version,
        kind=data["kind"],
        schema=data["openAPIV3Schema"],
        namespaced=bool(data["namespaced"]),
        source=f"aiplane/data/k8s-schemas/{entry.name}",
        builtin=True,
    )
    return {version: ks}


@cache
def object_meta_schema() -> dict[str, Any]:
    """Kubernetes' ObjectMeta (from the shipped Namespace schema): the `metadata` of every object."""
    versions = _builtin_versions("", "namespace")
    return dict(versions["v1"].schema["properties"]["metadata"])


# --- the registry ---------------------------------------------------------------------------------------


def _iter_schema_files(path: Path) -> Iterator[Path]:
    if path.is_dir():
        yield from sorted(
            p
            for p in path.rglob("*")
            if p.suffix in YAML_SUFFIXES
            and p.is_file()
            and p.name not in ("kustomization.yaml", "kustomization.yml")
        )
    else:
        yield path


class SchemaRegistry:
    """Schemas by group + kind + version; see the module docstring for the lookup order."""

    def __init__(self, *, shipped: bool = True) -> None:
        self._shipped = shipped
        self._added: _KindTable = {}
        self._lookups: dict[tuple[str, str], KindSchema | None] = {}

    @classmethod
    def default(cls, extra: Iterable[Path | str] = ()) -> SchemaRegistry:
        """The shipped schemas plus CRD/XRD files or folders in `extra` (later ones win); bad YAML in them
        raises InputError."""
        registry = cls()
        for raw in extra:
            registry.add_files(Path(raw))
        return registry

    def add_files(self, path: Path) -> None:
        """Register every CRD and XRD in a YAML file or folder (other documents are ignored)."""
        if not path.exists():
            raise InputError.single(str(path), "no such CRD file or folder")
        for doc in load_paths(list(_iter_schema_files(path))):
            try:
                if is_crd(doc.obj):
                    self._add(crd_kind_schemas(doc.obj, doc.path))
                elif is_xrd(doc.obj):
                    self._add(xr_kind_schemas(doc.obj, doc.path))
            except ValueError as err:
                raise InputError.single(doc.path, f"document {doc.index}: {err}", line=doc.line) from None

    def add_crd(self, crd_obj: dict[str, Any], source: str = "<memory>") -> None:
        """Register an apiextensions.k8s.io/v1 CRD; it overrides any schema of the same group + kind."""
        self._add(crd_kind_schemas(crd_obj, source))

    def add_xrd(self, xrd_obj: dict[str, Any], source: str = "<memory>") -> None:
        """Register the XR kind a Crossplane XRD defines (every served version), as Crossplane serves it."""
        self._add(xr_kind_schemas(xrd_obj, source))

    def _add(self, kinds: list[KindSchema]) -> None:
        replaced: set[tuple[str, str]] = set()
        for ks in kinds:
            key = (ks.group, ks.kind)
            if key not in replaced:
                self._added[key] = {}
                replaced.add(key)
            self._added[key][ks.version] = ks
        if kinds:
            self._lookups.clear()

    def versions(self, group: str, kind: str) -> dict[str, KindSchema]:
        """Every served version of a kind, from the first source that knows the kind."""
        if (group, kind) in self._added:
            return self._added[(group, kind)]
        if not self._shipped:
            return {}
        found = _shipped_crd_versions(group, kind)
        if not found:
            candidates = _builtin_versions(group, kind.lower())
            found = {v: ks for v, ks in candidates.items() if ks.kind == kind}
        return found

    def lookup(self, api_version: str, kind: str) -> KindSchema | None:
        """The schema of `kind` in `api_version`, or None when that version of the kind is not known."""
        key = (api_version, kind)
        if key not in self._lookups:
            group, version = split_api_version(api_version)
            self._lookups[key] = self.versions(group, kind).get(version)
        return self._lookups[key]
