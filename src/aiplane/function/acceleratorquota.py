"""AcceleratorQuota: observe the quota the account has, and file one increase request only when it is short.

Why not one ServiceQuota with the wanted value (what a plain P&T Composition composes): the Terraform resource
behind it (terraform-provider-aws internal/service/servicequotas/service_quota.go) refuses to create with a
value below the current quota ("requesting Service Quotas Service Quota (…) with value less than current"),
so an account that already has more is Synced=False for good; and after a DENIED request its Read sets
`value` back to the applied quota while the spec still asks for more, so every poll's Update files a new
request (RequestServiceQuotaIncrease) — a stream of support cases.

What is composed instead:
- `quota`: the same quota, observe-only (managementPolicies [Observe], external name `<service>/<code>`, the
  Terraform ID, which upjet derives from forProvider anyway: FormattedIdentifierFromProvider). Its
  `status.atProvider.value` is the value the account has now (the applied value, else AWS's default).
- `quota-request-<value>`: only while that value is below the XR's (`spec.vcpus` for EC2, `spec.instances`
  for SageMaker endpoint quotas): the quota with `value: <value>` and
  managementPolicies [Observe, Update], so the provider files exactly one increase (its Update). As soon as the
  provider reports a request status, the request drops to [Observe]: nothing can file a second one. Its name
  carries the requested value, so asking for a different value later is a new object with a fresh request,
  while a DENIED request for the same value is never filed again on its own (deleting the request object
  asks once more; see docs/day1.md).

The XR's status shows `value` (current), `requested`, `requestStatus` and `state`:
Observing → Sufficient, or Requesting → Pending → Sufficient (APPROVED) | Denied.
"""

from __future__ import annotations

from typing import Any

from aiplane.function.model import Object, Outcome, Request, ensure, get

KIND = "AcceleratorQuota"
QUOTA = "quota"
REQUEST = "quota-request"
# Service Quotas request statuses (API RequestedServiceQuotaChange.Status): still open, and closed without
# (fully) raising the quota.
OPEN = frozenset({"PENDING", "CASE_OPENED"})
CLOSED_UNGRANTED = frozenset({"DENIED", "CASE_CLOSED", "NOT_APPROVED", "INVALID_REQUEST"})
OBSERVE_ONLY = ["Observe"]
# Update files the request; no Create (the quota exists: Observe finds it by its external name), no Delete
# (a quota is never lowered), no LateInitialize (nothing to copy back).
FILE_ONCE = ["Observe", "Update"]


def request_name(value: Any) -> str:
    """The composition resource name of the request for `value` (one object, so one request, per value)."""
    number = float(value)
    return f"{REQUEST}-{int(number) if number.is_integer() else number}"


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _name_external(desired: dict[str, Object]) -> None:
    """Set each quota object's external name to its Terraform ID, `<service>/<code>`."""
    for obj in desired.values():
        service, code = get(obj, "spec", "forProvider", "serviceCode"), get(obj, "spec", "forProvider", "quotaCode")
        if isinstance(service, str) and isinstance(code, str):
            ensure(obj, "metadata", "annotations")["crossplane.io/external-name"] = f"{service}/{code}"


def decide(request: Request) -> Outcome:
    outcome = _decide(request)
    _name_external(outcome.desired)
    return outcome


def _decide(request: Request) -> Outcome:
    desired = dict(request.desired)
    template = desired.pop(REQUEST, None)
    field = "instances" if request.spec.get("service") == "sagemaker" else "vcpus"
    requested = _number(request.spec.get(field))
    current = _number(get(request.observed.get(QUOTA), "status", "atProvider", "value"))
    status: dict[str, Any] = {"requested": requested}
    if current is not None:
        status["value"] = current
    if requested is None:
        return Outcome(desired, {**status, "state": "Observing"}, [f"spec.{field} is not a number"])
    if current is None:
        # Nothing is requested before the provider has said what the account has.
        return Outcome(desired, {**status, "state": "Observing"})
    if current >= requested:
        return Outcome(desired, {**status, "state": "Sufficient"})
    if template is None:
        return Outcome(desired, {**status, "state": "Observing"}, ["no quota request to compose"])
    name = request_name(requested)
    request_status = get(request.observed.get(name), "status", "atProvider", "requestStatus")
    if request_status:
        status["requestStatus"] = request_status
    composed: Object = template
    ensure(composed, "spec")["managementPolicies"] = FILE_ONCE if not request_status else OBSERVE_ONLY
    desired[name] = composed
    warnings = []
    if not request_status:
        state = "Requesting"
    elif request_status in OPEN:
        state = "Pending"
    elif request_status in CLOSED_UNGRANTED:
        state = "Denied"
        warnings.append(
            f"the request to raise the quota to {requested:g} was {request_status}; it is not filed again "
            f"(the account has {current:g}). Ask AWS Support, or delete the request object to file once more."
        )
    else:
        # APPROVED while the applied value is still below: AWS applies approved values with a delay.
        state = "Pending"
    return Outcome(desired, {**status, "state": state}, warnings)
