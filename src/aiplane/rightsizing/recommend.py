"""From a utilization history to recommendations for each node pool and endpoint, within the safety rails:

- never on too little data: MIN_DAYS and MIN_SAMPLES per metric a recommendation reads, else none, with why;
- never below the observed peak plus HEADROOM (node and instance counts, GPU memory, p95 utilization);
- production-critical tiers keep their on-demand base: onDemandBaseSize and minSize are never lowered, and
  their pools are never moved to spot; production-critical endpoints keep PRODUCTION_CRITICAL_MIN_INSTANCES;
- a smaller or cheaper instance type only of the same accelerator (utilization measured on one GPU model says
  nothing about another), from the catalog at the workload's region, and only when it is cheaper;
- spot only where the environment's spot policy allows the tier and the pool is `spotEligible` — the inputs
  the spot-eligibility rule reads; that rule (with every other guardrail) then judges the result.
Costs are not computed here: the command prices both environment files with finops.costing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aiplane.catalog.instances import Catalog
from aiplane.rightsizing.history import (
    CPU_UTILIZATION,
    GPU_MEMORY_USED_GIB,
    GPU_UTILIZATION,
    INSTANCES,
    INVOCATIONS,
    Evidence,
    History,
    Workload,
)
from aiplane.synthesis.environment import Environment, Item

# Capacity kept above what the history shows: the peak then uses at most 1/1.2 ≈ 83 % of what is
# recommended — the margin autoscaling targets of 70-80 % keep for the same reason: load grows between two
# reviews, and an hourly maximum can still miss a burst shorter than the metric's own sampling.
HEADROOM = 0.20
# A week covers every day of the weekly cycle once; less would size a pool from, say, a quiet weekend.
MIN_DAYS = 7
# Hourly samples: about 90 % of a week's 168 hours, so a few missing scrapes or hours without metrics
# collection do not block a recommendation, but a history full of holes does.
MIN_SAMPLES = 150
# SageMaker spreads an endpoint's instances over Availability Zones; with one instance an AZ or instance
# failure is an outage, so a production-critical endpoint keeps two.
PRODUCTION_CRITICAL_MIN_INSTANCES = 2
PRODUCTION_CRITICAL = "production-critical"


@dataclass(frozen=True)
class Change:
    field: tuple[str, ...]  # path inside the item, e.g. ("scaling", "maxSize")
    old: Any
    new: Any

    @property
    def path(self) -> str:
        return ".".join(self.field)


@dataclass
class Recommendation:
    workload: Workload
    environment_key: str  # nodePools, endpoints: where the item sits in the environment file
    changes: list[Change] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    no_recommendation: str | None = None  # why nothing is recommended (too little data...)


def with_headroom(value: float) -> float:
    return value * (1 + HEADROOM)


def recommend(env: Environment, history: History, catalog: Catalog) -> list[Recommendation]:
    out = []
    for item in sorted(env.items, key=lambda i: (i.api.kind, i.name)):
        if item.api.kind == "GPUNodePool":
            out.append(_pool(item, env, history, catalog))
        elif item.api.kind == "ModelEndpoint":
            rec = _endpoint(item, history, catalog)
            _endpoint_schedule(rec, item, history)
            out.append(rec)
    return out


def _endpoint_schedule(rec: Recommendation, item: Item, history: History) -> None:
    """With `autoscaling` declared: scheduled minimums ahead of the forecast's peaks (rightsizing.schedule)."""
    scaling = getattr(item.spec, "autoscaling", None)
    if scaling is None:
        return
    from aiplane.rightsizing.forecast import TooLittleHistory, forecast
    from aiplane.rightsizing.schedule import plan_schedule

    series = history.get(rec.workload, INVOCATIONS)
    try:
        prediction = forecast(series.samples if series is not None else ())
    except TooLittleHistory as err:
        rec.reasons.append(f"autoscaling.schedule kept: too little data: {err}")
        return
    if series is not None:
        rec.evidence.append(Evidence.of(series))
    plan = plan_schedule(prediction, scaling.minInstances, scaling.maxInstances, scaling.targetInvocationsPerInstance)
    old = [e.model_dump(exclude_none=True) for e in scaling.schedule]
    if plan.entries != old:
        rec.changes.append(Change(("autoscaling", "schedule"), old, plan.entries))
    rec.reasons.extend(plan.reasons)


def _enough(rec: Recommendation, history: History, metrics: Sequence[str]) -> dict[str, Evidence] | None:
    """Evidence per metric, or None (and rec.no_recommendation says why) when any is missing or too short."""
    found: dict[str, Evidence] = {}
    short: list[str] = []
    for metric in metrics:
        series = history.get(rec.workload, metric)
        if series is None or not series.samples:
            short.append(f"no {metric} history in {history.source}")
            continue
        evidence = Evidence.of(series)
        rec.evidence.append(evidence)
        if evidence.days < MIN_DAYS or evidence.samples < MIN_SAMPLES:
            short.append(f"{metric}: {evidence.samples} hourly samples over {evidence.days:.1f} days (needs "
                         f"{MIN_SAMPLES} over {MIN_DAYS} days)")
        found[metric] = evidence
    if short:
        rec.no_recommendation = "too little data: " + "; ".join(short)
        return None
    return found


def _pool(item: Item, env: Environment, history: History, catalog: Catalog) -> Recommendation:
    spec: Any = item.spec
    rec = Recommendation(Workload("GPUNodePool", item.name), item.api.environment_key)
    gpu_metrics = [GPU_UTILIZATION, GPU_MEMORY_USED_GIB]
    has_gpu_history = all(history.get(rec.workload, m) for m in gpu_metrics)
    evidence = _enough(rec, history, [INSTANCES, *(gpu_metrics if has_gpu_history else [])])
    if evidence is None:
        return rec
    critical = spec.finops.tier == PRODUCTION_CRITICAL
    scaling = spec.scaling
    nodes = evidence[INSTANCES]
    needed = math.ceil(with_headroom(nodes.max) - 1e-9)
    new_max = max(needed, scaling.minSize, 1)
    if new_max != scaling.maxSize:
        rec.changes.append(Change(("scaling", "maxSize"), scaling.maxSize, new_max))
        rec.reasons.append(
            f"peak {nodes.max:g} nodes + {HEADROOM:.0%} headroom = {new_max} "
            + ("(the pool reached its maxSize: demand may have been capped)" if nodes.max >= scaling.maxSize
               else f"(maxSize {scaling.maxSize} was never needed)")
        )
        if scaling.desiredSize is not None and scaling.desiredSize > new_max:
            rec.changes.append(Change(("scaling", "desiredSize"), scaling.desiredSize, new_max))
    if spec.capacity == "mixed":
        # maxSize bounds the spot node group only; the history counts the base too: the safe side.
        rec.reasons.append(f"mixed: node counts include the on-demand base of {spec.onDemandBaseSize}, so this "
                           "maxSize (which bounds the spot node group) errs high by up to the base")
    if critical:
        rec.reasons.append("production-critical: minSize and onDemandBaseSize are kept")
    if has_gpu_history:
        _pool_type(rec, spec, evidence, catalog)
    else:
        rec.reasons.append("instance type not judged: no GPU utilization and memory history")
    policy = env.settings.finops.spot
    if (spec.capacity == "onDemand" and spec.finops.spotEligible and not critical
            and spec.finops.tier in policy.allowedTiers):
        rec.changes.append(Change(("capacity",), "onDemand", "spot"))
        rec.reasons.append(f"spotEligible and tier {spec.finops.tier} is allowed on spot in this environment "
                           f"(expected discount {policy.expectedDiscount:.0%})")
    return rec


def _pool_type(rec: Recommendation, spec: Any, evidence: dict[str, Evidence], catalog: Catalog) -> None:
    if len(spec.instanceTypes) != 1:
        rec.reasons.append("instance type not judged: the pool lists several types")
        return
    regional = catalog.in_region(spec.region)
    current = regional.ec2_instance(spec.instanceTypes[0])
    util, memory = evidence[GPU_UTILIZATION], evidence[GPU_MEMORY_USED_GIB]
    busy_gpus = with_headroom(current.accelerator_count * util.p95 / 100)
    memory_needed = with_headroom(memory.max)
    fitting = [
        t for t in regional.ec2_instances.values()
        if t.accelerator_name == current.accelerator_name
        and t.accelerator_count >= busy_gpus
        and t.accelerator_memory_gib >= memory_needed
        # the busiest GPU's memory may be one shard of a model split over all of the node's GPUs
        and t.accelerator_count * t.accelerator_memory_gib >= memory_needed * current.accelerator_count
        and t.on_demand_usd_per_hour < current.on_demand_usd_per_hour
    ]
    if not fitting:
        rec.reasons.append(f"instance type kept: no cheaper {current.accelerator_name} type fits p95 GPU "
                           f"utilization {util.p95:.0f} % of {current.accelerator_count} GPU(s) and peak GPU "
                           f"memory {memory.max:.1f} GiB with {HEADROOM:.0%} headroom")
        return
    best = min(fitting, key=lambda t: (t.on_demand_usd_per_hour, t.name))
    rec.changes.append(Change(("instanceTypes",), list(spec.instanceTypes), [best.name]))
    rec.reasons.append(
        f"{best.name} ({best.accelerator_count} × {best.accelerator_name}, {best.accelerator_memory_gib:.1f} GiB "
        f"each) fits p95 GPU utilization {util.p95:.0f} % of {current.accelerator_count} GPU(s) "
        f"(≈{busy_gpus:.2f} GPUs with headroom) and peak GPU memory {memory.max:.1f} GiB"
    )


def _endpoint(item: Item, history: History, catalog: Catalog) -> Recommendation:
    spec: Any = item.spec
    rec = Recommendation(Workload("ModelEndpoint", item.name), item.api.environment_key)
    regional = catalog.in_region(spec.region)
    current = regional.sagemaker_instance(spec.instanceType)
    gpus = current.accelerator_count
    metrics = [CPU_UTILIZATION, *([GPU_UTILIZATION, GPU_MEMORY_USED_GIB] if gpus else [])]
    evidence = _enough(rec, history, metrics)
    if evidence is None:
        return rec
    load = evidence[GPU_UTILIZATION if gpus else CPU_UTILIZATION]
    floor = PRODUCTION_CRITICAL_MIN_INSTANCES if spec.finops.tier == PRODUCTION_CRITICAL else 1
    needed = math.ceil(with_headroom(spec.instanceCount * load.max / 100) - 1e-9)
    count = max(needed, floor)
    if spec.autoscaling is not None:
        rec.reasons.append("instanceCount kept: autoscaling decides the instance count")
    elif count != spec.instanceCount:
        rec.changes.append(Change(("instanceCount",), spec.instanceCount, count))
        rec.reasons.append(
            f"peak {load.metric} {load.max:.0f} % on {spec.instanceCount} instance(s) ≈ "
            f"{spec.instanceCount * load.max / 100:.2f} instances busy; + {HEADROOM:.0%} headroom = {needed}"
            + (f" (production-critical keeps at least {floor})" if needed < floor else "")
        )
    cpu = evidence[CPU_UTILIZATION]
    vcpus_needed = with_headroom(current.vcpus * cpu.p95 / 100)
    fitting = [
        t for t in regional.sagemaker_instances.values()
        if t.accelerator_name == current.accelerator_name
        and t.vcpus >= vcpus_needed
        and t.on_demand_usd_per_hour < current.on_demand_usd_per_hour
        and (not gpus or _endpoint_gpus_fit(t, current, evidence, catalog))
    ]
    if fitting:
        best = min(fitting, key=lambda t: (t.on_demand_usd_per_hour, t.name))
        rec.changes.append(Change(("instanceType",), spec.instanceType, best.name))
        rec.reasons.append(
            f"{best.name} ({best.vcpus} vCPUs"
            + (f", {best.accelerator_count} × {best.accelerator_name}" if gpus else "")
            + f") fits p95 CPU {cpu.p95:.0f} % of {current.vcpus} vCPUs (≈{vcpus_needed:.1f} vCPUs with headroom)"
            + (" and the GPU utilization and memory peaks" if gpus else "")
        )
    else:
        rec.reasons.append("instance type kept: no cheaper type of the same accelerator fits with headroom")
    return rec


def _endpoint_gpus_fit(candidate: Any, current: Any, evidence: dict[str, Evidence], catalog: Catalog) -> bool:
    util, memory = evidence[GPU_UTILIZATION], evidence[GPU_MEMORY_USED_GIB]
    if candidate.ec2_equivalent is None or current.ec2_equivalent is None:
        return False
    per_gpu = catalog.ec2_instance(candidate.ec2_equivalent).accelerator_memory_gib
    return (candidate.accelerator_count >= with_headroom(current.accelerator_count * util.p95 / 100)
            and per_gpu >= with_headroom(memory.max)
            and candidate.accelerator_count * per_gpu >= with_headroom(memory.max) * current.accelerator_count)
