"""The endpoint execution role pulls its image from that image's ECR repository only."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from shipped_manifests import MANIFESTS, REPO
from shipped_manifests import docs as _docs

sys.path.insert(0, str(REPO / "tests" / "synth"))
from project_copy import copy_project, run_aiplane

from aiplane.crossplane.render import select_composition, settle


def test_each_endpoint_role_pulls_only_from_its_own_repository() -> None:
    comps = [d for d in _docs(MANIFESTS / "platform") if d["kind"] == "Composition"]
    endpoints = [d for d in _docs(MANIFESTS / "environments") if d["kind"] == "ModelEndpoint"]
    assert len(endpoints) >= 3
    for xr in endpoints:
        [role] = [r for r in settle(xr, select_composition(xr, comps)).resources if r.name == "execution-role"]
        repository = xr["spec"]["image"].split("/", 1)[1].split(":")[0].split("@")[0]
        pulls = []
        for inline in role.for_provider["inlinePolicy"]:
            for statement in json.loads(inline["policy"])["Statement"]:
                if any(a.startswith("ecr:") and a != "ecr:GetAuthorizationToken" for a in statement["Action"]):
                    pulls.append(statement["Resource"])
        assert pulls == [[f"arn:aws:ecr:*:*:repository/{repository}"]], xr["metadata"]["name"]


def test_an_image_outside_ecr_is_refused_at_its_line(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    env_file = project / "environments" / "dev.yaml"
    text = env_file.read_text()
    env_file.write_text(text.replace("image: 111122223333.dkr.ecr.us-east-1.amazonaws.com/sentiment:0.4.0",
                                     "image: docker.io/library/sentiment:0.4.0"))
    done = run_aiplane(project, "synth")
    assert done.returncode == 2
    assert "environments/dev.yaml:" in done.stderr and "endpoints[0].image" in done.stderr


def test_each_endpoint_role_uses_kms_only_for_its_two_buckets_through_s3() -> None:
    comps = [d for d in _docs(MANIFESTS / "platform") if d["kind"] == "Composition"]
    for xr in (d for d in _docs(MANIFESTS / "environments") if d["kind"] == "ModelEndpoint"):
        [role] = [r for r in settle(xr, select_composition(xr, comps)).resources if r.name == "execution-role"]
        contexts = set()
        for inline in role.for_provider["inlinePolicy"]:
            for statement in json.loads(inline["policy"])["Statement"]:
                if not any(a.startswith("kms:") for a in statement["Action"]):
                    continue
                condition = statement["Condition"]
                contexts.add(condition["StringEquals"]["kms:EncryptionContext:aws:s3:arn"])
                via = condition.get("StringEquals", {}).get("kms:ViaService") or condition["StringLike"]["kms:ViaService"]
                assert via.startswith("s3.") and via.endswith(".amazonaws.com")
        model_bucket = xr["spec"]["modelDataUrl"].removeprefix("s3://").split("/")[0]
        assert contexts == {f"arn:aws:s3:::{model_bucket}", f"arn:aws:s3:::{xr['spec']['bucketRef']['bucketName']}"}
