"""validate_documents(failing_only=True), which `check` and `synth` use: the same failing findings, in the
same order, and none of the others (the skipped transition rules of every XR, warnings)."""

from __future__ import annotations

import copy

import pytest

from aiplane.project import Settings
from aiplane.synthesis.pipeline import Synthesis
from aiplane.validation import SchemaRegistry, validate_documents
from aiplane.validation.findings import Finding


@pytest.mark.parametrize("strict", [True, False])
def test_failing_only_keeps_exactly_the_failing_findings(settings: Settings, synthesis: Synthesis, strict: bool) -> None:
    objects = copy.deepcopy(synthesis.objects())
    pool = next(o for o in objects if o["kind"] == "GPUNodePool")
    pool["spec"]["scaling"]["maxSize"] = "many"  # a schema error
    unknown = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}  # no schema: fails only strict
    objects.append(unknown)

    def report(failing_only: bool) -> list[Finding]:
        registry = SchemaRegistry.default(extra=list(settings.crds))
        return validate_documents(objects, registry, strict=strict, failing_only=failing_only).findings

    every = report(False)
    failing = report(True)
    assert failing == [f for f in every if f.fails(strict)]
    assert any(f.check == "cel-transition" for f in every)
    assert {f.kind for f in failing} == ({"GPUNodePool", "Widget"} if strict else {"GPUNodePool"})
