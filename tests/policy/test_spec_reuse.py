"""The rules reuse the XR specs synthesis validated (RuleContext.known_specs) only where that cannot change a
verdict: for the very XR objects the synthesis built, whose specs are the dumps of those specs; a copy of one,
changed or not, is validated afresh."""

from __future__ import annotations

import copy
import dataclasses
import sys
from pathlib import Path

import yaml

from aiplane.authoring.api import priced_hourly_cost
from aiplane.policy import default_context, load_policy_config, run_rules
from aiplane.project import Settings, load_settings
from aiplane.synthesis.pipeline import Synthesis, synthesize

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "synth"))
from project_copy import copy_project


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
        assert reused is ctx.known_specs[id(xr)][1]
        assert reused == api.spec.model_validate(raw)
        assert ctx.spec_values(xr) == reused.model_dump(mode="json", by_alias=True)
    assert not ctx.spec_cache  # nothing was validated again


def _breaking_project(tmp_path: Path) -> Settings:
    """A copy of the project whose dev pool is far above its cost limit and the environment budget (and its
    quota), beside a production pool on spot."""
    copy_project(tmp_path)
    dev = yaml.safe_load((tmp_path / "environments" / "dev.yaml").read_text(encoding="utf-8"))
    dev["nodePools"][0]["scaling"]["maxSize"] = 60
    dev["nodePools"].append({**copy.deepcopy(dev["nodePools"][0]), "name": "interrupted",
                             "finops": {"tier": "production", "spotEligible": False}})
    (tmp_path / "environments" / "dev.yaml").write_text(yaml.safe_dump(dev), encoding="utf-8")
    return load_settings(tmp_path)


def test_the_verdicts_are_the_same_with_and_without_reuse(tmp_path: Path) -> None:
    settings = _breaking_project(tmp_path)
    synthesis = synthesize(settings)
    reused_ctx = default_context(settings, synthesis)
    with_reuse = _violations(synthesis.objects(), reused_ctx, settings)
    fresh_ctx = default_context(settings)
    without = _violations(copy.deepcopy(synthesis.objects()), fresh_ctx, settings)
    assert with_reuse == without
    found = {rule for rule, _, _ in with_reuse}
    assert {"max-cost-per-hour", "spot-eligibility"} <= found
    xrs = sum(1 for o in synthesis.objects() if reused_ctx.api_of(o) is not None)
    assert not reused_ctx.spec_cache and len(fresh_ctx.spec_cache) == xrs


def test_a_copy_of_a_synthesized_xr_is_validated_again(settings: Settings, synthesis: Synthesis) -> None:
    ctx = default_context(settings, synthesis)
    original = next(o for o in synthesis.objects() if o["kind"] == "GPUNodePool")
    known = ctx.known_specs[id(original)][1]
    assert ctx.spec_of(original) is known
    pool = copy.deepcopy(original)
    assert ctx.spec_of(pool) is not known and ctx.spec_of(pool) == known
    pool["spec"]["scaling"]["maxSize"] += 1
    changed = copy.deepcopy(pool)
    assert ctx.spec_of(changed).scaling.maxSize == known.scaling.maxSize + 1


def test_every_reused_cost_is_what_pricing_the_xr_gives(settings: Settings, synthesis: Synthesis) -> None:
    """Synthesis priced each XR at its environment's spot discount (for the annotations); the budget rule
    asks for exactly that discount, so it reuses the figure, which must be what pricing the spec gives."""
    ctx = default_context(settings, synthesis)
    priced = 0
    for obj in synthesis.objects():
        known = ctx.known_costs.get(id(obj))
        if known is None or known[1][1] is None:
            continue
        discount, cost = known[1]
        api = ctx.api_of(obj)
        assert api is not None
        assert cost == priced_hourly_cost(api, ctx.spec_of(obj), ctx.catalog, discount)
        assert ctx.hourly_cost(obj, discount) is cost
        assert ctx.worst_case_cost(obj, 0.0) is cost
        priced += 1
    assert priced >= 5 and not ctx.cost_cache


def test_a_cost_at_another_discount_is_priced(tmp_path: Path) -> None:
    settings = _breaking_project(tmp_path)
    synthesis = synthesize(settings)
    ctx = default_context(settings, synthesis)
    pool = next(o for o in synthesis.objects() if o["kind"] == "GPUNodePool" and o["spec"]["capacity"] == "spot")
    discount, known = ctx.known_costs[id(pool)][1]
    assert known is not None and discount > 0.0
    other = ctx.hourly_cost(pool, 0.0)
    assert other is not None and other is not known
    assert other.worst_case == known.worst_case and other.expected == known.worst_case > known.expected


def test_a_cost_priced_with_another_catalog_is_not_reused(tmp_path: Path) -> None:
    settings = _breaking_project(tmp_path)
    synthesis = synthesize(settings)
    env = synthesis.environments[0]
    item = next(i for i in env.items if i.api.hourly_cost is not None)
    catalog = synthesis.project.catalog
    first = env.cost_of(item, catalog)
    assert env.cost_of(item, catalog) is first  # memoised
    other = dataclasses.replace(catalog)  # equal data, another catalog
    again = env.cost_of(item, other)
    assert again is not first and again == first
    # That environment's figure is now the other catalog's: the rules, pricing with the synthesis's, skip it.
    key = (item.api.kind, env.settings.namespace, item.name)
    assert all((o["kind"], o["metadata"]["namespace"], o["metadata"]["name"]) != key
               for o, _ in synthesis.known_costs().values())
