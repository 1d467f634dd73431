"""schemas/environment.schema.json: editors get the loader's own rules. The shipped environments pass it, and
on a set of bad inputs the schema refuses exactly what the loader refuses; the cross-field rules only the loader
can judge are listed (and documented in docs/authoring.md)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import yaml
from project_copy import REPO, run_aiplane

from aiplane.errors import InputError
from aiplane.project import Settings
from aiplane.synthesis.discovery import Project, discover
from aiplane.synthesis.environment import load_environment
from aiplane.synthesis.environment_schema import SCHEMA_PATH, render

Doc = dict[str, Any]


@pytest.fixture(scope="module")
def project(settings: Settings) -> Project:
    return discover(settings)


@pytest.fixture(scope="module")
def validator(project: Project) -> Any:
    return jsonschema_rs.Draft202012Validator(json.loads(render(project.apis)))


def prod() -> Doc:
    return yaml.safe_load((REPO / "environments/prod.yaml").read_text())


def loader_refuses(tmp_path: Path, project: Project, doc: Doc) -> bool:
    path = tmp_path / "prod.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    try:
        load_environment(path, project)
    except InputError:
        return True
    return False


def test_the_committed_schema_is_the_models_schema(project: Project) -> None:
    assert (REPO / SCHEMA_PATH).read_text() == render(project.apis)
    schema = json.loads(render(project.apis))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    pool = schema["properties"]["nodePools"]["items"]["properties"]
    assert pool["capacity"]["enum"] == ["onDemand", "spot", "mixed"]  # enums from the Literal
    assert pool["capacity"]["default"] == "onDemand"  # defaults
    assert pool["name"]["maxLength"] == project.apis["GPUNodePool"].max_name_length
    assert "Ceiling" in schema["properties"]["finops"]["properties"]["budgetPerHour"]["description"]  # docstring
    assert '"$ref"' not in json.dumps(schema["properties"]["nodePools"])  # items are self-contained


def test_the_command_prints_it_or_writes_it(tmp_path: Path) -> None:
    printed = run_aiplane(REPO, "schema", "environment")
    assert printed.returncode == 0 and printed.stdout == (REPO / SCHEMA_PATH).read_text()
    written = run_aiplane(REPO, "schema", "environment", "-o", str(tmp_path / "env.schema.json"))
    assert written.returncode == 0 and (tmp_path / "env.schema.json").read_text() == printed.stdout


@pytest.mark.parametrize("name", ["dev", "staging", "prod"])
def test_every_shipped_environment_passes_and_names_the_schema(validator: Any, name: str) -> None:
    path = REPO / "environments" / f"{name}.yaml"
    errors = [e.message for e in validator.iter_errors(yaml.safe_load(path.read_text()))]
    assert errors == []
    assert path.read_text().splitlines()[0] == f"# yaml-language-server: $schema=../{SCHEMA_PATH}"


def _set(path: str, value: Any) -> Callable[[Doc], None]:
    def change(doc: Doc) -> None:
        *parents, leaf = path.split(".")
        cur: Any = doc
        for part in parents:
            cur = cur[int(part)] if part.isdigit() else cur[part]
        if value is DELETE:
            del cur[int(leaf) if leaf.isdigit() else leaf]
        else:
            cur[int(leaf) if leaf.isdigit() else leaf] = value

    return change


DELETE = object()

# Bad inputs both refuse: unknown fields, wrong enums, wrong types (strict: no coercion), missing required
# fields, patterns and bounds, at the top level and inside items of every platform API.
REFUSED_BY_BOTH = {
    "unknown top-level field": _set("nodepools", []),
    "unknown item field": _set("nodePools.0.instanceType", "p5.48xlarge"),
    "wrong enum (tier)": _set("nodePools.0.finops", {"tier": "gold"}),
    "wrong enum (capacity)": _set("nodePools.0.capacity", "reserved"),
    "string for an integer": _set("nodePools.0.scaling.maxSize", "4"),
    "boolean for an integer": _set("nodePools.0.scaling.maxSize", True),
    "number below its bound": _set("finops.budgetPerHour", 0),
    "missing required setting": _set("accountId", DELETE),
    "missing required item field": _set("buckets.0.purpose", DELETE),
    "item without a name": _set("buckets.0.name", DELETE),
    "name against its pattern": _set("buckets.0.name", "Model_Bucket"),
    "account id pattern": _set("accountId", "1234"),
    "quotas neither a list nor auto": _set("quotas", "sometimes"),
    "unknown field in a nested block": _set("finops.spot.discount", 0.5),
    "a list where a mapping belongs": _set("finops", []),
    "instance type not in the catalog": _set("nodePools.0.instanceTypes", ["p9.48xlarge"]),
    "partial thresholds' wrong type": _set("endpoints.0.ethicsMonitor.thresholds", {"critical": {"demographicParityRatio": "high"}}),
    "a waiver without its rule": _set("nodePools.0.waivers", [{"reason": "r", "expires": "2027-01-31"}]),
    "a waiver with an unknown field": _set(
        "nodePools.0.waivers", [{"rule": "max-cost-per-hour", "expires": "2027-01-31", "until": "later"}]
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED_BY_BOTH))
def test_the_schema_refuses_what_the_loader_refuses(
    tmp_path: Path, project: Project, validator: Any, case: str
) -> None:
    doc = copy.deepcopy(prod())
    REFUSED_BY_BOTH[case](doc)
    assert loader_refuses(tmp_path, project, doc)
    assert not validator.is_valid(doc)


# What only the loader can judge: rules across fields, files or the catalog (docs/authoring.md lists them).
REFUSED_BY_THE_LOADER_ONLY = {
    "minSize above maxSize": _set("nodePools.0.scaling.minSize", 50),
    "name differs from the file name": _set("name", "production"),
    "capture bucket not declared": _set("endpoints.0.bucketRef.name", "no-such-bucket"),
}


@pytest.mark.parametrize("case", sorted(REFUSED_BY_THE_LOADER_ONLY))
def test_cross_field_rules_are_the_loaders(tmp_path: Path, project: Project, validator: Any, case: str) -> None:
    doc = copy.deepcopy(prod())
    REFUSED_BY_THE_LOADER_ONLY[case](doc)
    assert loader_refuses(tmp_path, project, doc)
    assert validator.is_valid(doc)  # if this fails, the schema learned the rule: move the case up


def test_items_may_leave_out_what_the_environment_fills(tmp_path: Path, project: Project, validator: Any) -> None:
    """region, finops cost center and owner, and each API's optional_in_environment (bucketName, clusterName)."""
    doc = prod()
    doc["buckets"].append({"name": "extra", "purpose": "datasets", "finops": {"tier": "batch"}})
    doc["nodePools"].append(
        {"name": "small", "instanceTypes": ["g5.xlarge"], "scaling": {"minSize": 0, "maxSize": 1},
         "finops": {"tier": "batch"}}
    )
    assert validator.is_valid(doc)
    assert not loader_refuses(tmp_path, project, doc)


def test_items_may_carry_waivers(tmp_path: Path, project: Project, validator: Any) -> None:
    """`waivers` sits beside an item's spec fields (docs/guardrails.md#waivers); schema and loader accept it."""
    doc = prod()
    doc["nodePools"][0]["waivers"] = [
        {"rule": "max-cost-per-hour", "reason": "launch week", "expires": "2027-01-31", "approvedBy": "finops"}
    ]
    assert validator.is_valid(doc)
    assert not loader_refuses(tmp_path, project, doc)
