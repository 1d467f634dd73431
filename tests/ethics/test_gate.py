"""`aiplane ethics gate`: a candidate model's predictions on an evaluation set, judged against an endpoint's
thresholds before deployment. It fails closed (point estimates, too little data), speaks every format
`aiplane check` speaks, and a pass leaves the report `aiplane check` will look for, naming the exact image
and model it judged."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner, Result
from ethics_traffic import decisions, monitor_spec

from aiplane.cli import main
from aiplane.ethics.gate import gate_report_path, pair_digest, passing_report_for

REPO = Path(__file__).resolve().parents[2]
# The dev environment's sentiment endpoint (environments/dev.yaml).
IMAGE = "111122223333.dkr.ecr.us-east-1.amazonaws.com/sentiment:0.4.0"
MODEL = "s3://dev-artifacts-111122223333/models/sentiment/0.4.0/model.tar.gz"


def evaluation_rows(per_group: dict[str, int], rates: dict[str, int]) -> list[dict[str, Any]]:
    return [
        {"gender": g, "age_band": band, "prediction": 0.83 if p else 0.21, "label": int(label)}
        for g, band, p, label in decisions(per_group, rates)
    ]


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


@pytest.fixture
def spec_file(tmp_path: Path) -> Path:
    path = tmp_path / "monitor.json"
    path.write_text(json.dumps(monitor_spec()), encoding="utf-8")
    return path


def gate(monkeypatch: pytest.MonkeyPatch, data: Path, spec: Path, reports: Path, *extra: str) -> Result:
    monkeypatch.chdir(REPO)
    args = ["ethics", "gate", "--env", "dev", "--endpoint", "sentiment", "--data", str(data)]
    args += ["--spec", str(spec), "--report-dir", str(reports), *extra]
    return CliRunner().invoke(main, args)


def test_a_fair_model_passes_and_leaves_a_report_for_exactly_that_image_and_model(
    tmp_path: Path, spec_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = write_csv(tmp_path / "eval.csv", evaluation_rows({"F": 200, "M": 200}, {"F": 5, "M": 5}))
    reports = tmp_path / "reports"
    result = gate(monkeypatch, data, spec_file, reports)
    assert result.exit_code == 0, result.output
    assert "gender: ok" in result.output and "passed: report" in result.output
    report = passing_report_for(REPO, "dev", "sentiment", IMAGE, MODEL, reports=reports)
    assert report is not None and (report.image, report.model_data_url, report.passed) == (IMAGE, MODEL, True)
    assert (
        gate_report_path(reports, "dev", "sentiment", IMAGE, MODEL).name
        == f"{pair_digest(IMAGE, MODEL)}.json"
    )
    assert report.content["data"]["rows"] == 400
    # Another image or model has no passing report, nor has the same pair in another environment.
    assert (
        passing_report_for(REPO, "dev", "sentiment", IMAGE.replace("0.4.0", "0.5.0"), MODEL, reports=reports)
        is None
    )
    assert passing_report_for(REPO, "prod", "sentiment", IMAGE, MODEL, reports=reports) is None


def test_a_biased_model_fails_and_withdraws_an_earlier_pass(
    tmp_path: Path, spec_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reports = tmp_path / "reports"
    fair = write_csv(tmp_path / "fair.csv", evaluation_rows({"F": 200, "M": 200}, {"F": 5, "M": 5}))
    assert gate(monkeypatch, fair, spec_file, reports).exit_code == 0
    biased = write_csv(tmp_path / "biased.csv", evaluation_rows({"F": 200, "M": 200}, {"F": 3, "M": 7}))
    result = gate(monkeypatch, biased, spec_file, reports)
    assert result.exit_code == 1, result.output
    # Selection rates 0.3 and 0.7: difference 0.4, ratio 3/7.
    assert (
        "✗ ethics-gate-fairness [mandatory] spec.ethicsMonitor.thresholds.critical.demographicParityDifference: "
        "gender: demographicParityDifference 0.4000 is above the critical bound 0.2" in result.output
    )
    assert "gender: demographicParityRatio 0.4286 is below the critical bound 0.6" in result.output
    assert passing_report_for(REPO, "dev", "sentiment", IMAGE, MODEL, reports=reports) is None


def test_too_few_rows_in_a_group_fails_as_insufficient_data(
    tmp_path: Path, spec_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = write_csv(
        tmp_path / "eval.csv", evaluation_rows({"F": 200, "M": 200, "X": 20}, {"F": 5, "M": 5, "X": 5})
    )
    result = gate(monkeypatch, data, spec_file, tmp_path / "reports", "--format", "json")
    assert result.exit_code == 1
    document = json.loads(result.output)
    assert document["ok"] is False and document["gate"]["report"] is None
    messages = [v["message"] for v in document["violations"]]
    assert messages == [
        "gender: insufficient data for demographicParityDifference, demographicParityRatio, equalizedOddsDifference: "
        "a group has fewer than minGroupSize (30) records"
    ]
    gender = next(a for a in document["gate"]["attributes"] if a["name"] == "gender")
    assert [g["group"] for g in gender["groups"]] == ["F", "M"] and gender["suppressedGroups"] == 1


def test_sarif_and_markdown_locate_the_endpoint(
    tmp_path: Path, spec_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = write_csv(tmp_path / "eval.csv", evaluation_rows({"F": 200, "M": 200}, {"F": 3, "M": 7}))
    sarif = json.loads(gate(monkeypatch, data, spec_file, tmp_path / "r", "--format", "sarif").output)
    results = sarif["runs"][0]["results"]
    assert {r["ruleId"] for r in results} == {"ethics-gate-fairness"}
    # At the endpoint's ethicsMonitor in the environment file, its generated XR beside it.
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results} == {
        "environments/dev.yaml"
    }
    assert {r["relatedLocations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results} == {
        "manifests/environments/dev/modelendpoint-sentiment.yaml"
    }
    markdown = gate(monkeypatch, data, spec_file, tmp_path / "r", "--format", "markdown").output
    assert markdown.startswith("### aiplane ethics gate dev/sentiment: ❌ blocked")


def test_parquet_with_labels_and_a_candidate_image(
    tmp_path: Path, spec_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = evaluation_rows({"F": 200, "M": 200}, {"F": 5, "M": 5})
    frame = pd.DataFrame(rows).rename(columns={"prediction": "score", "label": "truth"})
    data = tmp_path / "eval.parquet"
    frame.to_parquet(data)
    reports = tmp_path / "reports"
    candidate = IMAGE.replace("0.4.0", "0.5.0")
    result = gate(
        monkeypatch, data, spec_file, reports,
        "--prediction-column", "score", "--label-column", "truth", "--image", candidate,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert passing_report_for(REPO, "dev", "sentiment", candidate, MODEL, reports=reports) is not None


def test_bad_input_is_exit_2_without_sensitive_values(
    tmp_path: Path, spec_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = evaluation_rows({"F": 40, "M": 40}, {"F": 5, "M": 5})
    missing = write_csv(
        tmp_path / "missing.csv", [{k: v for k, v in r.items() if k != "label"} for r in rows]
    )
    result = gate(monkeypatch, missing, spec_file, tmp_path / "r")
    assert result.exit_code == 2 and "no column label" in result.output
    rows[3]["gender"] = ""
    rows[5]["prediction"] = "high"
    broken = write_csv(tmp_path / "broken.csv", rows)
    result = gate(monkeypatch, broken, spec_file, tmp_path / "r")
    assert result.exit_code == 2
    assert "gender: 1 rows have no value" in result.output
    bad = write_csv(
        tmp_path / "bad.csv",
        [{**r, "prediction": "high" if i == 5 else r["prediction"]} for i, r in enumerate(rows) if i != 3],
    )
    result = gate(monkeypatch, bad, spec_file, tmp_path / "r")
    assert result.exit_code == 2 and "prediction: 1 rows are not readable as 0/1" in result.output


def test_the_spec_comes_from_the_environment_once_the_endpoint_embeds_it(tmp_path: Path) -> None:
    # A project whose ModelEndpoint embeds the evaluator's spec (as the XRD will): no --spec needed.
    (tmp_path / "pyproject.toml").write_text("[tool.aiplane]\n", encoding="utf-8")
    (tmp_path / "xrds").mkdir()
    (tmp_path / "xrds" / "endpoint.py").write_text(
        textwrap.dedent(
            """
            from aiplane.authoring.api import CommonSpec, PlatformAPI
            from aiplane.ethics.spec import EthicsMonitorSpec

            class EndpointSpec(CommonSpec):
                image: str
                modelDataUrl: str
                ethicsMonitor: EthicsMonitorSpec

            API = PlatformAPI(kind="ModelEndpoint", plural="modelendpoints", spec=EndpointSpec,
                              description="an endpoint", environment_key="endpoints")
            """
        ),
        encoding="utf-8",
    )
    environment = {
        "name": "dev", "accountId": "111122223333", "region": "us-east-1", "clusterName": "ai-dev",
        "namespace": "ai-dev", "finops": {"costCenter": "ml", "owner": "ml-platform", "budgetPerHour": 10},
        "endpoints": [{"name": "sentiment", "image": IMAGE, "modelDataUrl": MODEL,
                       "finops": {"tier": "experimental"}, "ethicsMonitor": monitor_spec()}],
    }  # fmt: skip
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments" / "dev.yaml").write_text(json.dumps(environment), encoding="utf-8")
    data = write_csv(tmp_path / "eval.csv", evaluation_rows({"F": 100, "M": 100}, {"F": 5, "M": 5}))
    command = [
        sys.executable,
        "-m",
        "aiplane.cli",
        "ethics",
        "gate",
        "--env",
        "dev",
        "--endpoint",
        "sentiment",
    ]
    done = subprocess.run(
        [*command, "--data", str(data)], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert passing_report_for(tmp_path, "dev", "sentiment", IMAGE, MODEL) is not None
    assert (tmp_path / "ethics-reports" / "dev" / "sentiment" / f"{pair_digest(IMAGE, MODEL)}.json").is_file()


def test_a_report_that_is_not_a_gate_report_is_refused_not_passed(tmp_path: Path) -> None:
    path = gate_report_path(tmp_path / "ethics-reports", "dev", "sentiment", IMAGE, MODEL)
    path.parent.mkdir(parents=True)
    path.write_text("{not json", encoding="utf-8")
    from aiplane.errors import InputError

    with pytest.raises(InputError, match="not JSON"):
        passing_report_for(tmp_path, "dev", "sentiment", IMAGE, MODEL)
    path.write_text(json.dumps({"kind": "EthicsGateReport", "version": 1, "passed": True, "environment": "dev",
                                "endpoint": "sentiment", "image": "other", "modelDataUrl": MODEL, "data": {}}),
                    encoding="utf-8")  # fmt: skip
    assert passing_report_for(tmp_path, "dev", "sentiment", IMAGE, MODEL) is None  # names another image
