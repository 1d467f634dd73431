"""`aiplane cost`: the figures reviewers see, and `--diff REF` for what a change costs."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from project_copy import copy_project, run_aiplane


def test_cost_reports_worst_case_and_expected_per_environment(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    result = run_aiplane(project, "cost", "--format", "json")
    assert result.returncode == 0, result.stderr
    envs = {e["environment"]: e for e in json.loads(result.stdout)["environments"]}
    prod = envs["prod"]
    # Hand-checked from the catalog: llm-inference (2 on-demand + 6 spot) × g5.12xlarge $5.672 = 45.376;
    # fine-tuning 2 × p4d.24xlarge $21.957642 = 43.915; neuron-inference 2 × inf2.48xlarge $12.98127 = 25.963;
    # endpoints 2 × ml.m5.xlarge $0.269 + ml.g5.2xlarge $1.52 × 6 (chat-assistant's autoscaling maxInstances).
    assert prod["worstCase"] == pytest.approx(45.376 + 43.915284 + 25.96254 + 0.538 + 9.12, abs=1e-3)
    pool = next(w for w in prod["workloads"] if w["name"] == "llm-inference")
    # expected: 2 on-demand at full price + 6 spot at the environment's 50 % discount
    assert pool["expected"] == pytest.approx(2 * 5.672 + 6 * 5.672 * 0.5)
    assert set(prod["costCenters"]) == {"llm-serving", "ml-products", "risk"}
    assert all(e["worstCase"] <= e["budgetPerHour"] for e in envs.values())


def test_diff_shows_what_a_change_costs_against_a_git_revision(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    git = ["git", "-C", str(project), "-c", "user.email=t@example.org", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "base"], check=True)
    env_file = project / "environments/prod.yaml"
    env_file.write_text(
        env_file.read_text().replace(
            "scaling: {minSize: 0, maxSize: 2}\n    taints", "scaling: {minSize: 0, maxSize: 3}\n    taints"
        )
    )
    result = run_aiplane(project, "cost", "--diff", "HEAD", "--format", "json")
    assert result.returncode == 0, result.stderr
    prod = next(e for e in json.loads(result.stdout)["environments"] if e["environment"] == "prod")
    change = next(c for c in prod["changes"])
    assert len(prod["changes"]) == 1
    assert {k: change[k] for k in ("kind", "name", "status", "worstCaseBefore", "worstCaseAfter", "worstCaseDelta")} == {
        "kind": "GPUNodePool",
        "name": "fine-tuning",
        "status": "changed",
        "worstCaseBefore": 43.9153,
        "worstCaseAfter": 65.8729,
        "worstCaseDelta": 21.9576,
    }
    assert change["uncertainPrices"] == []  # p4d.24xlarge's on-demand price comes from the SkyPilot rows: firm
    # 3 × $21.96/h is over the pool's own maxCostPerHour of $45/h
    assert change["overMaxCostPerHour"] is True and change["maxCostPerHour"] == 45
    text = run_aiplane(project, "cost", "--diff", "HEAD", "--env", "prod").stdout
    assert (
        "  ~ changed GPUNodePool/fine-tuning [ml-products]: worst case $43.92/h → $65.87/h "
        "(+$21.96/h, +$16,029/month)" in text
    )
    assert run_aiplane(project, "cost", "--diff", "no-such-ref").returncode == 2


def test_text_lists_each_workload_under_its_own_cost_center(tmp_path: Path) -> None:
    """The JSON's cost centers and the text's grouping agree: no workload under another's cost center."""
    project = copy_project(tmp_path)
    document = json.loads(run_aiplane(project, "cost", "--env", "prod", "--format", "json").stdout)
    centers = {w["name"]: w["costCenter"] for w in document["environments"][0]["workloads"]}
    assert len(set(centers.values())) == 3
    center = None
    listed = {}
    for line in run_aiplane(project, "cost", "--env", "prod").stdout.splitlines():
        if line.startswith("  cost-center "):
            center = line.split()[1].rstrip(":")
        elif line.startswith("    ") and "/" in line.split()[0]:
            listed[line.split()[0].split("/", 1)[1]] = center
    assert listed == centers
