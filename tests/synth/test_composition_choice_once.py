"""Each XR's Composition is chosen once per distinct type and selector (synthesis.xr.environment_objects):
the XRs come out as choosing for each one would make them, and an XR no Composition matches is still refused
by name."""

from __future__ import annotations

from typing import Any

import pytest

from aiplane.crossplane import render
from aiplane.project import Settings
from aiplane.synthesis import xr
from aiplane.synthesis.pipeline import Synthesis


def _compositions(synthesis: Synthesis) -> list[dict[str, Any]]:
    return [o for o in synthesis.objects() if o["kind"] == "Composition"]


def test_the_choice_is_made_once_per_type_and_selector_with_the_same_xrs(
    settings: Settings, synthesis: Synthesis, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = next(e for e in synthesis.environments if e.settings.name == "prod")
    compositions = _compositions(synthesis)
    asked: list[str] = []

    def counted(obj: Any, candidates: Any) -> dict[str, Any]:
        asked.append(obj["kind"])
        return render.select_composition(obj, candidates)

    monkeypatch.setattr(xr, "select_composition", counted)
    objects = xr.environment_objects(env, settings, synthesis.project.catalog, compositions)
    calls = len(asked)
    xrs = [o for o in objects if "crossplane" in o.get("spec", {})]
    each = [xr.build_xr(i, env, settings, synthesis.project.catalog, compositions)
            for i in sorted(env.items, key=lambda i: (i.api.kind, i.name))]
    assert xrs == each
    selectors = {
        (i.api.kind, tuple(sorted((i.api.composition_labels(i.spec) if i.api.composition_labels else {}).items())))
        for i in env.items
    }
    assert calls == len(selectors) < len(each)

def test_an_xr_no_composition_matches_is_refused_by_name(settings: Settings, synthesis: Synthesis) -> None:
    env = next(e for e in synthesis.environments if e.settings.name == "prod")
    others = [c for c in _compositions(synthesis) if c["spec"]["compositeTypeRef"]["kind"] != "GPUNodePool"]
    first = sorted(i.name for i in env.items if i.api.kind == "GPUNodePool")[0]
    with pytest.raises(ValueError, match=f"GPUNodePool {first}: expected exactly one matching Composition"):
        xr.environment_objects(env, settings, synthesis.project.catalog, others)
