"""Shared by the guardrail tests: the rule context of the repository (catalog, platform APIs, CRD
schemas) and the platform's XRDs."""

from __future__ import annotations

from typing import Any

import pytest

from aiplane.policy import RuleContext, default_context
from aiplane.project import Settings
from aiplane.synthesis.pipeline import Synthesis


@pytest.fixture(scope="session")
def ctx(settings: Settings) -> RuleContext:
    return default_context(settings)


@pytest.fixture(scope="session")
def platform_xrds(synthesis: Synthesis) -> list[dict[str, Any]]:
    """The platform's XRDs: validation needs them to know the XR kinds a fixture holds."""
    return [o for o in synthesis.objects() if o["kind"] == "CompositeResourceDefinition"]
