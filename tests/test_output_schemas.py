"""Every command's JSON is documented by a JSON Schema in docs/schemas/ (listed in docs/output.md), and the real
output of each command validates against it. Keys are camelCase, as in Kubernetes, in every schema; objects
allow no other keys, so an output key in another style fails its schema. Audit and rightsize output are
validated where their tests produce them (tests/audit, tests/rightsizing)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from output_schema import SCHEMAS, assert_matches, schema

sys.path.insert(0, str(Path(__file__).resolve().parent / "synth"))
from project_copy import copy_project, run_aiplane

DOCS = Path(__file__).resolve().parents[1] / "docs"
CAMEL = re.compile(r"^[a-z][a-zA-Z0-9]*$")


def _property_names(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = list(node.get("properties", {})) if isinstance(node.get("properties"), dict) else []
        return own + [n for value in node.values() for n in _property_names(value)]
    if isinstance(node, list):
        return [n for value in node for n in _property_names(value)]
    return []


@pytest.mark.parametrize("path", sorted(SCHEMAS.glob("*.schema.json")), ids=lambda p: p.name)
def test_every_schema_is_valid_camel_case_and_listed_in_docs_output(path: Path) -> None:
    name = path.name.removesuffix(".schema.json")
    names = _property_names(schema(name))
    assert names and all(CAMEL.match(n) for n in names), [n for n in names if not CAMEL.match(n)]
    assert f"schemas/{path.name}" in (DOCS / "output.md").read_text()


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A committed copy of the project with synthesized manifests, then prod changed in the working tree."""
    project = copy_project(tmp_path_factory.mktemp("schemas"))
    assert run_aiplane(project, "synth").returncode == 0
    git = ["git", "-C", str(project), "-c", "user.email=t@example.org", "-c", "user.name=t"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "base"]):
        subprocess.run([*git, *args], check=True)
    prod = project / "environments/prod.yaml"
    prod.write_text(prod.read_text().replace("scaling: {minSize: 1, maxSize: 2}", "scaling: {minSize: 1, maxSize: 3}"))
    return project


def _json(project: Path, *args: str, codes: tuple[int, ...] = (0,)) -> Any:
    done = run_aiplane(project, *args, "--format", "json")
    assert done.returncode in codes, done.stderr
    return json.loads(done.stdout)


def test_cost_output_matches_its_schema(project: Path) -> None:
    assert_matches(_json(project, "cost"), "cost")


@pytest.mark.parametrize("show_all", [False, True])
def test_cost_diff_output_matches_its_schema(project: Path, show_all: bool) -> None:
    document = _json(project, "cost", "--diff", "HEAD", *(["--show-all"] if show_all else []))
    assert document["environments"], "the change to prod must show"
    assert_matches(document, "cost-diff")


def test_plan_output_matches_its_schema(project: Path) -> None:
    document = _json(project, "plan", "--against", "HEAD", codes=(0, 1))
    assert document["xrs"], "the change to prod must plan something"
    assert_matches(document, "plan")


def test_catalog_status_output_matches_its_schema(project: Path) -> None:
    assert_matches(_json(project, "catalog", "status", codes=(0, 1)), "catalog-status")


def test_a_snake_case_key_fails_the_schema(project: Path) -> None:
    document = _json(project, "cost")
    document["environments"][0]["budget_per_hour"] = document["environments"][0].pop("budgetPerHour")
    with pytest.raises(AssertionError, match="budget_per_hour"):
        assert_matches(document, "cost")
