"""The environment record holds numbers as exact decimals: 10,000,000 stays 10000000 (`:g` wrote `1e+07`,
which cdk8s read back as a number and synth refused as a mismatch), 0.005 stays 0.005."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from project_copy import copy_project, run_aiplane

from aiplane.synthesis.environment_record import exact


@pytest.mark.parametrize(("value", "text"), [(10_000_000, "10000000"), (0.005, "0.005"), (150.0, "150"),
                                             (1e-7, "0.0000001"), (123456789.125, "123456789.125")])
def test_exact_decimal_without_exponent(value: float, text: str) -> None:
    assert exact(value) == text and float(text) == value


@pytest.mark.parametrize(("budget", "text"), [("10000000", "10000000"), ("0.005", "0.005")])
def test_synth_writes_a_large_or_small_budget_exactly(tmp_path: Path, budget: str, text: str) -> None:
    project = copy_project(tmp_path)
    env = project / "environments" / "dev.yaml"
    source = env.read_text()
    assert "budgetPerHour: 10\n" in source
    env.write_text(source.replace("budgetPerHour: 10\n", f"budgetPerHour: {budget}\n", 1))
    done = run_aiplane(project, "synth")
    record = project / "manifests/environments/dev/configmap-aiplane-environment.yaml"
    assert done.returncode == 0, done.stderr
    assert yaml.safe_load(record.read_text())["data"]["budgetPerHour"] == text
