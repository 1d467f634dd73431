"""Uncertainty is visible: a cost resting on an uncertain price (every shipped SageMaker hosting price) is marked
in every `aiplane cost` format and in the max-cost-per-hour finding, and `aiplane catalog status` lists sources,
dates and uncertain entries, warning when a price file is older than the configured age."""

from __future__ import annotations

import json
import subprocess
from datetime import date
from pathlib import Path

import pytest
from project_copy import copy_project, run_aiplane

from aiplane.catalog.instances import load_catalog
from aiplane.catalog.prices import dump_price_file
from aiplane.commands import catalog_status

ML_G5 = "SageMaker ml.g5.xlarge in us-east-1: Zircon"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_project(tmp_path_factory.mktemp("project"))


def test_the_text_report_marks_the_endpoint_and_its_environment_and_says_why(project: Path) -> None:
    text = run_aiplane(project, "cost", "--env", "dev").stdout
    lines = text.splitlines()
    assert lines[0].startswith("dev (us-east-1 prices): worst case $6.26/h")
    assert lines[0].endswith("(uncertain price)")
    assert (
        "    ModelEndpoint/sentiment [experimental]: $1.41/h worst, $1.41/h expected (uncertain price)"
        in lines
    )
    pool = next(line for line in lines if "GPUNodePool/experiments" in line)
    assert "uncertain" not in pool  # EC2 on-demand prices come from the SkyPilot rows: firm
    assert any(line.strip().startswith(ML_G5) for line in lines)


def test_the_json_report_lists_the_uncertain_prices_per_workload_and_environment(project: Path) -> None:
    document = json.loads(run_aiplane(project, "cost", "--env", "dev", "--format", "json").stdout)
    dev = document["environments"][0]
    workloads = {w["name"]: w for w in dev["workloads"]}
    assert workloads["sentiment"]["uncertainPrices"][0].startswith(ML_G5)
    assert workloads["experiments"]["uncertainPrices"] == []
    assert dev["uncertainPrices"] == workloads["sentiment"]["uncertainPrices"]


def test_the_diff_marks_a_change_that_rests_on_an_uncertain_price(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    git = ["git", "-C", str(project), "-c", "user.email=t@example.org", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "base"], check=True)
    dev = project / "environments/dev.yaml"
    dev.write_text(dev.read_text().replace("    instanceCount: 1\n", "    instanceCount: 2\n"))
    document = json.loads(
        run_aiplane(project, "cost", "--diff", "HEAD", "--env", "dev", "--format", "json").stdout
    )
    change = document["environments"][0]["changes"][0]
    assert (change["name"], change["worstCaseDelta"]) == ("sentiment", 1.41)
    assert change["uncertainPrices"][0].startswith(ML_G5)
    text = run_aiplane(project, "cost", "--diff", "HEAD", "--env", "dev").stdout
    line = next(line for line in text.splitlines() if "ModelEndpoint/sentiment" in line)
    assert line.startswith("  ~ changed ModelEndpoint/sentiment [")
    assert "worst case $1.41/h → $2.82/h (+$1.41/h, +$1,029/month)" in line and line.endswith("(uncertain price)")


def test_the_max_cost_per_hour_finding_names_the_uncertain_price_it_rests_on(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    dev = project / "environments/dev.yaml"
    dev.write_text(
        dev.read_text().replace(
            "finops: {tier: experimental, maxCostPerHour: 2}",
            "finops: {tier: experimental, maxCostPerHour: 1}",
        )
    )
    done = run_aiplane(project, "check", "--env", "dev", "--format", "json")
    assert done.returncode == 1, done.stderr
    findings = [v for v in json.loads(done.stdout)["violations"] if v["rule"] == "max-cost-per-hour"]
    assert len(findings) == 1
    message = findings[0]["message"]
    assert message.startswith("worst case $1.41/h exceeds maxCostPerHour $1.00/h")
    assert "the figure rests on uncertain price(s): " + ML_G5 in message


def test_catalog_status_lists_sources_dates_and_uncertain_entries(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(project)
    assert catalog_status.run("json", today=date(2026, 12, 10)) == 0
    document = json.loads(capsys.readouterr().out)
    files = {(f["region"], f["service"]): f for f in document["priceFiles"]}
    assert set(files) == {
        ("eu-west-1", "ec2"),
        ("us-east-1", "ec2"),
        ("us-west-2", "ec2"),
        ("us-east-1", "sagemaker"),
    }
    assert files[("us-west-2", "ec2")]["retrieved"] == "2026-12-02"
    assert files[("us-west-2", "ec2")]["ageDays"] == 8
    assert "vms.csv @ 00148f2a" in files[("us-west-2", "ec2")]["summary"]
    assert any(entry.startswith(ML_G5) for entry in document["uncertain"])


def test_catalog_status_warns_and_exits_1_past_the_configured_age(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(project)
    # The oldest shipped file (SageMaker, 2026-11-27) is exactly 90 days old on 2027-02-25: not yet a warning.
    assert catalog_status.run("text", today=date(2027, 2, 25)) == 0
    capsys.readouterr()
    assert catalog_status.run("text", today=date(2027, 3, 3)) == 1
    err = capsys.readouterr().err
    assert (
        "warning: us-west-2 ec2 prices are 91 days old (more than 90); run `aiplane catalog refresh --region us-west-2 --service ec2`"
        in err
    )
    # The SageMaker file is older (2026-11-27): warned too.
    assert "warning: us-east-1 sagemaker prices are 96 days old" in err


def test_the_age_limit_is_a_project_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = copy_project(tmp_path)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("price-max-age-days = 90", "price-max-age-days = 5"))
    monkeypatch.chdir(project)
    assert catalog_status.run("text", today=date(2026, 12, 10)) == 1
    assert "us-west-2 ec2 prices are 8 days old (more than 5)" in capsys.readouterr().err
    pyproject.write_text(pyproject.read_text().replace("price-max-age-days = 5", "price-max-age-days = true"))
    done = run_aiplane(project, "catalog", "status")
    assert done.returncode == 2
    assert "price-max-age-days must be a positive whole number of days, not True" in done.stderr


def test_catalog_status_shows_a_projects_own_price_file_in_force(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    shipped = load_catalog().price_files[("ec2", "us-west-2")].price_file
    own = project / "prices/us-west-2/ec2.yaml"
    own.parent.mkdir(parents=True)
    own.write_text(dump_price_file(shipped.model_copy(update={"instances": {}}), "test data"))
    status = run_aiplane(project, "catalog", "status")
    assert status.returncode == 0, status.stderr
    assert "us-west-2 ec2: 0 priced, 0 not offered; retrieved 2026-12-02" in status.stdout
    assert "prices/us-west-2/ec2.yaml" in status.stdout
