"""The monitor's spec is an API: what it refuses, pydantic (synth and check) and the XRD's CEL rules (an XR
applied by hand) refuse alike; it becomes a structural schema; and importing it costs no numerical library."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from ethics_traffic import monitor_spec
from pydantic import ValidationError

from aiplane.authoring.xrd import openapi_schema
from aiplane.ethics.spec import ALL, EthicsMonitorSpec, parse_json_path
from aiplane.validation import SchemaRegistry, Severity, validate_object
from aiplane.validation.xrds import structural_problems


def crd(spec_schema: dict[str, Any]) -> dict[str, Any]:
    """A CRD whose spec is the monitor's schema, so the real validator (schema and CEL) judges instances."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "monitors.test.aiplane.io"},
        "spec": {
            "group": "test.aiplane.io",
            "names": {
                "kind": "Monitor",
                "plural": "monitors",
                "singular": "monitor",
                "listKind": "MonitorList",
            },
            "scope": "Namespaced",
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "apiVersion": {"type": "string"},
                                "kind": {"type": "string"},
                                "metadata": {"type": "object"},
                                "spec": spec_schema,
                            },
                        }
                    },
                }
            ],
        },
    }


@pytest.fixture(scope="module")
def registry() -> SchemaRegistry:
    reg = SchemaRegistry(shipped=False)
    reg.add_crd(crd(openapi_schema(EthicsMonitorSpec)))
    return reg


def xrd_errors(registry: SchemaRegistry, spec: dict[str, Any]) -> list[str]:
    obj = {
        "apiVersion": "test.aiplane.io/v1",
        "kind": "Monitor",
        "metadata": {"name": "m", "namespace": "n"},
        "spec": spec,
    }
    return [f.message for f in validate_object(obj, registry) if f.severity == Severity.ERROR]


def pydantic_errors(spec: dict[str, Any]) -> list[str]:
    try:
        EthicsMonitorSpec.model_validate(spec, strict=True)
    except ValidationError as err:
        return [str(e["msg"]) for e in err.errors()]
    return []


def test_a_complete_spec_is_accepted_by_both_halves(registry: SchemaRegistry) -> None:
    spec = monitor_spec(groundTruth={"prefix": "ground-truth/x"}, warningTarget=monitor_spec()["alertTarget"])
    assert pydantic_errors(spec) == []
    assert xrd_errors(registry, spec) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda s: s["sensitiveAttributes"][0].update(jsonPath="gender"),
            "exactly one of csvColumn and jsonPath",
        ),
        (lambda s: s["prediction"].pop("jsonPath"), "exactly one of csvColumn and jsonPath"),
        (
            lambda s: s["thresholds"]["warning"].update(demographicParityRatio=0.5),
            "as strict as the critical ones",
        ),
        (
            lambda s: s["thresholds"]["warning"].update(demographicParityDifference=0.3),
            "as strict as the critical ones",
        ),
    ],
    ids=[
        "attribute-with-two-locators",
        "prediction-without-locator",
        "looser-warning-ratio",
        "looser-warning-difference",
    ],
)
def test_what_pydantic_refuses_the_xrd_refuses_too(
    registry: SchemaRegistry, change: Any, message: str
) -> None:
    spec = monitor_spec()
    change(spec)
    assert any(message in e for e in pydantic_errors(spec))
    assert any(message in e for e in xrd_errors(registry, spec))


def test_attribute_names_are_distinct_in_both_halves(registry: SchemaRegistry) -> None:
    spec = monitor_spec(
        sensitiveAttributes=[{"name": "gender", "csvColumn": 0}, {"name": "gender", "csvColumn": 1}]
    )
    assert any("must be distinct: gender" in e for e in pydantic_errors(spec))
    assert xrd_errors(registry, spec) != []  # x-kubernetes-list-type: map with key name


def test_bounds_outside_zero_to_one_and_unknown_fields_are_refused() -> None:
    spec = monitor_spec()
    spec["thresholds"]["critical"]["demographicParityRatio"] = 1.2
    spec["alertTargets"] = "x"
    errors = pydantic_errors(spec)
    assert any("less than or equal to 1" in e for e in errors)
    assert any("Extra inputs are not permitted" in e for e in errors)


def test_warning_defaults_to_critical_and_the_warning_target_to_the_alert_target() -> None:
    spec = EthicsMonitorSpec.model_validate(
        monitor_spec(thresholds={"critical": monitor_spec()["thresholds"]["critical"]})
    )
    assert spec.thresholds.effective_warning() == spec.thresholds.critical
    assert spec.warning_target() == spec.alertTarget
    assert (spec.minGroupSize, spec.confidence, spec.enabled, spec.action) == (30, 0.95, True, "alert")


def test_json_paths() -> None:
    assert parse_json_path("features.gender") == ("features", "gender")
    assert parse_json_path("instances[*].age_band") == ("instances", ALL, "age_band")
    assert parse_json_path("predictions[0][1].score") == ("predictions", 0, 1, "score")
    assert parse_json_path("[*]") == (ALL,)
    for bad in ("a[*].b[*]", "a..b", ".a", "a[x]", "a b"):
        with pytest.raises(ValueError):
            parse_json_path(bad)


def test_the_spec_is_a_structural_schema_without_unions() -> None:
    schema = openapi_schema(EthicsMonitorSpec)
    assert structural_problems(schema) == []
    assert "anyOf" not in json.dumps(schema)
    label = schema["properties"]["prediction"]["properties"]["positiveLabel"]
    assert label["x-kubernetes-int-or-string"] is True
    assert all(field.get("description") for field in schema["properties"].values())


def test_int_or_string_labels_are_accepted_in_both_halves(registry: SchemaRegistry) -> None:
    for label in (1, "approved"):
        spec = monitor_spec(prediction={"csvColumn": 0, "positiveLabel": label})
        assert pydantic_errors(spec) == []
        assert xrd_errors(registry, spec) == []


def test_importing_the_spec_and_the_metrics_loads_no_numerical_library() -> None:
    # The XRD and the Composition import these modules: synth must not pay for numpy, pandas or fairlearn.
    code = (
        "import sys, aiplane.ethics.spec, aiplane.ethics.metrics, aiplane.ethics.job\n"
        "print(sorted(m for m in ('numpy', 'pandas', 'fairlearn', 'sklearn', 'boto3') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
