"""The rules reuse the XR specs synthesis validated (RuleContext.known_specs) only where that cannot change a
verdict: the reused spec is the one validating the XR's spec would give, and an XR whose spec no longer is
the synthesized dump is validated afresh."""

from __future__ import annotations

import copy

from aiplane.policy import default_context, load_policy_config, run_rules
from aiplane.project import Settings
from aiplane.synthesis.pipeline import Synthesis


def _violations(objects: list[dict], ctx, settings: Settings) -> list[tuple[str, str, str]]:
    return sorted((v.rule, v.name, v.message) for v in run_rules(objects, ctx, load_policy_config(settings)))


def test_every_reused_spec_is_what_validating_the_xr_gives(settings: Settings, synthesis: Synthesis) -> None:
    ctx = default_context(settings, synthesis)
    xrs = [o for o in synthesis.objects() if ctx.api_of(o) is not None]
    assert len(xrs) >= 10 and len(ctx.known_specs) == len(xrs)
    for xr in xrs:
        api = ctx.api_of(xr)
        assert api is not None
        raw = {k: v for k, v in xr["spec"].items() if k != "crossplane"}
        reused = ctx.spec_of(xr)
        assert reused is ctx.known_specs[(xr["kind"], xr["metadata"]["namespace"], xr["metadata"]["name"])]
        assert reused == api.spec.model_validate(raw)


def test_the_verdicts_are_the_same_with_and_without_reuse(settings: Settings, synthesis: Synthesis) -> None:
    objects = copy.deepcopy(synthesis.objects())
    # A violation to find: one pool's maximum scale far above its cost limit.
    pool = next(o for o in objects if o["kind"] == "GPUNodePool")
    pool["spec"]["scaling"]["maxSize"] = 500
    with_reuse = _violations(objects, default_context(settings, synthesis), settings)
    without = _violations(objects, default_context(settings), settings)
    assert with_reuse == without
    assert any(rule == "max-cost-per-hour" and name == pool["metadata"]["name"] for rule, name, _ in with_reuse)


def test_an_xr_changed_after_synthesis_is_validated_again(settings: Settings, synthesis: Synthesis) -> None:
    ctx = default_context(settings, synthesis)
    pool = copy.deepcopy(next(o for o in synthesis.objects() if o["kind"] == "GPUNodePool"))
    pool["spec"]["scaling"]["maxSize"] += 1
    key = (pool["kind"], pool["metadata"]["namespace"], pool["metadata"]["name"])
    assert ctx.spec_of(pool) is not ctx.known_specs[key]
    assert ctx.spec_of(pool).scaling.maxSize == ctx.known_specs[key].scaling.maxSize + 1
