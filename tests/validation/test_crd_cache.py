"""The JSON cache of the shipped CRDs matches their YAML, document for document (scripts/cache_crds.py
rewrites it), and a cache made from other YAML is never used."""

from __future__ import annotations

from importlib import resources

import pytest

from aiplane.validation.crdcache import cached_documents
from aiplane.yamlio import YAML_SUFFIXES, load_documents_from_text

CRDS = resources.files("aiplane").joinpath("data", "crds")
NAMES = sorted(e.name for e in CRDS.iterdir() if e.name.endswith(YAML_SUFFIXES))


@pytest.mark.parametrize("name", NAMES)
def test_every_shipped_crd_has_a_cache_equal_to_its_yaml(name: str) -> None:
    text = CRDS.joinpath(name).read_text(encoding="utf-8")
    cached = cached_documents(name, text)
    assert cached is not None, f"no current cache for {name}: run scripts/cache_crds.py"
    assert cached == [d.obj for d in load_documents_from_text(text, name)]


def test_a_cache_of_other_yaml_is_ignored() -> None:
    name = NAMES[0]
    text = CRDS.joinpath(name).read_text(encoding="utf-8")
    assert cached_documents(name, text + "\n# changed\n") is None
    assert cached_documents("no-such-file.yaml", text) is None
