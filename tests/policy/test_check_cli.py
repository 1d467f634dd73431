"""`aiplane check` as CI and a reviewer run it: exit codes, and the text, JSON, SARIF and markdown
reports carrying the same facts, from the in-memory synthesis or from the committed manifests/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from aiplane.cli import main
from aiplane.policy import all_rules

REPO = Path(__file__).resolve().parents[2]
VIOLATION_KEYS = {"rule", "status", "message", "enforcement", "severity", "fix", "apiVersion", "kind", "name",
                  "namespace", "environment", "field", "location", "generated", "waiver"}
CLEAN_SUMMARY = {"mandatory": 0, "advisory": 0, "waived": 0, "unusedWaivers": 0, "invalid": 0, "inputErrors": 0}
# The organisation tightening its fairness bound below every shipped endpoint's threshold.
STRICT_FAIRNESS = {"ethics-monitor-attached": {"enforcementLevel": "mandatory", "maxDemographicParityDifference": 0.01}}
ENDPOINTS = {("dev", "sentiment"), ("staging", "chat-assistant"), ("prod", "chat-assistant"), ("prod", "fraud-scoring")}


@pytest.fixture(autouse=True)
def at_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)


def check(*args: str) -> Result:
    return CliRunner().invoke(main, ["check", *args])


def config_file(tmp_path: Path, config: dict[str, Any]) -> str:
    path = tmp_path / "policy-config.json"
    path.write_text(json.dumps(config))
    return str(path)


def test_shipped_environments_pass_with_exit_0() -> None:
    result = check()
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "0 mandatory violations, 0 advisories, 0 invalid objects"


def test_a_mandatory_violation_exits_1_and_names_object_field_and_fix(tmp_path: Path) -> None:
    result = check("--env", "dev", "--config", config_file(tmp_path, STRICT_FAIRNESS))
    assert result.exit_code == 1, result.output
    out = result.stdout
    # At the item's ethicsMonitor in the environment file (the threshold is the environment's default).
    # (the position of the ethicsMonitor block's value: its first key, after the comment)
    dev = (REPO / "environments" / "dev.yaml").read_text().splitlines()
    monitor = next(n for n, text in enumerate(dev, 1) if text == "    ethicsMonitor:")
    line = next(n for n, text in enumerate(dev, 1) if n > monitor and not text.strip().startswith("#"))
    assert out.startswith(f"environments/dev.yaml:{line}:7: ✗ ethics-monitor-attached [mandatory] ")
    assert "    ModelEndpoint/ai-dev/sentiment (manifests/environments/dev/modelendpoint-sentiment.yaml)\n" in out
    assert ("✗ ethics-monitor-attached [mandatory] spec.ethicsMonitor.thresholds.critical.demographicParityDifference: "
            "demographicParityDifference threshold 0.1 is looser than the organisation's bound 0.01") in out
    assert "fix: set demographicParityDifference to 0.01 or stricter" in out
    assert out.splitlines()[-1] == "1 mandatory violations, 0 advisories, 0 invalid objects"


def test_advisories_are_reported_but_exit_0(tmp_path: Path) -> None:
    config = {"all": "advisory", "ethics-monitor-attached": {"maxDemographicParityDifference": 0.01}}
    result = check("--config", config_file(tmp_path, config))
    assert result.exit_code == 0, result.output
    assert "! ethics-monitor-attached [advisory]" in result.stdout
    assert result.stdout.splitlines()[-1] == f"0 mandatory violations, {len(ENDPOINTS)} advisories, 0 invalid objects"


def test_json_has_a_stable_schema(tmp_path: Path) -> None:
    result = check("--format", "json", "--config", config_file(tmp_path, STRICT_FAIRNESS))
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert set(report) == {"version", "ok", "summary", "violations", "invalid", "inputErrors"}
    assert report["version"] == 2 and report["ok"] is False and report["invalid"] == []
    assert report["summary"] == {**CLEAN_SUMMARY, "mandatory": len(ENDPOINTS)}
    for v in report["violations"]:
        assert set(v) == VIOLATION_KEYS
        assert (v["rule"], v["enforcement"], v["severity"], v["kind"]) == (
            "ethics-monitor-attached", "mandatory", "critical", "ModelEndpoint")
        assert v["apiVersion"] == "ai.aiplane.io/v1alpha1" and v["namespace"] == f"ai-{v['environment']}"
        assert v["location"]["file"] == f"environments/{v['environment']}.yaml" and v["location"]["line"] > 1
        assert v["generated"]["file"] == f"manifests/environments/{v['environment']}/modelendpoint-{v['name']}.yaml"
    assert {(v["environment"], v["name"]) for v in report["violations"]} == ENDPOINTS


def test_json_of_a_clean_run() -> None:
    result = check("--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"version": 2, "ok": True, "violations": [], "invalid": [],
                                         "inputErrors": [], "summary": CLEAN_SUMMARY}


def test_sarif_2_1_0_lists_every_rule_and_one_result_per_violation(tmp_path: Path) -> None:
    result = check("--format", "sarif", "--config", config_file(tmp_path, STRICT_FAIRNESS))
    assert result.exit_code == 1
    sarif = json.loads(result.stdout)
    assert sarif["version"] == "2.1.0"
    (run,) = sarif["runs"]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert rule_ids == [r.id for r in all_rules()] + ["validation", "input-error"]
    levels = {r["id"]: r["defaultConfiguration"]["level"] for r in run["tool"]["driver"]["rules"]}
    assert levels["spot-savings-opportunity"] == "warning" and levels["bucket-security"] == "error"
    assert len(run["results"]) == len(ENDPOINTS)
    for res in run["results"]:
        assert res["ruleId"] == "ethics-monitor-attached" and res["level"] == "error"
        uri = res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert uri.startswith("environments/") and (REPO / uri).is_file()
        (related,) = res["relatedLocations"]
        generated = related["physicalLocation"]["artifactLocation"]["uri"]
        assert generated.startswith("manifests/environments/") and (REPO / generated).name.startswith("modelendpoint-")


def test_markdown_for_pull_requests(tmp_path: Path) -> None:
    clean = check("--format", "markdown")
    assert clean.exit_code == 0
    assert clean.stdout.startswith("### aiplane check")
    assert "✅ passes" in clean.stdout.splitlines()[0]
    blocked = check("--format", "markdown", "--env", "prod", "--config", config_file(tmp_path, STRICT_FAIRNESS))
    assert blocked.exit_code == 1
    assert blocked.stdout.startswith("### aiplane check: ❌ blocked")
    rows = [line for line in blocked.stdout.splitlines() if line.startswith("| ✗ | `ethics-monitor-attached`")]
    assert len(rows) == 2 and all("ModelEndpoint/ai-prod/" in row for row in rows)


@pytest.fixture(scope="module")
def manifests() -> Path:
    """The committed manifests/ (synthesized here when the working tree has none yet)."""
    root = REPO / "manifests"
    if not (root / "platform").is_dir():
        result = CliRunner().invoke(main, ["synth"])
        assert result.exit_code == 0, result.output
    return root


def test_manifests_give_the_same_verdict_as_the_in_memory_synthesis(manifests: Path, tmp_path: Path) -> None:
    assert manifests.is_dir()
    config = config_file(tmp_path, STRICT_FAIRNESS)
    from_git = check("--manifests", "--format", "json", "--config", config)
    in_memory = check("--format", "json", "--config", config)
    assert from_git.exit_code == in_memory.exit_code == 1

    def verdict(report: dict[str, Any]) -> list[dict[str, Any]]:
        found = [{k: v for k, v in f.items() if k not in ("location", "generated")} for f in report["violations"]]
        return sorted(found, key=lambda f: (f["environment"], f["name"], f["field"], f["message"]))

    git_report, memory_report = json.loads(from_git.stdout), json.loads(in_memory.stdout)
    assert verdict(git_report) == verdict(memory_report)
    # Read from files, each finding is at its manifest's document (after the one-line header), never "<memory>".
    assert all(v["location"]["file"].startswith("manifests/environments/") and v["location"]["line"] == 2
               for v in git_report["violations"])
    assert "<memory>" not in from_git.stdout
    clean = check("--manifests", "--env", "prod")
    assert clean.exit_code == 0, clean.output


def test_unknown_environment_is_an_input_error() -> None:
    result = check("--env", "nosuch")
    assert result.exit_code == 2
    assert "no environment named nosuch" in result.stderr


def test_manifests_of_an_unknown_environment_is_an_input_error(manifests: Path) -> None:
    result = check("--manifests", "--env", "nosuch")
    assert result.exit_code == 2, result.output


def test_missing_config_file_is_a_usage_error() -> None:
    result = check("--config", "no-such-config.json")
    assert result.exit_code == 2
    assert "no-such-config.json" in result.output


def test_findings_on_a_composition_point_at_its_module_and_its_generated_file(tmp_path: Path) -> None:
    # The organisation requiring a tag no Composition patches: every composed AWS resource fails.
    keys = [*{r.id: r for r in all_rules()}["finops-required-tags"].params["tagKeys"], "team"]
    result = check("--env", "dev", "--format", "json", "--config",
                   config_file(tmp_path, {"finops-required-tags": {"tagKeys": keys}}))
    assert result.exit_code == 1
    found = {v["message"]: v for v in json.loads(result.stdout)["violations"] if v["kind"] == "Composition"}
    role = found["composed Role 'node-role' does not get tag(s) team"]
    module = REPO / "compositions" / "gpunodepool_eks.py"
    line = next(n for n, text in enumerate(module.read_text().splitlines(), start=1) if '"node-role"' in text)
    column = module.read_text().splitlines()[line - 1].index('"node-role"') + 1
    assert role["location"] == {"file": "compositions/gpunodepool_eks.py", "line": line, "column": column}
    assert role["generated"]["file"] == "manifests/platform/apis/composition-gpunodepools-eks.yaml"
    assert (REPO / role["generated"]["file"]).is_file()
