"""ethics-monitor-attached: every model endpoint is watched by an ethics monitor — enabled, with data
capture on, an alert target and critical fairness thresholds no looser than the organisation's bounds — and
every Composition that fulfils ModelEndpoint composes a monitor that can work: its configuration (the
spec handed to the evaluator), the CronJob running as a service account that a Pod Identity association binds
to an IAM role, and a critical alarm on the breach metric the evaluator publishes (aiplane.ethics.metrics)
that notifies the alert target; and it enables data capture. A composition that drops or unwires any of
it is refused too."""

from __future__ import annotations

from collections.abc import Iterator

from aiplane.crossplane.composed import ComposedView, composed_resources, composite_kind
from aiplane.ethics import job, metrics
from aiplane.policy.config import Fraction, finite
from aiplane.policy.context import Manifest, RuleContext
from aiplane.policy.model import Finding, Rule

ENDPOINT_KIND = "ModelEndpoint"
MONITOR_PARTS = {
    "ConfigMap": "configuration ConfigMap",
    "CronJob": "evaluation CronJob",
    "ServiceAccount": "service account",
    "Role": "IAM role",
    "PodIdentityAssociation": "Pod Identity association (the IAM binding)",
    "MetricAlarm": "CloudWatch breach alarm",
}


def _check_endpoint(obj: Manifest, ctx: RuleContext) -> Iterator[Finding]:
    spec = obj.get("spec") or {}
    monitor = spec.get("ethicsMonitor")
    if not isinstance(monitor, dict):
        yield Finding(obj, "no ethicsMonitor attached", "spec.ethicsMonitor")
        return
    if monitor.get("enabled", True) is not True:  # the XRD defaults it to true
        yield Finding(obj, "ethicsMonitor.enabled is not true", "spec.ethicsMonitor.enabled")
    if not monitor.get("alertTarget"):
        yield Finding(obj, "ethicsMonitor has no alertTarget", "spec.ethicsMonitor.alertTarget")
    if not monitor.get("sensitiveAttributes"):
        yield Finding(
            obj, "ethicsMonitor names no sensitiveAttributes", "spec.ethicsMonitor.sensitiveAttributes"
        )
    capture = spec.get("dataCapture") or {}
    sampling = capture.get("samplingPercent", 100)
    if not finite(sampling) or sampling <= 0:
        yield Finding(obj, "data capture samples nothing: the monitor would be blind", "spec.dataCapture")
    if not isinstance(monitor.get("prediction"), dict):
        yield Finding(obj, "ethicsMonitor says nowhere where the prediction is", "spec.ethicsMonitor.prediction")
    thresholds = (monitor.get("thresholds") or {}).get("critical") or {}
    # The disparate impact ratio is fairlearn's demographic parity ratio (smallest / largest selection rate).
    bounds = (
        ("demographicParityDifference", "maxDemographicParityDifference", "above"),
        ("equalizedOddsDifference", "maxEqualizedOddsDifference", "above"),
        ("demographicParityRatio", "minDisparateImpactRatio", "below"),
    )
    for name, param, looser in bounds:
        value, bound = thresholds.get(name), ctx.params[param]
        field = f"spec.ethicsMonitor.thresholds.critical.{name}"
        if value is None:
            yield Finding(obj, f"no {name} threshold", field)
        elif not finite(value):
            # NaN compares false with every bound and inf beats all: only a finite number can be judged.
            yield Finding(obj, f"{name} threshold {value!r} is not a finite number", field,
                          fix=f"set {name} to {bound} or stricter")
        elif (looser == "above" and value > bound) or (looser == "below" and value < bound):
            yield Finding(
                obj,
                f"{name} threshold {value} is looser than the organisation's bound {bound}",
                field,
                fix=f"set {name} to {bound} or stricter",
            )


def _check_composition(obj: Manifest) -> Iterator[Finding]:
    resources = list(composed_resources(obj))
    kinds = {r.kind for r in resources}
    for kind, what in MONITOR_PARTS.items():
        if kind not in kinds:
            yield Finding(
                obj,
                f"does not compose the ethics monitor's {what} ({kind})",
                "spec.pipeline",
                fix="compose the monitor (see compositions/modelendpoint_sagemaker.py)",
            )
    yield from _wiring(obj, resources)
    configs = [r for r in resources if r.kind == "EndpointConfiguration"]
    if not configs:
        yield Finding(obj, "composes no EndpointConfiguration, so no data capture", "spec.pipeline")
    for res in configs:
        # Capture must be on in the base and out of any patch's reach, as the public-access settings of
        # bucket-security: a patch could switch it off from an XR field.
        capture = "spec.forProvider.dataCaptureConfig.enableCapture"
        if res.base_value(capture) is not True or res.writes(capture):
            yield Finding(
                obj,
                f"EndpointConfiguration {res.name!r} must enable dataCaptureConfig in its base, not by patch",
                f"{res.field_prefix}.base.{capture}",
            )
        if not res.writes("spec.forProvider.dataCaptureConfig.destinationS3Uri") and not res.base_value(
            "spec.forProvider.dataCaptureConfig.destinationS3Uri"
        ):
            yield Finding(
                obj,
                f"EndpointConfiguration {res.name!r} sets no capture destination",
                f"{res.field_prefix}.base.spec.forProvider.dataCaptureConfig.destinationS3Uri",
            )


def _wiring(obj: Manifest, resources: list[ComposedView]) -> Iterator[Finding]:
    """The parts are connected: what runs is told the spec, runs with the role, and breaches page someone."""
    fix = "wire the monitor as compositions/modelendpoint_sagemaker.py does"
    for res in resources:
        if res.kind == "ConfigMap" and not res.writes(f"data[{job.MONITOR_SPEC}]"):
            yield Finding(obj, f"ConfigMap {res.name!r} does not hand the evaluator spec.ethicsMonitor "
                          f"(data[{job.MONITOR_SPEC}])", f"{res.field_prefix}.patches", fix)
        if res.kind == "CronJob" and not res.writes("spec.jobTemplate.spec.template.spec.serviceAccountName"):
            yield Finding(obj, f"CronJob {res.name!r} does not run as the monitor's service account",
                          f"{res.field_prefix}.patches", fix)
        if res.kind == "PodIdentityAssociation" and not (
            res.writes("spec.forProvider.serviceAccount")
            and (res.base_value("spec.forProvider.roleArnSelector") or res.writes("spec.forProvider.roleArn"))
        ):
            yield Finding(obj, f"PodIdentityAssociation {res.name!r} binds no service account to a role",
                          f"{res.field_prefix}.base.spec.forProvider", fix)
    critical = [
        r for r in resources
        if r.kind == "MetricAlarm"
        and r.base_value("spec.forProvider.namespace") == metrics.NAMESPACE
        and r.base_value("spec.forProvider.metricName") == metrics.FAIRNESS_BREACH.name
        and r.base_value(f"spec.forProvider.dimensions.{metrics.SEVERITY}") == metrics.CRITICAL
    ]
    if not critical:
        yield Finding(obj, f"no MetricAlarm on {metrics.NAMESPACE} {metrics.FAIRNESS_BREACH.name} "
                      f"({metrics.SEVERITY}={metrics.CRITICAL}), the metric the evaluator publishes",
                      "spec.pipeline", fix)
    for res in critical:
        if not res.writes("spec.forProvider.alarmActions[0]"):
            yield Finding(obj, f"critical alarm {res.name!r} notifies nobody (alarmActions from alertTarget)",
                          f"{res.field_prefix}.patches", fix)


def check(obj: Manifest, ctx: RuleContext) -> Iterator[Finding]:
    if ctx.api_of(obj) is not None and obj.get("kind") == ENDPOINT_KIND:
        yield from _check_endpoint(obj, ctx)
    elif obj.get("kind") == "Composition" and composite_kind(obj) == ENDPOINT_KIND:
        yield from _check_composition(obj)


RULE = Rule(
    id="ethics-monitor-attached",
    title="Every model endpoint has an ethics monitor on captured inference data",
    severity="critical",
    enforcement="mandatory",
    kinds=(ENDPOINT_KIND, "Composition"),
    fix="attach ethicsMonitor (enabled, sensitiveAttributes, prediction, thresholds.critical, alertTarget) "
    "with data capture on",
    check=check,
    params={
        "maxDemographicParityDifference": 0.1,
        "maxEqualizedOddsDifference": 0.1,
        "minDisparateImpactRatio": 0.8,
    },
    param_types=dict.fromkeys(
        ("maxDemographicParityDifference", "maxEqualizedOddsDifference", "minDisparateImpactRatio"), Fraction
    ),
)
