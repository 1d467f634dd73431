"""The conformance suite: the real Crossplane engine (built by conformance/build_tools.py into .tools/) judges
what aiplane generates. Run it with `make conformance`; it fails, never skips, when the tools are missing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from realengine import TOOLS, Engine, running_engine


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    if not (TOOLS / "manifest.json").exists():
        pytest.fail("the real Crossplane tools are not built: run `make conformance` (conformance/build_tools.py)")
    with running_engine() as eng:
        yield eng
