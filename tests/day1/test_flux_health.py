"""Flux health checks decide when each layer is done and when it has failed: a broken package, XRD or XR
must fail the Kustomization at once instead of waiting out its timeout (45 minutes for an environment).
Flux evaluates `healthCheckExprs` as CEL over the object's top-level fields (Flux ≥ 2.5)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cel
import yaml

from aiplane.project import load_settings

MANIFESTS = load_settings(Path(__file__).resolve().parents[2]).manifests


def _health_checks() -> list[dict[str, str]]:
    checks = []
    for path in sorted((MANIFESTS / "clusters").rglob("kustomization-*.yaml")):
        doc = yaml.safe_load(path.read_text())
        checks += doc["spec"].get("healthCheckExprs") or []
    return checks


def _evaluate(expression: str, obj: dict[str, Any]) -> bool:
    return bool(cel.evaluate(expression, cel.Context(variables=obj)))


def _status(*conditions: tuple[str, str, str]) -> dict[str, Any]:
    return {"status": {"conditions": [{"type": t, "status": s, "reason": r} for t, s, r in conditions]}}


def test_every_health_check_says_when_it_has_failed() -> None:
    checks = _health_checks()
    assert len(checks) >= 3 * 6
    assert all(check.get("failed") for check in checks)


def test_a_reconcile_error_fails_fast_and_a_creating_object_keeps_waiting() -> None:
    for check in _health_checks():
        broken = _status(("Synced", "False", "ReconcileError"), ("Ready", "False", "Creating"))
        assert _evaluate(check["failed"], broken), check
        assert not _evaluate(check["current"], broken)
        creating = _status(("Synced", "True", "ReconcileSuccess"), ("Ready", "False", "Creating"))
        assert not _evaluate(check["failed"], creating)
        assert not _evaluate(check["failed"], {"status": {}} | _status())


def test_an_unhealthy_package_fails_and_a_healthy_one_is_current() -> None:
    packages = [c for c in _health_checks() if c["kind"] in ("Provider", "Function")]
    assert packages
    for check in packages:
        assert _evaluate(check["failed"], _status(("Healthy", "False", "UnhealthyPackageRevision")))
        healthy = _status(("Healthy", "True", "HealthyPackageRevision"), ("Synced", "True", "ReconcileSuccess"))
        assert _evaluate(check["current"], healthy) and not _evaluate(check["failed"], healthy)
