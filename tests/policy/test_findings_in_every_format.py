"""Issue 15's "done when": in a copy of the project, a one-character typo, a guardrail violation and a waived
violation in prod.yaml are each reported at the file:line:column a person edits, in every format (text,
JSON, SARIF valid against the SARIF 2.1.0 schema, markdown), with the exit code CI relies on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from aiplane.policy import RuleContext, run_rules

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "synth"))
from project_copy import AIPLANE, copy_project, run_aiplane

# The OASIS SARIF 2.1.0 schema; tests/policy/sarif/README.md records its source and date.
SARIF_SCHEMA = json.loads((Path(__file__).parent / "sarif" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
FORMATS = ("text", "json", "sarif", "markdown")

# The three edits, on prod.yaml as shipped (each `old` occurs once).
TYPO = ("    capacity: onDemand\n", "    capacty: onDemand\n")  # neuron-inference
OVER_CEILING = ("             maxCostPerHour: 50}", "             maxCostPerHour: 20}")  # llm-inference
TODAY = datetime.now(UTC).date()
EXPIRES = (TODAY + timedelta(days=60)).isoformat()


def waivers(expires: str = EXPIRES, second_rule: str = "spot-eligibility") -> tuple[str, str]:
    """fine-tuning over a lowered ceiling, with a waiver for that and one for a rule that does not fire."""
    return (
        "    finops: {tier: batch, spotEligible: true, maxCostPerHour: 45}\n",
        "    finops: {tier: batch, spotEligible: true, maxCostPerHour: 30}\n"
        "    waivers:\n"
        f"      - {{rule: max-cost-per-hour, reason: Q1 fine-tuning burst, expires: {expires}, approvedBy: finops-lead}}\n"
        f"      - {{rule: {second_rule}, reason: kept in case, expires: {EXPIRES}, approvedBy: finops-lead}}\n",
    )


WAIVED = waivers()


def _edit(text: str, edit: tuple[str, str]) -> str:
    old, new = edit
    assert text.count(old) == 1, f"prod.yaml changed: {old!r} is not there once"
    return text.replace(old, new)


def _position(text: str, line_text: str, token: str) -> tuple[int, int]:
    """1-based line and column of `token` on the only line containing `line_text`."""
    (number,) = [i for i, line in enumerate(text.splitlines(), start=1) if line_text in line]
    return number, text.splitlines()[number - 1].index(token) + 1


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_project(tmp_path_factory.mktemp("findings"))


def _write_prod(project: Path, *edits: tuple[str, str]) -> str:
    path = project / "environments" / "prod.yaml"
    shipped = path.with_suffix(".shipped")
    if not shipped.exists():
        shipped.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    text = shipped.read_text(encoding="utf-8")
    for edit in edits:
        text = _edit(text, edit)
    path.write_text(text, encoding="utf-8")
    return text


def _sarif_results(stdout: str) -> list[dict[str, Any]]:
    document = json.loads(stdout)
    jsonschema.Draft4Validator(SARIF_SCHEMA, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER).validate(
        document
    )
    (run,) = document["runs"]
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    for result in run["results"]:
        assert rules[result["ruleIndex"]] == result["ruleId"]
        assert "fix" not in result["message"]["text"].lower().split(":")[0]
    return list(run["results"])


def _region(result: dict[str, Any]) -> tuple[str, int, int]:
    physical = result["locations"][0]["physicalLocation"]
    region = physical["region"]
    return physical["artifactLocation"]["uri"], region["startLine"], region["startColumn"]


def test_a_typo_is_reported_at_its_line_in_every_format_with_exit_2(project: Path) -> None:
    text = _write_prod(project, TYPO, OVER_CEILING, WAIVED)
    line, column = _position(text, "capacty: onDemand", "capacty")
    where = f"environments/prod.yaml:{line}:{column}"
    message = "unknown field 'capacty'; did you mean 'capacity'?"
    outputs = {fmt: run_aiplane(project, "check", "--env", "prod", "--format", fmt) for fmt in FORMATS}
    assert {fmt: done.returncode for fmt, done in outputs.items()} == dict.fromkeys(FORMATS, 2)
    for done in outputs.values():  # stderr keeps its one line per problem, whatever the format
        assert f"{where}: nodePools[2].capacty: {message}" in done.stderr

    assert outputs["text"].stdout == ""  # text goes to stderr alone, as before
    report = json.loads(outputs["json"].stdout)
    assert report["ok"] is False and report["summary"]["inputErrors"] == 1 and report["violations"] == []
    assert report["inputErrors"] == [
        {
            "message": message,
            "field": "nodePools[2].capacty",
            "location": {"file": "environments/prod.yaml", "line": line, "column": column},
        }
    ]
    (result,) = _sarif_results(outputs["sarif"].stdout)
    assert (result["ruleId"], result["level"]) == ("input-error", "error")
    assert _region(result) == ("environments/prod.yaml", line, column)
    assert result["message"]["text"] == f"nodePools[2].capacty: {message}"
    markdown = outputs["markdown"].stdout
    assert markdown.startswith("### aiplane check: ❌ blocked")
    assert f"| ✗ | `input-error` | `{where}` |" in markdown


def test_a_violation_and_a_waived_violation_are_reported_at_their_lines_with_exit_1(project: Path) -> None:
    text = _write_prod(project, OVER_CEILING, WAIVED)
    violation = _position(text, "maxCostPerHour: 20}", "maxCostPerHour")
    waived = _position(text, "spotEligible: true, maxCostPerHour: 30}", "maxCostPerHour")
    unused = _position(text, "{rule: spot-eligibility, reason: kept in case", "{rule")
    at = {name: f"environments/prod.yaml:{line}:{column}" for name, (line, column) in
          {"violation": violation, "waived": waived, "unused": unused}.items()}
    outputs = {fmt: run_aiplane(project, "check", "--env", "prod", "--format", fmt) for fmt in FORMATS}
    assert {fmt: done.returncode for fmt, done in outputs.items()} == dict.fromkeys(FORMATS, 1)

    lines = outputs["text"].stdout.splitlines()
    assert f"{at['violation']}: ✗ max-cost-per-hour [mandatory] spec.finops.maxCostPerHour: worst case" in "\n".join(
        lines
    )
    assert any(line.startswith(f"{at['waived']}: ~ max-cost-per-hour [waived] ") for line in lines)
    assert "    waived: Q1 fine-tuning burst (until " + EXPIRES + ", approved by finops-lead)" in lines
    assert any(line.startswith(f"{at['unused']}: ? spot-eligibility [unused-waiver] waivers[1]: unused waiver")
               for line in lines)
    assert lines[-1] == "1 mandatory violations, 0 advisories, 0 invalid objects, 1 waived, 1 unused waivers"

    report = json.loads(outputs["json"].stdout)
    by_status = {v["status"]: v for v in report["violations"]}
    assert set(by_status) == {"open", "waived", "unused-waiver"} and len(report["violations"]) == 3
    for status, (line, column) in (("open", violation), ("waived", waived), ("unused-waiver", unused)):
        assert by_status[status]["location"] == {"file": "environments/prod.yaml", "line": line, "column": column}
    assert by_status["waived"]["waiver"] == {
        "rule": "max-cost-per-hour", "reason": "Q1 fine-tuning burst", "expires": EXPIRES, "approvedBy": "finops-lead"
    }
    assert report["summary"] == {"mandatory": 1, "advisory": 0, "waived": 1, "unusedWaivers": 1, "invalid": 0,
                                 "inputErrors": 0}

    results = _sarif_results(outputs["sarif"].stdout)
    assert sorted((r["ruleId"], r["level"], _region(r)[1:], "suppressions" in r) for r in results) == sorted(
        [
            ("max-cost-per-hour", "error", violation, False),
            ("max-cost-per-hour", "error", waived, True),
            ("spot-eligibility", "note", unused, False),
        ]
    )
    (suppressed,) = [r for r in results if "suppressions" in r]
    assert suppressed["suppressions"] == [
        {"kind": "inSource", "status": "accepted", "justification": "Q1 fine-tuning burst",
         "properties": {"expires": EXPIRES, "approvedBy": "finops-lead"}}
    ]
    assert all(r["properties"]["fix"] not in r["message"]["text"] for r in results)
    assert len({r["partialFingerprints"]["aiplaneFinding/v1"] for r in results}) == 3

    markdown = outputs["markdown"].stdout
    assert markdown.startswith("### aiplane check: ❌ blocked")
    assert f"| ✗ | `max-cost-per-hour` | `{at['violation']}` | GPUNodePool/ai-prod/llm-inference |" in markdown
    assert f"| 〰 | `max-cost-per-hour` | `{at['waived']}` | GPUNodePool/ai-prod/fine-tuning |" in markdown
    assert f"| ❔ | `spot-eligibility` | `{at['unused']}` |" in markdown


def test_fingerprints_stay_when_lines_move(project: Path) -> None:
    """Code scanning matches alerts across commits by partialFingerprints: a line added above must not
    turn the same finding into a new alert."""
    _write_prod(project, OVER_CEILING)
    before = _sarif_results(run_aiplane(project, "check", "--env", "prod", "--format", "sarif").stdout)
    path = project / "environments" / "prod.yaml"
    path.write_text("# a comment moves every line down\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    after = _sarif_results(run_aiplane(project, "check", "--env", "prod", "--format", "sarif").stdout)
    assert [_region(r)[1] + 1 for r in before] == [_region(r)[1] for r in after]
    assert [r["partialFingerprints"] for r in before] == [r["partialFingerprints"] for r in after]


def test_a_faulty_waiver_is_a_violation_at_its_line_and_the_finding_stands(project: Path) -> None:
    expired = (TODAY - timedelta(days=1)).isoformat()
    text = _write_prod(project, waivers(expires=expired))
    waiver = _position(text, "{rule: max-cost-per-hour, reason: Q1", "{rule")
    done = run_aiplane(project, "check", "--env", "prod", "--format", "json")
    assert done.returncode == 1, done.stderr
    found = [v for v in json.loads(done.stdout)["violations"] if v["rule"] == "max-cost-per-hour"]
    assert sorted((v["status"], v["field"], v["location"]["line"]) for v in found)[1] == (
        "open", "waivers[0]", waiver[0]
    )
    assert any(v["field"] == "spec.finops.maxCostPerHour" and v["status"] == "open" for v in found)
    assert any(f"expired on {expired}" in v["message"] for v in found)


def test_a_waiver_for_an_unknown_rule_is_an_input_error_at_its_line(project: Path) -> None:
    text = _write_prod(project, waivers(second_rule="spot-eligibilty"))
    line, column = _position(text, "rule: spot-eligibilty", "rule")  # at the waiver's `rule` key
    done = run_aiplane(project, "check", "--env", "prod")
    assert done.returncode == 2
    assert (f"environments/prod.yaml:{line}:{column}: waivers[1].rule: waiver for unknown rule 'spot-eligibilty'; "
            "did you mean 'spot-eligibility'?") in done.stderr


def test_sarif_rules_link_their_docs_in_the_scanned_commit(project: Path) -> None:
    """In GitHub Actions (which names the server, repository and commit) every rule's helpUri opens its
    section of docs/guardrails.md in the scanned commit, and each such section exists."""
    _write_prod(project)
    env = {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/platform", "GITHUB_SHA": "abc123"}
    base = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}

    def sarif(extra: dict[str, str]) -> dict[str, Any]:
        args = [AIPLANE, "check", "--env", "prod", "--format", "sarif"]
        done = subprocess.run(args, cwd=project, env={**base, **extra}, capture_output=True, text=True, check=True)
        return dict(json.loads(done.stdout))

    rules = sarif(env)["runs"][0]["tool"]["driver"]["rules"]
    repo = Path(__file__).resolve().parents[2]
    headings = {
        page: {line[4:].strip() for line in (repo / "docs" / page).read_text(encoding="utf-8").splitlines()
               if line.startswith(("### ", "## "))}
        for page in ("guardrails.md", "findings.md")
    }
    for rule in rules:
        prefix = "https://github.com/acme/platform/blob/abc123/docs/"
        assert rule["helpUri"].startswith(prefix), rule
        page, anchor = rule["helpUri"].removeprefix(prefix).split("#")
        assert anchor == rule["id"] and anchor in headings[page], rule["helpUri"]  # GitHub's anchor of `### <id>`
        assert float(rule["properties"]["security-severity"]) > 0
    without = sarif({})
    assert all("helpUri" not in r for r in without["runs"][0]["tool"]["driver"]["rules"])


def test_a_stray_field_is_reported_in_words_without_the_validators_urls(ctx: RuleContext) -> None:
    """An XR the gate reads from files (`--manifests`) with a field its API does not have: the rules that
    parse its spec report it as a violation (fail closed), in a message a person reads — no raw pydantic
    dump, no documentation URL."""
    repo = Path(__file__).resolve().parents[2]
    objects = list(yaml.safe_load_all((repo / "tests/policy/fixtures/max-cost-per-hour/fail.yaml").read_text()))
    (pool,) = [o for o in objects if o and o["kind"] == "GPUNodePool"]
    pool["spec"]["colour"] = "red"
    unevaluated = [v for v in run_rules(objects, ctx, {}) if "could not be evaluated" in v.message]
    assert unevaluated, "a spec its model refuses is a violation, never a pass"
    for v in unevaluated:
        assert v.message == "rule could not be evaluated (colour: Extra inputs are not permitted); treated as a violation"
        assert "http" not in v.message and "pydantic" not in v.message


def test_an_environment_budget_finding_is_at_the_budget_line(project: Path) -> None:
    """A stack rule judges the environment's record ConfigMap; its finding is placed at the setting the
    record's key comes from (data.budgetPerHour → finops.budgetPerHour)."""
    text = _write_prod(project, ("  budgetPerHour: 150\n", "  budgetPerHour: 100\n"))
    line, column = _position(text, "budgetPerHour: 100", "budgetPerHour")
    done = run_aiplane(project, "check", "--env", "prod", "--format", "json")
    assert done.returncode == 1, done.stderr
    (budget,) = [v for v in json.loads(done.stdout)["violations"] if v["field"] == "data.budgetPerHour"]
    assert (budget["rule"], budget["kind"]) == ("max-cost-per-hour", "ConfigMap")
    assert budget["location"] == {"file": "environments/prod.yaml", "line": line, "column": column}


def test_a_waiver_for_a_rule_that_does_not_fire_is_reported_unused_and_does_not_fail(project: Path) -> None:
    """A waiver on the captures bucket (which endpoints refer to, and which passes bucket-security): reported
    as unused at the waiver's line, exit 0, and the endpoints referring to the bucket still load."""
    bucket = ("  - name: captures\n    purpose: captures\n",
              "  - name: captures\n    purpose: captures\n"
              f"    waivers: [{{rule: bucket-security, reason: audited, expires: {EXPIRES}}}]\n")
    text = _write_prod(project, bucket)
    line, column = _position(text, "rule: bucket-security, reason: audited", "{rule")
    done = run_aiplane(project, "check", "--env", "prod", "--format", "json")
    assert done.returncode == 0, done.stderr
    (unused,) = json.loads(done.stdout)["violations"]
    assert (unused["status"], unused["kind"], unused["name"]) == ("unused-waiver", "ModelBucket", "captures")
    assert unused["location"] == {"file": "environments/prod.yaml", "line": line, "column": column}
