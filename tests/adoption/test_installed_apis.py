"""Platform APIs from installed packages (entry points, as aiplane-apis registers them) and the project's own
xrds/ and compositions/: the project's own module of a kind wins, with its composition.

Each case runs in its own interpreter: the shipped modules (aiplane.shipped) are this repository's files
through symlinks, and one process importing the same file as two modules confuses `inspect`, which pydantic
reads attribute docstrings (XRD descriptions) with."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from aiplane.synthesis.pipeline import Synthesis

REPO = Path(__file__).resolve().parents[2]

# What `pip install aiplane-apis` registers (packages/aiplane-apis/setup.py), as entry points of this process.
PROBE = """
import json, sys
from importlib.metadata import EntryPoint, EntryPoints
from pathlib import Path
from aiplane.project import load_settings
from aiplane.synthesis import discovery
from aiplane.synthesis.pipeline import synthesize

repo, project, extra = Path(sys.argv[1]), Path(sys.argv[2]), json.loads(sys.argv[3])
def installed(group):
    if group == discovery.API_ENTRY_POINTS:
        eps = [EntryPoint(p.stem, f"aiplane.shipped.xrds.{p.stem}:API", group) for p in sorted((repo / "xrds").glob("*.py"))]
        eps += [EntryPoint(name, value, group) for name, value in extra]
    else:
        eps = [EntryPoint(p.stem, f"aiplane.shipped.compositions.{p.stem}", group)
               for p in sorted((repo / "compositions").glob("*.py"))]
    return EntryPoints(eps)
discovery.entry_points = installed
try:
    settings = load_settings(project)
    found = discovery.discover(settings)
    print(json.dumps({"apis": sorted(found.apis), "compositions": sorted(m.__name__ for m in found.compositions),
                      "objects": synthesize(settings).objects()}))
except discovery.InputError as err:
    print(json.dumps({"error": str(err)}))
"""


def discover_with_installed_apis(project: Path, extra: list[tuple[str, str]] = ()) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(REPO), str(project), json.dumps(list(extra))],
        capture_output=True, text=True, timeout=300, check=True,
    )
    return json.loads(done.stdout)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copy2(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(REPO / "environments", tmp_path / "environments")
    (tmp_path / "xrds").mkdir()
    (tmp_path / "compositions").mkdir()
    return tmp_path


def test_a_project_without_xrds_uses_the_installed_apis_and_synthesizes_the_same(
    project: Path, synthesis: Synthesis
) -> None:
    found = discover_with_installed_apis(project)
    assert found["apis"] == ["AcceleratorQuota", "GPUNodePool", "ModelBucket", "ModelEndpoint"]
    assert {name.rsplit(".", 1)[0] for name in found["compositions"]} == {"aiplane.shipped.compositions"}
    assert found["objects"] == json.loads(json.dumps(synthesis.objects()))


def test_the_projects_own_module_of_a_kind_wins_over_the_installed_one(project: Path) -> None:
    shutil.copy2(REPO / "xrds" / "gpunodepool.py", project / "xrds" / "gpunodepool.py")
    shutil.copy2(REPO / "compositions" / "gpunodepool_eks.py", project / "compositions" / "gpunodepool_eks.py")
    found = discover_with_installed_apis(project)
    assert found["apis"] == ["AcceleratorQuota", "GPUNodePool", "ModelBucket", "ModelEndpoint"]
    assert found["compositions"] == [
        "aiplane.shipped.compositions.acceleratorquota_servicequotas",
        "aiplane.shipped.compositions.modelbucket_s3",
        "aiplane.shipped.compositions.modelendpoint_sagemaker",
        "aiplane_project.compositions.gpunodepool_eks",
    ]


def test_two_installed_packages_defining_one_kind_are_refused(project: Path) -> None:
    found = discover_with_installed_apis(project, [("again", "aiplane.shipped.xrds.gpunodepool:API")])
    assert "platform API GPUNodePool is already defined in entry point" in found["error"]
