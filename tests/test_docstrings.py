"""Attribute docstrings (aiplane.docstrings): one parse per module, kept beside the module's bytecode and used
only while the module's modification time and size still match; never written where Python would not write
bytecode; a cache that cannot be read or does not match is parsed again."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path

import pytest

from aiplane import docstrings

SOURCE = '''
from pydantic import BaseModel
from aiplane.docstrings import AttributeDocstrings


class Model(AttributeDocstrings, BaseModel):
    size: int = 1
    """How many."""

    name: str
    """What it is called,
    on two lines."""


class Outer:
    class Inner(AttributeDocstrings, BaseModel):
        flag: bool = False
        """Whether."""
'''
EXPECTED = {
    "Model": {"size": "How many.", "name": "What it is called,\non two lines."},
    "Outer": {},
    "Outer.Inner": {"flag": "Whether."},
}


@pytest.fixture
def module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "described.py"
    path.write_text(SOURCE, encoding="utf-8")
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    docstrings._module_docstrings.cache_clear()
    yield path
    docstrings._module_docstrings.cache_clear()


def _cache(path: Path) -> Path:
    return Path(importlib.util.cache_from_source(str(path)).removesuffix(".pyc") + ".docstrings.json")



def _no_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(filename: str) -> dict:
        raise AssertionError(f"parsed {filename} again")

    monkeypatch.setattr(docstrings, "_parse_docstrings", refuse)


def test_the_docstrings_become_the_fields_descriptions(module: Path) -> None:
    spec = importlib.util.spec_from_file_location("described", module)
    assert spec is not None and spec.loader is not None
    loaded = importlib.util.module_from_spec(spec)
    sys.modules["described"] = loaded
    try:
        spec.loader.exec_module(loaded)
        assert loaded.Model.model_fields["name"].description == "What it is called,\non two lines."
        assert loaded.Outer.Inner.model_fields["flag"].description == "Whether."
    finally:
        del sys.modules["described"]


def test_a_parse_is_kept_and_reused_while_the_module_is_unchanged(
    module: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert docstrings._module_docstrings(str(module)) == EXPECTED
    assert json.loads(_cache(module).read_text(encoding="utf-8"))["classes"] == EXPECTED
    docstrings._module_docstrings.cache_clear()
    _no_parse(monkeypatch)
    assert docstrings._module_docstrings(str(module)) == EXPECTED


def test_a_changed_module_is_parsed_again(module: Path) -> None:
    docstrings._module_docstrings(str(module))
    module.write_text(SOURCE.replace("How many.", "How many, at most."), encoding="utf-8")
    docstrings._module_docstrings.cache_clear()
    assert docstrings._module_docstrings(str(module))["Model"]["size"] == "How many, at most."


def test_a_module_changed_within_the_same_size_and_time_keeps_the_old_text_as_python_does(module: Path) -> None:
    """The stamp is Python's own bytecode check (mtime and size): documented, not hidden."""
    docstrings._module_docstrings(str(module))
    stat = module.stat()
    module.write_text(SOURCE.replace("How many.", "How MANY."), encoding="utf-8")
    os.utime(module, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    docstrings._module_docstrings.cache_clear()
    assert docstrings._module_docstrings(str(module))["Model"]["size"] == "How many."


@pytest.mark.parametrize("content", ["not json", "[]", '{"stamp": 1}', None])
def test_a_cache_that_cannot_be_used_is_parsed_again(module: Path, content: str | None) -> None:
    docstrings._module_docstrings(str(module))
    cache = _cache(module)
    if content is None:  # the right stamp, a wrong shape
        data = json.loads(cache.read_text(encoding="utf-8"))
        data["classes"] = {"Model": {"size": 3}}
        content = json.dumps(data)
    cache.write_text(content, encoding="utf-8")
    docstrings._module_docstrings.cache_clear()
    assert docstrings._module_docstrings(str(module)) == EXPECTED


def test_nothing_is_written_where_python_writes_no_bytecode(module: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    assert docstrings._module_docstrings(str(module)) == EXPECTED
    assert not _cache(module).exists()


def test_a_folder_that_cannot_be_written_costs_nothing_but_the_parse(
    module: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pycache = _cache(module).parent
    pycache.mkdir()
    pycache.chmod(0o500)
    try:
        assert docstrings._module_docstrings(str(module)) == EXPECTED
        assert not _cache(module).exists() or os.geteuid() == 0  # root writes anyway
        assert not list(pycache.glob("*.tmp"))
    finally:
        pycache.chmod(0o700)
