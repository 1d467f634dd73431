"""The shipped CRD index: each shipped file holds one CRD, and the index read from the files' first lines
(aiplane.validation.registry._shipped_crd_index, which no longer reads whole files) names every kind the
files serve, exactly as parsing every file whole does."""

from __future__ import annotations

from importlib import resources

from aiplane.validation.registry import _shipped_crd_index, is_crd
from aiplane.yamlio import YAML_SUFFIXES, load_documents_from_text

CRDS = resources.files("aiplane").joinpath("data", "crds")
NAMES = sorted(e.name for e in CRDS.iterdir() if e.name.endswith(YAML_SUFFIXES))


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
