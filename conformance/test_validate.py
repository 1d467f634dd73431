"""`crossplane beta validate` (the real Crossplane CLI, Kubernetes' own structural-schema, unknown-field and CEL
validation) over manifests/ and over everything the real engine renders from it."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from realengine import Engine, EngineError, Rendered
from shipped import CRDS, MANIFESTS, Case, cases

# The CLI always adds the Crossplane image to its download list; a cache folder pre-seeded with the core CRDs
# under the name it expects (`<image with ':' replaced by '@'>`) keeps it offline. The tag is the core's.
CROSSPLANE_IMAGE = "xpkg.crossplane.io/crossplane/crossplane:v2.3.4"
CORE_CRD_GROUPS = ("apiextensions.crossplane.io_", "pkg.crossplane.io_")


@pytest.fixture(scope="session")
def validate_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = tmp_path_factory.mktemp("crossplane-cache")
    image_dir = cache / CROSSPLANE_IMAGE.replace(":", "@")
    image_dir.mkdir(parents=True)
    for crd in sorted(CRDS.glob("*.yaml")):
        if crd.name.startswith(CORE_CRD_GROUPS):
            (image_dir / crd.name).write_bytes(crd.read_bytes())
    return cache


def extensions() -> list[Path]:
    """The shipped CRDs (providers, functions' inputs, Flux) and the XRDs in manifests/."""
    xrds = sorted((MANIFESTS / "platform").rglob("compositeresourcedefinition-*.yaml"))
    return [p for p in sorted(CRDS.glob("*.yaml")) if not p.name.startswith(CORE_CRD_GROUPS)] + xrds


def validate(engine: Engine, objs: list[dict[str, Any]], cache: Path, tmp: Path) -> str:
    """Validate `objs`; the CLI's failure lines when any object fails, '' when all pass."""
    target = tmp / "resources.yaml"
    target.write_text(yaml.safe_dump_all(objs, sort_keys=False))
    done = engine.validate(extensions(), target, cache, CROSSPLANE_IMAGE)
    if done.returncode != 0:
        output = (done.stdout + done.stderr).splitlines()
        return "\n".join(line for line in output if line.startswith(("[x]", "[!]"))) or "\n".join(output)
    assert "0 failure cases" in done.stdout, done.stdout
    return ""


def test_manifests_validate_with_the_real_cli(engine: Engine, validate_cache: Path, tmp_path: Path) -> None:
    """Every object in manifests/ that has a schema here (XRs, Compositions, XRDs, Flux, packages) validates."""
    objs = [
        d
        for path in sorted(MANIFESTS.rglob("*.yaml"))
        if path.name != "kustomization.yaml"
        for d in yaml.safe_load_all(path.read_text())
        if isinstance(d, dict) and d.get("apiVersion", "").split("/")[0] not in ("v1", "rbac.authorization.k8s.io")
    ]
    assert len(objs) > 40
    assert validate(engine, objs, validate_cache, tmp_path) == ""


def test_rendered_resources_validate_with_the_real_cli(
    engine: Engine, validate_cache: Path, tmp_path: Path
) -> None:
    """Everything the real engine composes for every shipped XR, first apply and next reconcile."""
    rendered: list[dict[str, Any]] = []
    for case in cases():
        first = engine.render(case.xr(), case.composition_object(), case.xrd())
        rendered += [first.xr, *first.composed]
    # Core Kubernetes kinds (ConfigMap, CronJob, ...) have no CRD: the CLI would report them as missing schemas.
    rendered = [o for o in rendered if "." in o["apiVersion"].split("/")[0]]
    assert len(rendered) > 60
    assert validate(engine, rendered, validate_cache, tmp_path) == ""


def _mutated(case: Case, resource: str, patch: dict[str, Any]) -> dict[str, Any]:
    comp = copy.deepcopy(case.composition_object())
    for step in comp["spec"]["pipeline"]:
        for res in (step.get("input") or {}).get("resources") or []:
            if res["name"] == resource:
                res.setdefault("patches", []).append(patch)
                return comp
    raise AssertionError(f"no resource {resource} in {case.composition}")


def _judge(engine: Engine, case: Case, comp: dict[str, Any], cache: Path, tmp: Path) -> str:
    """What the suite says about `comp`: the real engine's render error or the real CLI's validation errors."""
    try:
        first: Rendered = engine.render(case.xr(), comp, case.xrd())
    except EngineError as err:
        return str(err)
    return validate(engine, [first.xr, *first.composed], cache, tmp)


def _bucket_case() -> Case:
    return next(c for c in cases() if c.id == "dev/modelbucket-artifacts@modelbuckets-s3")


def test_suite_fails_on_a_patch_to_a_field_the_provider_does_not_have(
    engine: Engine, validate_cache: Path, tmp_path: Path
) -> None:
    case = _bucket_case()
    wrong_path = {"type": "FromCompositeFieldPath", "fromFieldPath": "spec.region", "toFieldPath": "spec.forProvider.regoin"}
    message = _judge(engine, case, _mutated(case, "bucket", wrong_path), validate_cache, tmp_path)
    assert 'spec.forProvider.regoin: Invalid value: "regoin": unknown field: "regoin"' in message


def test_suite_fails_on_a_patch_of_the_wrong_type(engine: Engine, validate_cache: Path, tmp_path: Path) -> None:
    case = _bucket_case()
    wrong_type = {"type": "FromCompositeFieldPath", "fromFieldPath": "spec.region", "toFieldPath": "spec.forProvider.deletionWindowInDays"}
    message = _judge(engine, case, _mutated(case, "kms-key", wrong_type), validate_cache, tmp_path)
    assert "spec.forProvider.deletionWindowInDays in body must be of type number" in message


def test_suite_fails_when_the_engine_refuses_a_transform(engine: Engine, validate_cache: Path, tmp_path: Path) -> None:
    """P&T's own error, not ours: a `convert` of a region string to int64."""
    case = _bucket_case()
    bad = {
        "type": "FromCompositeFieldPath",
        "fromFieldPath": "spec.region",
        "toFieldPath": "spec.forProvider.deletionWindowInDays",
        "transforms": [{"type": "convert", "convert": {"toType": "int64"}}],
    }
    message = _judge(engine, case, _mutated(case, "kms-key", bad), validate_cache, tmp_path)
    assert 'cannot render composed resource "kms-key"' in message
    assert "strconv.ParseInt" in message
