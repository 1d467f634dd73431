"""Every name aiplane derives fits its limit, for the longest inputs the environment file accepts: Kubernetes
names and label values (63; CronJob names 52), EKS node group, S3 bucket and SageMaker names (63), IAM role
names (64). The bounds on environment and item names and on costCenter/owner guarantee it."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import yaml
from shipped_manifests import REPO
from shipped_manifests import docs as _docs

sys.path.insert(0, str(REPO / "tests" / "synth"))
from project_copy import copy_project, run_aiplane

from aiplane.authoring.api import ENVIRONMENT_NAME_MAX
from aiplane.crossplane.render import select_composition, settle

ENV = "e" * (ENVIRONMENT_NAME_MAX - 2) + "-x"
LONGEST = {"nodePools": 28, "buckets": 29, "endpoints": 37}
# AWS name limits of the external names the Compositions derive (EKS CreateNodegroup, S3 bucket naming
# rules, SageMaker CreateEndpoint/EndpointConfig/Model, IAM CreateRole, CloudWatch PutMetricAlarm and PutCompositeAlarm).
EXTERNAL_NAME_LIMITS = {"NodeGroup": 63, "Bucket": 63, "Endpoint": 63, "EndpointConfiguration": 63,
                        "Model": 63, "Role": 64, "MetricAlarm": 255,
                        # PutCompositeAlarm AlarmName: 1–255 (Amazon CloudWatch API Reference).
                        "CompositeAlarm": 255,
                        # `<service_code>/<quota_code>`: 1–63 and 1–128 characters (terraform-provider-aws
                        # servicequotas/service_quota.go ValidateFunc).
                        "ServiceQuota": 63 + 1 + 128}
K8S_NAME_LIMITS = {"CronJob": 52}
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def _longest_environment(project: Path) -> None:
    """dev.yaml with every name at its maximum length."""
    src = project / "environments" / "dev.yaml"
    data: dict[str, Any] = yaml.safe_load(src.read_text())
    data["name"] = ENV
    data["namespace"] = "n" * 63
    data["finops"]["costCenter"] = "c" * 63
    data["finops"]["owner"] = "o" * 63
    renames = {}
    for key, length in LONGEST.items():
        for i, item in enumerate(data[key]):
            new = (item["name"][0] * length)[: length - 2] + f"-{i}"
            renames[item["name"]] = new
            item["name"] = new
    for endpoint in data["endpoints"]:
        endpoint["bucketRef"]["name"] = renames[endpoint["bucketRef"]["name"]]
    src.unlink()
    (project / "environments" / f"{ENV}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))


def test_every_derived_name_fits_for_the_longest_accepted_inputs(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    _longest_environment(project)
    done = run_aiplane(project, "synth")
    assert done.returncode == 0, done.stderr
    objs = _docs(project / "manifests" / "environments" / ENV)
    comps = [d for d in _docs(project / "manifests" / "platform") if d["kind"] == "Composition"]
    checked = 0
    for xr in (o for o in objs if "crossplane" in o.get("spec", {})):
        assert len(xr["metadata"]["name"]) <= 63
        # The engine names composed resources <xr>-<12 hex>.
        assert len(xr["metadata"]["name"]) + 13 <= 63
        for res in settle(xr, select_composition(xr, comps)).resources:
            meta = res.obj.get("metadata") or {}
            if "name" in meta:
                assert len(meta["name"]) <= K8S_NAME_LIMITS.get(res.obj["kind"], 63), (res.name, meta["name"])
            external = (meta.get("annotations") or {}).get("crossplane.io/external-name")
            if external is not None:
                assert len(external) <= EXTERNAL_NAME_LIMITS[res.obj["kind"]], (res.name, external)
                checked += 1
            for value in (meta.get("labels") or {}).values():
                assert len(value) <= 63 and LABEL_VALUE.match(value), (res.name, value)
    assert checked >= 5


def test_names_one_character_longer_are_refused_with_the_reason(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    env_file = project / "environments" / "dev.yaml"
    text = env_file.read_text()
    long_pool = "p" * (LONGEST["nodePools"] + 1)
    env_file.write_text(text.replace("  - name: experiments\n", f"  - name: {long_pool}\n", 1))
    done = run_aiplane(project, "synth")
    assert done.returncode == 2
    assert f"name {long_pool!r} is 29 characters; at most 28 for a GPUNodePool" in done.stderr
    assert "<environment>-<name>-ondemand" in done.stderr
