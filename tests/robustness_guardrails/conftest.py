"""Shared by the robustness tests of the guardrails: the repository's rule context and its fixtures."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from aiplane.policy import RuleContext, default_context
from aiplane.project import Settings
from aiplane.yamlio import load_documents

FIXTURES = Path(__file__).resolve().parents[1] / "policy" / "fixtures"
_CACHE: dict[tuple[str, str], list[dict[str, Any]]] = {}


@pytest.fixture(scope="session")
def rule_ctx(settings: Settings) -> RuleContext:
    return default_context(settings)


def fixture(rule_id: str, name: str) -> list[dict[str, Any]]:
    """A fresh copy of a guardrail fixture's manifest set (tests change one field of it)."""
    key = (rule_id, name)
    if key not in _CACHE:
        _CACHE[key] = [d.obj for d in load_documents(FIXTURES / rule_id / name)]
    return copy.deepcopy(_CACHE[key])
