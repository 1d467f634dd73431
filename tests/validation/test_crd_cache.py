"""The JSON cache of the shipped CRDs matches their YAML, document for document, and its compiled forms
match what the compiler makes of them now (scripts/cache_crds.py rewrites both); a cache made from other YAML
is never used, and a compiled form made by another compiler is ignored. And the index of the shipped CRDs:
each shipped file holds one CRD, and the index read from the files' first lines
(aiplane.validation.registry._shipped_crd_index, which does not read whole files) names every kind the
files serve, exactly as parsing every file whole does."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from aiplane.validation import crdcache
from aiplane.validation.checker import compile_kind, compiled_form
from aiplane.validation.crdcache import cached_crd
from aiplane.validation.registry import _shipped_crd_index, crd_kind_schemas, is_crd
from aiplane.yamlio import YAML_SUFFIXES, load_documents_from_text

CRDS = resources.files("aiplane").joinpath("data", "crds")
NAMES = sorted(e.name for e in CRDS.iterdir() if e.name.endswith(YAML_SUFFIXES))


@pytest.mark.parametrize("name", NAMES)
def test_every_shipped_crd_has_a_cache_equal_to_its_yaml_and_compiler(name: str) -> None:
    text = CRDS.joinpath(name).read_text(encoding="utf-8")
    cached = cached_crd(name, text)
    assert cached is not None, f"no current cache for {name}: run scripts/cache_crds.py"
    documents, compiled = cached
    fresh = [d.obj for d in load_documents_from_text(text, name)]
    assert documents == fresh
    kinds = [ks for obj in fresh if is_crd(obj) for ks in crd_kind_schemas(obj, name)]
    assert kinds, "a shipped CRD file serves no version"
    # JSON round trip: what the cache holds is JSON, so compare JSON with JSON.
    expected = {f"{ks.kind}/{ks.version}": json.loads(json.dumps(compiled_form(ks))) for ks in kinds}
    assert compiled == expected, f"stale compiled form in the cache of {name}: run scripts/cache_crds.py"


def test_a_cache_of_other_yaml_is_ignored() -> None:
    name = NAMES[0]
    text = CRDS.joinpath(name).read_text(encoding="utf-8")
    assert cached_crd(name, text + "\n# changed\n") is None
    assert cached_crd("no-such-file.yaml", text) is None


def test_a_compiled_form_of_another_compiler_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    name = NAMES[0]
    text = CRDS.joinpath(name).read_text(encoding="utf-8")
    monkeypatch.setattr(crdcache, "compiler_digest", lambda: "another compiler")
    cached = cached_crd(name, text)
    assert cached is not None and cached[0] and cached[1] == {}


def test_a_kind_compiled_from_its_cache_judges_as_one_compiled_afresh() -> None:
    """The loaded plans (defaults, rules with their costs and refusals) are the ones the compiler builds."""
    name = "sagemaker.aws.m.upbound.io_endpointconfigurations.yaml"
    text = CRDS.joinpath(name).read_text(encoding="utf-8")
    cached = cached_crd(name, text)
    assert cached is not None
    documents, compiled = cached
    crd = next(o for o in documents if is_crd(o))
    loaded_kind, fresh_kind = crd_kind_schemas(crd, name)[0], crd_kind_schemas(crd, name)[0]
    loaded_kind.precompiled = compiled[f"{loaded_kind.kind}/{loaded_kind.version}"]
    loaded, fresh = compile_kind(loaded_kind), compile_kind(fresh_kind)
    assert loaded.defaults == fresh.defaults and loaded.defaults is not None
    assert loaded.rules == fresh.rules
    assert loaded.rules is not None and loaded.rules.props  # the provider's required-field rules on spec


# The index of the shipped CRDs ----------------------------------------------------------------------------

def _parsed(name: str) -> list[dict[str, object]]:
    return [d.obj for d in load_documents_from_text(CRDS.joinpath(name).read_text(encoding="utf-8"), name)]


def test_every_shipped_crd_file_holds_exactly_one_crd() -> None:
    # What lets the index read only each file's head: a second CRD in a file would go unindexed.
    several = {name: len(docs) for name in NAMES if len(docs := _parsed(name)) != 1}
    assert several == {}
    assert all(is_crd(_parsed(name)[0]) for name in NAMES)


def test_the_index_from_the_heads_equals_the_index_from_the_whole_files() -> None:
    whole: dict[tuple[str, str], str] = {}
    for name in NAMES:
        (crd,) = _parsed(name)
        spec = crd["spec"]
        assert isinstance(spec, dict)
        whole[(spec["group"], spec["names"]["kind"])] = name
    assert _shipped_crd_index() == whole
