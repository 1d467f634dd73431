"""`aiplane rightsize --source FILE` on generated histories with known answers: what is recommended, what is
refused, and what --write does to the environment file."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner
from histories import idle_pool, series, write_csv
from output_schema import assert_matches

from aiplane.cli import main
from aiplane.rightsizing.recommend import HEADROOM, MIN_DAYS, MIN_SAMPLES


def rightsize(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["rightsize", *args])
    return result.exit_code, result.stdout, result.stderr


def recommendation(output: str, name: str) -> dict:
    return next(r for r in json.loads(output)["recommendations"] if r["name"] == name)


def test_an_idle_pool_gets_a_smaller_max_size_and_its_evidence(project: Path) -> None:
    history = write_csv(project / "dev.csv", idle_pool(peak_nodes=2))
    code, out, _ = rightsize("--env", "dev", "--source", str(history), "--format", "json")
    assert code == 0
    rec = recommendation(out, "experiments")
    assert {"field": "scaling.maxSize", "from": 4, "to": 3} in rec["changes"]
    nodes = next(e for e in rec["evidence"] if e["metric"] == "instances")
    assert (nodes["max"], nodes["p95"], nodes["samples"]) == (2, 1, 336)
    # $/h from the catalog: one g5.2xlarge (the priciest listed type) less at max scale, on-demand worst case.
    assert rec["cost"]["deltaPerHour"] == pytest.approx(-1.212)
    assert rec["cost"]["deltaPerMonth"] == pytest.approx(-1.212 * 730, abs=0.01)
    assert json.loads(out)["writeAllowed"] is True
    assert_matches(json.loads(out), "rightsize")


@pytest.mark.parametrize("peak", [1, 2, 3])
def test_max_size_is_never_below_the_observed_peak_plus_headroom(project: Path, peak: int) -> None:
    history = write_csv(project / "dev.csv", idle_pool(peak_nodes=peak))
    code, out, _ = rightsize("--env", "dev", "--source", str(history), "--format", "json")
    assert code == 0
    changes = {c["field"]: c["to"] for c in recommendation(out, "experiments")["changes"]}
    recommended = changes.get("scaling.maxSize", 4)
    assert recommended == max(1, math.ceil(peak * (1 + HEADROOM)))
    assert recommended >= peak * (1 + HEADROOM)


def test_too_little_data_gets_no_recommendation_and_says_why(project: Path) -> None:
    history = write_csv(project / "dev.csv", idle_pool(days=3))
    before = (project / "environments" / "dev.yaml").read_bytes()
    code, out, _ = rightsize("--env", "dev", "--source", str(history), "--write")
    assert code == 0
    assert (project / "environments" / "dev.yaml").read_bytes() == before
    assert (f"no recommendation: too little data: instances: 72 hourly samples over 3.0 days "
            f"(needs {MIN_SAMPLES} over {MIN_DAYS} days)") in out
    assert "no recommendation: too little data: no cpu_utilization history" in out  # the endpoint has none


PROD_WRITTEN_DIFF = ("    scaling: {minSize: 2, maxSize: 6, desiredSize: 2}\n",
                     "    scaling: {minSize: 2, maxSize: 3, desiredSize: 2}\n")


def test_write_changes_only_the_recommended_values_and_is_byte_stable(project: Path) -> None:
    env_file = project / "environments" / "prod.yaml"
    original = env_file.read_text(encoding="utf-8")
    history = write_csv(project / "prod.csv", idle_pool("llm-inference", peak_nodes=2))
    code, out, _ = rightsize("--env", "prod", "--source", str(history), "--write")
    assert code == 0, out
    # production-critical: the on-demand base and minSize stay, no spot; maxSize falls to peak + headroom.
    assert env_file.read_text(encoding="utf-8") == original.replace(*PROD_WRITTEN_DIFF)
    assert original.count(PROD_WRITTEN_DIFF[0]) == 1
    assert "production-critical: minSize and onDemandBaseSize are kept" in out
    # A second run finds nothing more to change and leaves every byte as it is.
    written = env_file.read_bytes()
    code, _, _ = rightsize("--env", "prod", "--source", str(history), "--write")
    assert code == 0
    assert env_file.read_bytes() == written


def test_write_adds_a_missing_key_beside_its_siblings_keeping_comments(project: Path) -> None:
    env_file = project / "environments" / "staging.yaml"
    original = env_file.read_text(encoding="utf-8")
    # fine-tuning (batch, spotEligible, spot allowed in staging) declared on-demand by omission of capacity.
    edited = original.replace("    instanceTypes: [g6.12xlarge]\n    capacity: spot\n", "    instanceTypes: [g6.12xlarge]\n")
    assert edited != original
    env_file.write_text(edited, encoding="utf-8")
    rows = [
        *series("fine-tuning", "GPUNodePool", "instances", 14, lambda i: 1 if i % 24 < 8 else 0),
    ]
    history = write_csv(project / "staging.csv", rows)
    code, out, _ = rightsize("--env", "staging", "--source", str(history), "--write")
    assert code == 0, out
    assert env_file.read_text(encoding="utf-8") == edited.replace(
        "  - name: fine-tuning\n", "  - name: fine-tuning\n    capacity: spot\n"
    ).replace("    scaling: {minSize: 0, maxSize: 2}\n    finops: {tier: batch", "    scaling: {minSize: 0, maxSize: 2}\n    finops: {tier: batch")
    assert "# staging: production-like shapes at a smaller scale" in env_file.read_text(encoding="utf-8")


def test_a_write_that_breaks_a_guardrail_is_refused_and_nothing_is_written(project: Path) -> None:
    # The pool runs at its maxSize of 4: peak + headroom asks for 5 g5.2xlarge, above its maxCostPerHour of 5.
    env_file = project / "environments" / "dev.yaml"
    before = env_file.read_bytes()
    history = write_csv(project / "dev.csv", idle_pool(peak_nodes=4))
    code, out, err = rightsize("--env", "dev", "--source", str(history), "--write")
    assert code == 1
    assert env_file.read_bytes() == before
    assert "scaling.maxSize: 4 → 5" in out
    assert "[mandatory] max-cost-per-hour: GPUNodePool/experiments" in out
    assert "not written: a guardrail fails" in err


def test_a_cheaper_type_of_the_same_gpu_only_when_utilization_and_memory_fit(project: Path) -> None:
    # staging fine-tuning: one g6.12xlarge (4 × L4, 22.4 GiB each). The busiest GPU's memory may be one shard of
    # a model spread over all four, so a 1-GPU type must hold 4 × that peak with headroom.
    def types_recommended(util: float, memory_gib: float) -> list:
        rows = [
            *series("fine-tuning", "GPUNodePool", "instances", 14, lambda i: 1),
            *series("fine-tuning", "GPUNodePool", "gpu_utilization", 14, lambda i: util),
            *series("fine-tuning", "GPUNodePool", "gpu_memory_used_gib", 14, lambda i: memory_gib),
        ]
        code, out, _ = rightsize("--env", "staging", "--source", str(write_csv(project / "h.csv", rows)),
                                 "--format", "json")
        assert code == 0
        return [c["to"] for c in recommendation(out, "fine-tuning")["changes"] if c["field"] == "instanceTypes"]

    # 15 % of 4 GPUs = 0.6 busy (0.72 with headroom); 4 × 4 GiB × 1.2 = 19.2 GiB ≤ 22.4: one L4 suffices.
    assert types_recommended(15, 4.0) == [["g6.xlarge"]]
    # 30 % of 4 GPUs = 1.2 busy (1.44 with headroom): more than one GPU, and no cheaper L4 type has 2-3.
    assert types_recommended(30, 4.0) == []
    # 10 GiB per GPU: 48 GiB with headroom does not fit one 22.4 GiB L4.
    assert types_recommended(15, 10.0) == []


def test_a_bad_export_file_is_exit_2_naming_the_row(project: Path) -> None:
    history = project / "bad.csv"
    history.write_text("timestamp,workload,kind,metric,value\n2026-01-01T00:00:00Z,experiments,GPUNodePool,"
                       "gpu_temperature,40\n", encoding="utf-8")
    code, _, err = rightsize("--env", "dev", "--source", str(history))
    assert code == 2
    assert "bad.csv:2: metric 'gpu_temperature' is not one of" in err


def test_help_states_the_rails_the_code_applies() -> None:
    result = CliRunner().invoke(main, ["rightsize", "--help"])
    text = " ".join(result.stdout.split())
    assert f"peak plus {HEADROOM * 100:.0f} % headroom" in text
    assert f"less than {MIN_DAYS} days / {MIN_SAMPLES} hourly samples" in text
    assert "Exit 0 with or without recommendations; 1 --write refused" in text
