"""The ForceNew data (src/aiplane/data/forcenew.yaml): every listed field path resolves in the shipped CRD
schema of its kind, and every managed-resource kind our Compositions compose has an entry."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

DATA = resources.files("aiplane").joinpath("data/forcenew.yaml")
CRDS = resources.files("aiplane").joinpath("data/crds")
COMPOSITIONS = Path(__file__).resolve().parent.parent / "manifests" / "platform" / "apis"
# Managed resources of provider-upjet-aws (namespaced .m groups and the legacy cluster-scoped groups).
MR_GROUP_SUFFIX = ".upbound.io"


def _data() -> dict[str, Any]:
    return yaml.safe_load(DATA.read_text())


def _kinds() -> list[dict[str, Any]]:
    return _data()["kinds"]


@cache
def _crd_schema(api_version: str, kind: str) -> dict[str, Any]:
    group, version = api_version.split("/")
    for entry in CRDS.iterdir():
        if not entry.name.startswith(group + "_"):
            continue
        crd = yaml.safe_load(entry.read_text())
        if crd["spec"]["group"] != group or crd["spec"]["names"]["kind"] != kind:
            continue
        for served in crd["spec"]["versions"]:
            if served["name"] == version:
                return served["schema"]["openAPIV3Schema"]
    raise AssertionError(f"no shipped CRD for {api_version} {kind}")


def _properties(node: dict[str, Any]) -> dict[str, Any]:
    if node.get("type") == "array":
        node = node.get("items") or {}
    return node.get("properties") or {}


def _resolve(schema: dict[str, Any], path: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(parent properties, node) of a dotted path; list-valued steps are crossed into their items."""
    node, parent = schema, {}
    for segment in path.split("."):
        parent = _properties(node)
        if segment not in parent:
            return None
        node = parent[segment]
    return parent, node


def _label(item: dict[str, Any]) -> str:
    return f"{item['apiVersion']} {item['kind']}"


def test_data_file_has_source_header() -> None:
    source = _data()["source"]
    assert source["date"] == "2026-12-01"
    assert source["providerUpjetAws"]["tag"] == "v2.6.0"
    assert len(source["providerUpjetAws"]["commit"]) == 40
    assert "6.34.0" in source["providerUpjetAws"]["terraformProvider"]


def test_kinds_are_unique_and_complete() -> None:
    seen = set()
    for item in _kinds():
        key = (item["apiVersion"], item["kind"])
        assert key not in seen, f"duplicate entry for {_label(item)}"
        seen.add(key)
        assert item["terraformResource"].startswith("aws_")
        assert item["terraformFile"].startswith("internal/service/")
        assert isinstance(item["forceNew"], list)


@pytest.mark.parametrize("item", _kinds(), ids=_label)
def test_every_path_resolves_in_the_crd(item: dict[str, Any]) -> None:
    schema = _crd_schema(item["apiVersion"], item["kind"])
    # A conditional attribute with no spec path is recorded as "(not in spec)".
    entries = item["forceNew"] + [e for e in item.get("conditional", []) if e["path"] != "(not in spec)"]
    paths = [entry["path"] for entry in entries]
    assert len(paths) == len(set(paths)), f"{_label(item)}: duplicate paths"
    for entry in entries:
        path = entry["path"]
        assert path.startswith("spec.forProvider."), f"{_label(item)}: {path}"
        resolved = _resolve(schema, path)
        assert resolved is not None, f"{_label(item)}: {path} is not in the CRD schema"
        parent, _ = resolved
        for ref in entry.get("refs", []):
            assert ref in parent, f"{_label(item)}: {path}: reference field {ref} is not in the CRD schema"


@pytest.mark.parametrize("item", _kinds(), ids=_label)
def test_not_in_spec_entries_really_are_absent(item: dict[str, Any]) -> None:
    schema = _crd_schema(item["apiVersion"], item["kind"])
    for entry in item.get("notInSpec", []):
        assert entry["why"] in ("external-name", "absent-from-crd")
        camel = ".".join(
            head + "".join(part[:1].upper() + part[1:] for part in rest)
            for head, *rest in (segment.split("_") for segment in entry["tf"].split("."))
        )
        assert _resolve(schema, "spec.forProvider." + camel) is None, f"{_label(item)}: {entry['tf']}"


def _composed_kinds() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            api_version, kind = node.get("apiVersion"), node.get("kind")
            if (
                isinstance(api_version, str)
                and isinstance(kind, str)
                and api_version.split("/")[0].endswith(MR_GROUP_SUFFIX)
            ):
                found.add((api_version, kind))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    files = sorted(COMPOSITIONS.glob("composition-*.yaml"))
    assert files, f"no compositions under {COMPOSITIONS}"
    for path in files:
        for document in yaml.safe_load_all(path.read_text()):
            walk(document)
    return found


def test_every_composed_kind_has_an_entry() -> None:
    composed = _composed_kinds()
    assert composed, "the compositions compose no managed resources"
    covered = {(item["apiVersion"], item["kind"]) for item in _kinds()}
    missing = sorted(composed - covered)
    assert not missing, f"composed kinds without ForceNew data: {missing}"
