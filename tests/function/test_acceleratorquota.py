"""AcceleratorQuota through function-aiplane, reconcile after reconcile: the observed state the provider
reports decides whether a request exists and whether it may file one. Each test walks a sequence of
observed states, as Crossplane would call the function after each provider poll."""

from __future__ import annotations

import copy
from typing import Any

from aiplane.function.acceleratorquota import FILE_ONCE, OBSERVE_ONLY, QUOTA, REQUEST, request_name
from aiplane.function.logic import run
from aiplane.function.model import Outcome, Request

XR = {"apiVersion": "ai.aiplane.io/v1alpha1", "kind": "AcceleratorQuota", "spec": {"vcpus": 192}}


def _template() -> dict[str, Any]:
    return {
        "apiVersion": "servicequotas.aws.m.upbound.io/v1beta1",
        "kind": "ServiceQuota",
        "spec": {"managementPolicies": ["Observe"], "forProvider": {"serviceCode": "ec2", "value": 192}},
    }


def _desired() -> dict[str, dict[str, Any]]:
    """What P&T hands the function: the observer and the request template."""
    return {QUOTA: _template(), REQUEST: _template()}


def _observed_quota(value: float) -> dict[str, Any]:
    return {**_template(), "status": {"atProvider": {"value": value}}}


def _observed_request(outcome: Outcome, name: str, request_status: str | None) -> dict[str, Any]:
    obj = copy.deepcopy(outcome.desired[name])
    obj["status"] = {"atProvider": {"value": 192, **({"requestStatus": request_status} if request_status else {})}}
    return obj


def _reconcile(observed: dict[str, dict[str, Any]], xr: dict[str, Any] = XR) -> Outcome:
    return run(Request(xr, _desired(), observed))


def test_nothing_is_requested_before_the_current_value_is_known() -> None:
    first = _reconcile({})
    assert set(first.desired) == {QUOTA}
    assert first.status == {"requested": 192, "state": "Observing"}


def test_an_account_that_already_has_more_gets_no_request_and_is_never_failing() -> None:
    outcome = _reconcile({QUOTA: _observed_quota(384)})
    assert set(outcome.desired) == {QUOTA}
    assert outcome.status == {"requested": 192, "value": 384, "state": "Sufficient"}
    assert outcome.warnings == []


def test_a_short_account_files_one_request_then_stops_filing_while_it_is_pending() -> None:
    short = {QUOTA: _observed_quota(64)}
    filing = _reconcile(short)
    name = request_name(192)
    assert name == "quota-request-192"
    assert set(filing.desired) == {QUOTA, name}
    assert filing.desired[name]["spec"]["managementPolicies"] == FILE_ONCE
    assert filing.status["state"] == "Requesting"
    # The provider filed it (its Update) and reports the request: from now on nothing may file again.
    pending = _reconcile({**short, name: _observed_request(filing, name, "PENDING")})
    assert pending.desired[name]["spec"]["managementPolicies"] == OBSERVE_ONLY
    assert pending.status == {"requested": 192, "value": 64, "requestStatus": "PENDING", "state": "Pending"}
    opened = _reconcile({**short, name: _observed_request(filing, name, "CASE_OPENED")})
    assert opened.desired[name]["spec"]["managementPolicies"] == OBSERVE_ONLY
    assert opened.status["state"] == "Pending"


def test_an_approved_request_ends_in_sufficient_and_the_request_object_goes() -> None:
    name = request_name(192)
    filing = _reconcile({QUOTA: _observed_quota(64)})
    approved = _reconcile({QUOTA: _observed_quota(192), name: _observed_request(filing, name, "APPROVED")})
    assert set(approved.desired) == {QUOTA}
    assert approved.status["state"] == "Sufficient"


def test_approved_but_not_yet_applied_waits_without_filing() -> None:
    name = request_name(192)
    filing = _reconcile({QUOTA: _observed_quota(64)})
    applying = _reconcile({QUOTA: _observed_quota(64), name: _observed_request(filing, name, "APPROVED")})
    assert applying.desired[name]["spec"]["managementPolicies"] == OBSERVE_ONLY
    assert applying.status["state"] == "Pending"


def test_a_denied_request_is_never_filed_again_on_its_own_and_says_so() -> None:
    name = request_name(192)
    short = {QUOTA: _observed_quota(64)}
    filing = _reconcile(short)
    denied_obj = _observed_request(filing, name, "DENIED")
    for _ in range(3):  # every later poll
        denied = _reconcile({**short, name: denied_obj})
        assert denied.desired[name]["spec"]["managementPolicies"] == OBSERVE_ONLY
        assert denied.status == {"requested": 192, "value": 64, "requestStatus": "DENIED", "state": "Denied"}
        assert len(denied.warnings) == 1 and "DENIED" in denied.warnings[0] and "not filed again" in denied.warnings[0]


def test_asking_for_a_different_value_is_a_new_request_object_that_files_once() -> None:
    old = request_name(192)
    filing = _reconcile({QUOTA: _observed_quota(64)})
    denied = {QUOTA: _observed_quota(64), old: _observed_request(filing, old, "DENIED")}
    bigger = {**XR, "spec": {"vcpus": 128}}
    again = _reconcile(denied, bigger)
    new = request_name(128)
    # The denied request's object is no longer desired (Crossplane deletes the object; no AWS call: the
    # Terraform resource's Delete is a no-op), and the new value gets its own, not yet filed, request.
    assert set(again.desired) == {QUOTA, new}
    assert again.desired[new]["spec"]["managementPolicies"] == FILE_ONCE
    assert again.status["state"] == "Requesting"


def test_request_names_are_stable_for_the_numbers_kubernetes_sends() -> None:
    # The gRPC face sees every number as a float (protobuf Struct); in process they are ints.
    assert request_name(192) == request_name(192.0) == "quota-request-192"


def test_each_quota_object_is_named_by_its_terraform_id() -> None:
    desired = _desired()
    for obj in desired.values():
        obj["spec"]["forProvider"]["quotaCode"] = "L-3819A6DF"
    outcome = run(Request(XR, desired, {QUOTA: _observed_quota(8)}))
    for obj in outcome.desired.values():
        assert obj["metadata"]["annotations"]["crossplane.io/external-name"] == "ec2/L-3819A6DF"


def test_a_sagemaker_endpoint_quota_is_requested_in_instances() -> None:
    xr = {**XR, "spec": {"service": "sagemaker", "instanceType": "ml.g5.xlarge", "instances": 3}}
    outcome = _reconcile({QUOTA: _observed_quota(1)}, xr)
    assert set(outcome.desired) == {QUOTA, request_name(3)}
    assert outcome.status == {"requested": 3, "value": 1, "state": "Requesting"}
    assert _reconcile({QUOTA: _observed_quota(4)}, xr).status["state"] == "Sufficient"
