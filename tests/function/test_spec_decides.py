"""The spec alone decides what is composed: function-aiplane's logic per API, on what P&T composed."""

from __future__ import annotations

from typing import Any

import pytest

from aiplane.function import gpunodepool, modelbucket
from aiplane.function.logic import run
from aiplane.function.model import Request


def _node_group(capacity_type: str) -> dict[str, Any]:
    return {
        "apiVersion": "eks.aws.m.upbound.io/v1beta1",
        "kind": "NodeGroup",
        "spec": {
            "forProvider": {"capacityType": capacity_type, "scalingConfig": {"minSize": 0, "maxSize": 8}},
            "initProvider": {"scalingConfig": {"desiredSize": 0}},
        },
    }


def _groups(desired: dict[str, Any]) -> dict[str, Any]:
    """Node groups by base name (their composition resource names carry a revision hash)."""
    return {name.rsplit("-", 1)[0]: obj for name, obj in desired.items() if name.startswith("nodegroup-")}


def _pool(**spec: Any) -> Request:
    desired = {"node-role": {"kind": "Role"}, gpunodepool.ON_DEMAND: _node_group("ON_DEMAND"),
               gpunodepool.SPOT: _node_group("SPOT")}
    return Request({"kind": "GPUNodePool", "spec": spec}, desired)


@pytest.mark.parametrize(
    ("capacity", "groups"),
    [("onDemand", {gpunodepool.ON_DEMAND}), ("spot", {gpunodepool.SPOT}),
     ("mixed", {gpunodepool.ON_DEMAND, gpunodepool.SPOT})],
)
def test_capacity_decides_the_node_groups(capacity: str, groups: set[str]) -> None:
    extra = {"onDemandBaseSize": 2} if capacity == "mixed" else {}
    outcome = run(_pool(capacity=capacity, **extra))
    assert set(_groups(outcome.desired)) == groups and "node-role" in outcome.desired
    capacity_types = {_groups(outcome.desired)[g]["spec"]["forProvider"]["capacityType"] for g in groups}
    assert capacity_types == {"ON_DEMAND": {"ON_DEMAND"}, "SPOT": {"SPOT"}}.get(
        {"onDemand": "ON_DEMAND", "spot": "SPOT"}.get(capacity, ""), {"ON_DEMAND", "SPOT"}
    )


def test_a_hand_applied_spot_pool_gets_spot_nodes_without_any_composition_ref() -> None:
    outcome = run(_pool(capacity="spot"))
    assert [g["spec"]["forProvider"]["capacityType"] for g in _groups(outcome.desired).values()] == ["SPOT"]


def test_mixed_pins_the_on_demand_base_and_lets_spot_burst() -> None:
    outcome = run(_pool(capacity="mixed", onDemandBaseSize=2))
    base = _groups(outcome.desired)[gpunodepool.ON_DEMAND]["spec"]
    assert base["forProvider"]["scalingConfig"] == {"minSize": 2, "maxSize": 2}
    assert base["initProvider"]["scalingConfig"] == {"desiredSize": 2}
    assert _groups(outcome.desired)[gpunodepool.SPOT]["spec"]["forProvider"]["scalingConfig"] == {"minSize": 0, "maxSize": 8}


def test_mixed_without_a_base_composes_no_on_demand_group_and_warns() -> None:
    outcome = run(_pool(capacity="mixed"))
    assert gpunodepool.ON_DEMAND not in _groups(outcome.desired)
    assert outcome.warnings


def test_an_unknown_capacity_composes_no_node_group_rather_than_guessing() -> None:
    outcome = run(_pool(capacity="reserved"))
    assert set(outcome.desired) == {"node-role"}
    assert "reserved" in outcome.warnings[0]


def _bucket(kms: dict[str, Any]) -> Request:
    encryption = {
        "kind": "BucketServerSideEncryptionConfiguration",
        "spec": {"forProvider": {"rule": [{"applyServerSideEncryptionByDefault": {
            "sseAlgorithm": "aws:kms", "kmsMasterKeyIdSelector": {"matchControllerRef": True}}}]}},
    }
    desired = {modelbucket.KMS_KEY: {"kind": "Key"}, modelbucket.ENCRYPTION: encryption, "bucket": {"kind": "Bucket"}}
    return Request({"kind": "ModelBucket", "spec": {"kmsKey": kms}}, desired)


def test_managed_mode_keeps_the_composed_key() -> None:
    outcome = run(_bucket({"mode": "managed"}))
    assert set(outcome.desired) == {modelbucket.KMS_KEY, modelbucket.ENCRYPTION, "bucket"}


def test_external_mode_drops_the_key_and_encrypts_with_the_named_one() -> None:
    arn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    outcome = run(_bucket({"mode": "external", "keyArn": arn}))
    assert modelbucket.KMS_KEY not in outcome.desired
    by_default = outcome.desired[modelbucket.ENCRYPTION]["spec"]["forProvider"]["rule"][0][
        "applyServerSideEncryptionByDefault"
    ]
    assert by_default == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": arn}


def test_external_mode_without_a_key_arn_never_encrypts_with_a_key_nobody_named() -> None:
    outcome = run(_bucket({"mode": "external"}))
    assert modelbucket.ENCRYPTION not in outcome.desired and modelbucket.KMS_KEY not in outcome.desired
    assert "keyArn" in outcome.warnings[0]


def test_a_kind_without_logic_passes_through() -> None:
    desired = {"thing": {"kind": "ConfigMap"}}
    assert run(Request({"kind": "SomethingATeamAdded"}, desired)).desired == desired
