"""XRs applied without aiplane (kubectl, another GitOps tool) get what aiplane would have filled in, through
the XRD's own defaults: the API server applies them, so the Compositions' Required inputs are there."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from aiplane.crossplane.render import render_composition
from aiplane.project import load_settings
from aiplane.validation.defaults import apply_plan, build_plan

MANIFESTS = load_settings(Path(__file__).resolve().parents[2]).manifests


def _load(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(path.read_text())
    return doc


def test_an_endpoint_without_data_capture_gets_its_defaults_and_every_resource() -> None:
    xrd = _load(MANIFESTS / "platform/apis/compositeresourcedefinition-modelendpoints.ai.aiplane.io.yaml")
    xr = _load(MANIFESTS / "environments/dev/modelendpoint-sentiment.yaml")
    comp = _load(MANIFESTS / f"platform/apis/composition-{xr['spec']['crossplane']['compositionRef']['name']}.yaml")
    by_hand = copy.deepcopy(xr)
    del by_hand["spec"]["dataCapture"]
    plan = build_plan(xrd["spec"]["versions"][0]["schema"]["openAPIV3Schema"])
    assert plan is not None
    defaulted = apply_plan(plan, by_hand)
    assert defaulted["spec"]["dataCapture"] == {"samplingPercent": 100, "prefix": "captures"}
    rendering = render_composition(defaulted, comp)
    # The execution role needs spec.dataCapture.prefix (Required): nothing is skipped (autoscaling, which this
    # XR does not declare, is rendered by P&T and left out by function-aiplane, so P&T never holds it unready).
    assert rendering.skipped == []
