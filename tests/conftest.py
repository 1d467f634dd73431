"""Shared fixtures: the repository's settings and one in-memory synthesis per test session
(cdk8s keeps one Node child per process, so synthesizing once keeps the suite fast)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from aiplane.project import Settings, load_settings
from aiplane.synthesis.pipeline import Synthesis, synthesize

REPO = Path(__file__).resolve().parents[1]

# CI replays the same generated examples on every run (a red build always means a code change); local
# runs keep exploring new ones and remember failures in .hypothesis/.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


@pytest.fixture(scope="session")
def settings() -> Settings:
    return load_settings(REPO)


@pytest.fixture(scope="session")
def synthesis(settings: Settings) -> Synthesis:
    return synthesize(settings)
