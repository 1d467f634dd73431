"""The API-docs template's compiled code is kept beside it (aiplane.pycache); jinja2 itself refuses code from
another source or another Python/jinja2, so a damaged or stale cache changes nothing but the time."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from aiplane.project import Settings
from aiplane.synthesis import api_docs
from aiplane.synthesis.pipeline import Synthesis
from aiplane.synthesis.project_files import project_files


@pytest.fixture
def template_cache(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    api_docs._template.cache_clear()
    api_docs._template()
    path = api_docs._BesideThisModule.path
    assert path is not None and "/data/" not in path  # never among the package data the wheel carries
    kept = Path(path).read_bytes() if Path(path).exists() else None
    yield Path(path)
    api_docs._template.cache_clear()
    if kept is not None:
        Path(path).write_bytes(kept)


def _compiles(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    compiled: list[str | None] = []
    original = api_docs.jinja2.Environment.compile

    def spy(self, source, name=None, filename=None, raw=False, defer_init=False):  # type: ignore[no-untyped-def]
        compiled.append(name)
        return original(self, source, name, filename, raw, defer_init)

    monkeypatch.setattr(api_docs.jinja2.Environment, "compile", spy)
    return compiled


def test_the_cache_is_used_when_it_matches(template_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert template_cache.exists()
    compiled = _compiles(monkeypatch)
    api_docs._template.cache_clear()
    api_docs._template()
    assert compiled == []


@pytest.mark.parametrize("damage", [b"", b"not jinja2 bytecode", None])
def test_a_damaged_or_foreign_cache_is_compiled_afresh_and_renders_the_same(
    template_cache: Path,
    monkeypatch: pytest.MonkeyPatch,
    synthesis: Synthesis,
    settings: Settings,
    damage: bytes | None,
) -> None:
    expected = project_files(synthesis, settings)
    good = template_cache.read_bytes()
    template_cache.write_bytes(good[:-20] + b"\x00" * 20 if damage is None else damage)
    compiled = _compiles(monkeypatch)
    api_docs._template.cache_clear()
    assert project_files(synthesis, settings) == expected
    assert compiled == ["api.md.j2"]
    assert template_cache.read_bytes() != damage
