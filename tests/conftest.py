"""Shared fixtures: the repository's settings and one in-memory synthesis per test session
(cdk8s keeps one Node child per process, so synthesizing once keeps the suite fast)."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiplane.project import Settings, load_settings
from aiplane.synthesis import Synthesis, synthesize

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def settings() -> Settings:
    return load_settings(REPO)


@pytest.fixture(scope="session")
def synthesis(settings: Settings) -> Synthesis:
    return synthesize(settings)
