"""`aiplane rightsize` output: text for people, json for tools, markdown for pull requests. Every
recommendation carries its evidence, its $/h and $/month change and the guardrails' verdict on the result."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiplane.finops.costing import HOURS_PER_MONTH
from aiplane.policy import Violation
from aiplane.rightsizing.history import METRICS, History
from aiplane.rightsizing.recommend import HEADROOM, MIN_DAYS, MIN_SAMPLES, Recommendation


@dataclass(frozen=True)
class Cost:
    worst_before: float
    worst_after: float
    expected_before: float
    expected_after: float

    @property
    def delta(self) -> float:
        """Change of the worst case (max scale at on-demand prices, what max-cost-per-hour judges)."""
        return self.worst_after - self.worst_before


@dataclass(frozen=True)
class Outcome:
    environment: str
    history: History
    recommendations: Sequence[Recommendation]
    costs: dict[str, Cost]  # by str(workload)
    violations: Sequence[Violation]  # the guardrails on the recommended environment
    written: bool = False

    @property
    def refused(self) -> bool:
        return any(v.blocking for v in self.violations)


def as_json(outcome: Outcome) -> str:
    window = outcome.history.window
    return json.dumps(
        {
            "environment": outcome.environment,
            "source": outcome.history.source,
            "window": {"start": window.start.isoformat(), "end": window.end.isoformat()},
            "rails": {"headroom": HEADROOM, "minDays": MIN_DAYS, "minSamples": MIN_SAMPLES},
            "notes": outcome.history.notes,
            "recommendations": [_rec_json(r, outcome.costs.get(str(r.workload))) for r in outcome.recommendations],
            "guardrails": [v.as_json() for v in outcome.violations],
            "writeAllowed": not outcome.refused,
            "written": outcome.written,
        },
        indent=2,
    )


def _rec_json(rec: Recommendation, cost: Cost | None) -> dict[str, Any]:
    return {
        "kind": rec.workload.kind,
        "name": rec.workload.name,
        "changes": [{"field": c.path, "from": c.old, "to": c.new} for c in rec.changes],
        "noRecommendation": rec.no_recommendation,
        "reasons": rec.reasons,
        "evidence": [
            {"metric": e.metric, "unit": METRICS[e.metric], "samples": e.samples, "first": e.first.isoformat(),
             "last": e.last.isoformat(), "days": round(e.days, 2), "p50": round(e.p50, 3), "p95": round(e.p95, 3),
             "max": round(e.max, 3)}
            for e in rec.evidence
        ],
        "cost": None if cost is None or not rec.changes else {
            "worstCaseBefore": round(cost.worst_before, 4), "worstCaseAfter": round(cost.worst_after, 4),
            "expectedBefore": round(cost.expected_before, 4), "expectedAfter": round(cost.expected_after, 4),
            "deltaPerHour": round(cost.delta, 4), "deltaPerMonth": round(cost.delta * HOURS_PER_MONTH, 2),
        },
    }


def _cost_line(cost: Cost) -> str:
    return (f"${cost.worst_before:.2f}/h → ${cost.worst_after:.2f}/h worst case ({cost.delta:+.2f} $/h, "
            f"{cost.delta * HOURS_PER_MONTH:+,.0f} $/month); expected ${cost.expected_before:.2f}/h → "
            f"${cost.expected_after:.2f}/h")


def _verdict(outcome: Outcome) -> list[str]:
    blocking = [v for v in outcome.violations if v.blocking]
    if not blocking:
        lines = ["guardrails on the result: pass" + (" (advisories below)" if outcome.violations else "")]
    else:
        lines = [f"guardrails on the result: {len(blocking)} mandatory violation(s); --write is refused"]
    lines += [f"  [{v.enforcement}] {v.rule}: {v.kind}/{v.name}: {v.message}" for v in outcome.violations]
    return lines


def as_text(outcome: Outcome, markdown: bool = False) -> str:
    h = outcome.history
    bullet = "- " if markdown else "  "
    out = [
        ("## " if markdown else "") + f"rightsize {outcome.environment}: {h.source}, "
        f"{h.window.start:%Y-%m-%d %H:%M} → {h.window.end:%Y-%m-%d %H:%M} UTC (hourly maxima; headroom "
        f"{HEADROOM:.0%}; at least {MIN_SAMPLES} samples over {MIN_DAYS} days)",
    ]
    out += [f"note: {n}" for n in h.notes]
    for rec in outcome.recommendations:
        out.append("")
        out.append(("### " if markdown else "") + str(rec.workload))
        if rec.no_recommendation:
            out.append(f"{bullet}no recommendation: {rec.no_recommendation}")
        elif not rec.changes:
            out.append(f"{bullet}no change: the history fits the current sizing")
        for change in rec.changes:
            if isinstance(change.new, list) and any(isinstance(v, dict) for v in change.new):
                # A schedule: one line per entry (the JSON output has them as data).
                out.append(f"{bullet}{change.path}: {len(change.old)} → {len(change.new)} entries")
                out += [f"{bullet}  {', '.join(f'{k} {v}' for k, v in entry.items())}" for entry in change.new]
            else:
                out.append(f"{bullet}{change.path}: {change.old} → {change.new}")
        out += [f"{bullet}why: {r}" for r in rec.reasons]
        for e in rec.evidence:
            out.append(f"{bullet}evidence: {e.metric} ({METRICS[e.metric]}) p50 {e.p50:.2f}, p95 {e.p95:.2f}, "
                       f"max {e.max:.2f} from {e.samples} samples, {e.first:%Y-%m-%d} → {e.last:%Y-%m-%d} "
                       f"({e.days:.1f} days)")
        cost = outcome.costs.get(str(rec.workload))
        if cost is not None and rec.changes:
            out.append(f"{bullet}cost: {_cost_line(cost)}")
    out.append("")
    out += _verdict(outcome)
    if outcome.written:
        out.append("written: the environment file now holds these recommendations")
    return "\n".join(out)
