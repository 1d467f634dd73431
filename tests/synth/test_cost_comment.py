"""`aiplane cost --diff REF` as a reviewer reads it: totals first, each environment and workload marked added,
removed or changed with `$` on every amount per hour and per month, limits that break flagged, only what changed
unless --show-all, and a markdown PR comment a CI job can find by its hidden marker. The README shows the
comment for a change that adds an endpoint and removes a pool exactly as this test produces it."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from project_copy import REPO, copy_project, run_aiplane

MARKER = "<!-- aiplane-cost-comment -->"
README_BLOCK = re.compile(
    r"<!-- cost-comment-example:start -->\n````markdown\n(.*?)\n````\n<!-- cost-comment-example:end -->", re.S
)
# An endpoint whose worst case (2 × ml.g5.2xlarge) is over its own maxCostPerHour, added to prod; the
# neuron-inference pool removed in the same change.
NEW_ENDPOINT = """  - name: summarizer
    image: 777788889999.dkr.ecr.us-east-1.amazonaws.com/summarizer:1.0.0
    modelDataUrl: s3://prod-artifacts-777788889999/models/summarizer/1.0.0/model.tar.gz
    instanceType: ml.g5.2xlarge
    instanceCount: 2
    bucketRef: {name: captures}
    dataCapture: {samplingPercent: 10, prefix: summarizer}
    ethicsMonitor:
      sensitiveAttributes:
        - {name: language, jsonPath: metadata.language}
      prediction: {jsonPath: flagged}
      action: alert
      alertTarget: arn:aws:sns:us-east-1:777788889999:aiplane-ethics-alerts
    finops: {costCenter: llm-serving, owner: llm-serving, tier: production, maxCostPerHour: 3}
"""
NEURON_POOL = """  - name: neuron-inference
    instanceTypes: [inf2.48xlarge]
    capacity: onDemand
    scaling: {minSize: 1, maxSize: 2}
    finops: {costCenter: llm-serving, owner: llm-serving, tier: production, maxCostPerHour: 30}
"""


def _git_project_at(project: Path) -> Path:
    """`project` as a git repository whose HEAD is its current state."""
    git = ["git", "-C", str(project), "-c", "user.email=t@example.org", "-c", "user.name=t"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "base"]):
        subprocess.run([*git, *args], check=True)
    return project


def _git_project(tmp_path: Path) -> Path:
    return _git_project_at(copy_project(tmp_path))


@pytest.fixture(scope="module")
def changed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """prod gains the summarizer endpoint and loses the neuron-inference pool; HEAD is the state before."""
    project = _git_project(tmp_path_factory.mktemp("cost-diff"))
    prod = project / "environments/prod.yaml"
    text = prod.read_text()
    assert NEURON_POOL in text
    prod.write_text(text.replace(NEURON_POOL, "") + NEW_ENDPOINT)
    return project


def _cost(project: Path, *args: str) -> str:
    done = run_aiplane(project, "cost", *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_json_marks_the_added_endpoint_the_removed_pool_and_the_endpoint_over_its_own_limit(changed: Path) -> None:
    document = json.loads(_cost(changed, "--diff", "HEAD", "--format", "json"))
    assert [e["environment"] for e in document["environments"]] == ["prod"]  # dev and staging did not change
    prod = document["environments"][0]
    changes = {c["name"]: c for c in prod["changes"]}
    assert set(changes) == {"summarizer", "neuron-inference"}
    endpoint, pool = changes["summarizer"], changes["neuron-inference"]
    assert endpoint["status"] == "added" and endpoint["worstCaseBefore"] == 0.0
    assert endpoint["worstCaseAfter"] == pytest.approx(2 * 1.52)  # 2 × ml.g5.2xlarge (uncertain price)
    assert endpoint["overMaxCostPerHour"] is True and endpoint["maxCostPerHour"] == 3
    assert endpoint["uncertainPrices"]
    assert pool["status"] == "removed" and pool["worstCaseAfter"] == 0.0
    assert pool["worstCaseBefore"] == pytest.approx(2 * 12.98127, abs=1e-3)  # 2 × inf2.48xlarge on-demand
    assert pool["overMaxCostPerHour"] is False
    total = document["total"]
    assert total["worstCaseDelta"] == pytest.approx(2 * 1.52 - 2 * 12.98127, abs=1e-3)
    assert total["worstCaseAfter"] == pytest.approx(total["worstCaseBefore"] + total["worstCaseDelta"], abs=1e-3)
    assert prod["status"] == "changed" and prod["overBudget"] is False
    assert document["hoursPerMonth"] == 730


def test_show_all_lists_unchanged_environments_and_workloads(changed: Path) -> None:
    document = json.loads(_cost(changed, "--diff", "HEAD", "--format", "json", "--show-all"))
    statuses = {e["environment"]: e["status"] for e in document["environments"]}
    assert statuses == {"dev": "unchanged", "prod": "changed", "staging": "unchanged"}
    prod = next(e for e in document["environments"] if e["environment"] == "prod")
    assert {c["name"]: c["status"] for c in prod["changes"]}["llm-inference"] == "unchanged"


def test_text_puts_the_total_first_and_marks_every_change_with_dollars(changed: Path) -> None:
    lines = _cost(changed, "--diff", "HEAD").splitlines()
    assert lines[0].startswith("cost against HEAD: worst case $")
    assert "-$" in lines[0] and "/month" in lines[0]  # the change saves money overall
    added = next(line for line in lines if "ModelEndpoint/summarizer" in line)
    assert added.startswith("  + added ModelEndpoint/summarizer [llm-serving]: worst case $0.00/h → $3.04/h")
    assert "(+$3.04/h, +$2,219/month)" in added
    assert "over its maxCostPerHour $3.00/h" in added and added.endswith("(uncertain price)")
    removed = next(line for line in lines if "GPUNodePool/neuron-inference" in line)
    assert removed.startswith("  - removed GPUNodePool/neuron-inference [llm-serving]: worst case $25.96/h → $0.00/h")
    assert not any(line.startswith(("dev ", "staging ")) for line in lines)
    assert "730 h" in "\n".join(lines)


def test_markdown_is_one_findable_comment_with_collapsible_details(changed: Path) -> None:
    comment = _cost(changed, "--diff", "HEAD", "--format", "markdown")
    lines = comment.splitlines()
    assert lines[0] == MARKER
    assert lines[1].startswith("## aiplane cost: -$")
    assert "<details><summary>prod: 1 added, 1 removed</summary>" in comment and "</details>" in comment
    assert "| ➕ added | ModelEndpoint/summarizer |" in comment
    assert "| ➖ removed | GPUNodePool/neuron-inference |" in comment
    assert "⚠️ over its maxCostPerHour $3.00/h" in comment
    amounts = re.findall(r"[-+]?\$?[\d,]+\.\d\d/h", comment)
    assert amounts and all("$" in a for a in amounts)


def test_the_readme_shows_the_comment_exactly_as_produced(changed: Path) -> None:
    comment = _cost(changed, "--diff", "HEAD", "--format", "markdown").rstrip("\n")
    found = README_BLOCK.search((REPO / "README.md").read_text())
    assert found, "README.md lacks the cost-comment-example block"
    assert found.group(1) == comment, "README's cost comment is out of date; this is the current one:\n" + comment


def test_no_change_says_so_in_every_format(tmp_path: Path) -> None:
    project = _git_project(tmp_path)
    assert "no environment's cost changes" in _cost(project, "--diff", "HEAD")
    assert "No environment's cost changes." in _cost(project, "--diff", "HEAD", "--format", "markdown")
    document = json.loads(_cost(project, "--diff", "HEAD", "--format", "json"))
    assert document["environments"] == [] and document["total"]["worstCaseDelta"] == 0.0


def test_an_environment_over_budget_is_flagged(tmp_path: Path) -> None:
    project = _git_project(tmp_path)
    prod = project / "environments/prod.yaml"
    prod.write_text(prod.read_text().replace("budgetPerHour: 150", "budgetPerHour: 100"))
    text = _cost(project, "--diff", "HEAD", "--env", "prod")
    assert "budget $100.00/h — over budget" in text
    comment = _cost(project, "--diff", "HEAD", "--env", "prod", "--format", "markdown")
    assert "$150.00/h → $100.00/h ⚠️ over budget" in comment
    assert "budget $100.00/h (worst case ≈ $" in _cost(project, "--env", "prod")
    assert "— over budget" in _cost(project, "--env", "prod")


def test_the_current_cost_as_markdown_is_a_findable_comment_too(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    prod = project / "environments/prod.yaml"
    prod.write_text(prod.read_text().replace("maxCostPerHour: 45}", "maxCostPerHour: 40}"))  # fine-tuning: $43.92/h
    comment = _cost(project, "--format", "markdown")
    lines = comment.splitlines()
    assert lines[0] == MARKER and lines[1] == "## aiplane cost"
    assert lines[3].startswith("Worst case **$") and "/month** · expected **$" in lines[3]
    assert [line for line in lines if line.startswith("<details>")] == [
        "<details><summary>dev: 2 workloads</summary>",
        "<details><summary>prod: 5 workloads</summary>",
        "<details><summary>staging: 3 workloads</summary>",
    ]
    pool = next(line for line in lines if line.startswith("| GPUNodePool/fine-tuning |"))
    assert "| $43.92/h · $32,058/month |" in pool and "⚠️ over its maxCostPerHour $40.00/h" in pool


def test_bad_input_at_the_revision_is_named_as_git_names_it(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    prod = project / "environments/prod.yaml"
    good = prod.read_text()
    prod.write_text(good.replace("instanceTypes: [p4d.24xlarge]", "instanceTypes: [p4d.24xlarg]"))
    _git_project_at(project)
    prod.write_text(good)
    done = run_aiplane(project, "cost", "--diff", "HEAD")
    assert done.returncode == 2
    line = next(n for n, text in enumerate(good.splitlines(), 1) if "instanceTypes: [p4d.24xlarge]" in text)
    where = f"HEAD:environments/prod.yaml:{line}:21: nodePools[1].instanceTypes[0]: "
    assert done.stderr.startswith(where), done.stderr
    assert "aiplane-cost-" not in done.stderr  # not the temporary copy
