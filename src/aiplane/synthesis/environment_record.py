"""The `aiplane-environment` ConfigMap: an environment's policy inputs (budget, spot policy, ethics
defaults) written beside its XRs, so the guardrails judge a manifest set alone — in `aiplane check`, and
in CrossGuard, which sees only what a stack registers. Writing and reading it live here together, so the
data keys have one definition."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from aiplane.project import MANAGED_BY, Settings
from aiplane.synthesis.environment import Environment

ENVIRONMENT_RECORD = "aiplane-environment"


@dataclass(frozen=True)
class EnvironmentRecord:
    """An environment's policy inputs, as the guardrails read them."""

    name: str
    namespace: str
    account_id: str
    budget_per_hour: float
    spot_allowed_tiers: tuple[str, ...]
    spot_expected_discount: float
    cost_center: str
    owner: str

    @classmethod
    def from_configmap(cls, obj: Mapping[str, Any]) -> EnvironmentRecord:
        data = obj.get("data") or {}
        return cls(
            name=str(data["environment"]),
            namespace=str(obj["metadata"].get("namespace", "")),
            account_id=str(data.get("accountId", "")),
            budget_per_hour=float(data["budgetPerHour"]),
            spot_allowed_tiers=tuple(t for t in str(data.get("spotAllowedTiers", "")).split(",") if t),
            spot_expected_discount=float(data.get("spotExpectedDiscount", 0)),
            cost_center=str(data.get("costCenter", "")),
            owner=str(data.get("owner", "")),
        )


# Where each data key comes from in the environment file (for findings on the record, e.g. the budget).
RECORD_SOURCES: dict[str, tuple[str, ...]] = {
    "environment": ("name",),
    "accountId": ("accountId",),
    "region": ("region",),
    "clusterName": ("clusterName",),
    "costCenter": ("finops", "costCenter"),
    "owner": ("finops", "owner"),
    "budgetPerHour": ("finops", "budgetPerHour"),
    "spotAllowedTiers": ("finops", "spot", "allowedTiers"),
    "spotExpectedDiscount": ("finops", "spot", "expectedDiscount"),
    "ethicsDemographicParityDifference": ("ethics", "thresholds", "critical", "demographicParityDifference"),
    "ethicsDemographicParityRatio": ("ethics", "thresholds", "critical", "demographicParityRatio"),
    "ethicsEqualizedOddsDifference": ("ethics", "thresholds", "critical", "equalizedOddsDifference"),
}


def exact(value: float) -> str:
    """A number as a ConfigMap value: the shortest decimal that reads back as the same float, never an
    exponent (`:g` wrote 10,000,000 as `1e+07` and kept only six significant digits)."""
    text = format(Decimal(repr(float(value))), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def is_environment_record(obj: Mapping[str, Any]) -> bool:
    return obj.get("kind") == "ConfigMap" and (obj.get("metadata") or {}).get("name") == ENVIRONMENT_RECORD


def environment_record(env: Environment, settings: Settings) -> dict[str, Any]:
    """The ConfigMap of one environment (read back by EnvironmentRecord.from_configmap)."""
    s = env.settings
    data = {
        "environment": s.name,
        "accountId": s.accountId,
        "region": s.region,
        "clusterName": s.clusterName,
        "costCenter": s.finops.costCenter,
        "owner": s.finops.owner,
        "budgetPerHour": exact(s.finops.budgetPerHour),
        "spotAllowedTiers": ",".join(s.finops.spot.allowedTiers),
        "spotExpectedDiscount": exact(s.finops.spot.expectedDiscount),
    }
    if s.ethics is not None:
        t = s.ethics.thresholds.critical
        data.update(
            {
                "ethicsDemographicParityDifference": exact(t.demographicParityDifference),
                "ethicsDemographicParityRatio": exact(t.demographicParityRatio),
                "ethicsEqualizedOddsDifference": exact(t.equalizedOddsDifference),
            }
        )
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": ENVIRONMENT_RECORD,
            "namespace": s.namespace,
            "labels": {
                **MANAGED_BY,
                settings.label("environment"): s.name,
                settings.label("record"): "environment",
            },
        },
        "data": data,
    }
