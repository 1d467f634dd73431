"""ModelEndpoint: the spec decides the rollback configuration, and a new model or serving configuration rolls
out as a SageMaker deployment, create-before-destroy.

Why: a SageMaker Model can change only its tags and an EndpointConfiguration nothing but its tags; every
other field is ForceNew (src/aiplane/data/forcenew.yaml), and upjet refuses an in-place update of one, so a
Composition that patches a new image into one fixed Model never rolls out. Instead each Model and
EndpointConfiguration is content-addressed:

- `model-<h>`: P&T's `model`, renamed by a hash `h` of what it contains (image, model data, role) and named
  `<endpoint>-<h>` in SageMaker;
- `endpoint-config-<h>`: P&T's `endpoint-config` pointing at that model by name, renamed by a hash of what
  it contains (the model's name included), named `<endpoint>-<h>`;
- `endpoint`: serves one configuration by name (`endpointConfigName`); changing it is an UpdateEndpoint, a
  SageMaker deployment, which the deployment configuration's guardrails and auto-rollback act on.

A change therefore creates a new Model, then (once it is Ready) a new EndpointConfiguration, then (once that
is Ready) points the Endpoint at it. The superseded Model and configuration stay until SageMaker reports the
endpoint on the new configuration (`status.atProvider.endpointConfigName`), then are deleted. At no moment
does the endpoint lack a configuration. The production variant keeps one name (`primary`) throughout.

With `spec.autoscaling`, P&T composes the variant's scalable target and target-tracking policy; this step
registers them only once the endpoint serves (Application Auto Scaling needs an InService variant), adds one
ScheduledAction per `autoscaling.schedule` entry, and orders an instance type change: SageMaker refuses to
update a registered variant to another instance type (Amazon SageMaker AI Developer Guide, "Update endpoints
that use auto scaling": deregister the scalable target, update the endpoint, register it again). So once the
new configuration is Ready the target, policy and scheduled actions are left out (Crossplane deletes them:
deregistration), the Endpoint stays on its serving configuration until the target is gone, then moves, and
the target comes back once SageMaker reports the endpoint on the new configuration. A model-only change keeps
the target (SageMaker allows it). Scheduled actions change the target's capacity bounds: with a schedule, the
target's bounds are initial values (`initProvider`), so reconciling does not undo what a scheduled action set.

The Endpoint's auto-rollback alarm list is ForceNew: an Endpoint created before it had today's list (none,
or the old fairness alarm) keeps the list it has, rather than a change the provider would refuse; the
outcome warns, and `status.rollout.rollbackAlarms` says `kept`, until the endpoint is recreated.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiplane.function.cron import cron_max_gap_minutes, cron_problem
from aiplane.function.model import Object, Outcome, Request, ensure, get
from aiplane.function.revisions import (
    EXTERNAL_NAME,
    content_hash,
    external_name,
    is_revision,
    kept,
    ready,
)

KIND = "ModelEndpoint"
ENDPOINT = "endpoint"
MODEL = "model"
ENDPOINT_CONFIG = "endpoint-config"
# The rollback alarms evaluate one-minute datapoints, alarming on 2 of the last 3: 3 minutes of a
# deployment's traffic decide (the XRD's bake window must leave room for that).
ROLLBACK_ALARM_PERIOD_SECONDS = 60
ROLLBACK_ALARM_EVALUATION_PERIODS = 3
ROLLBACK_ALARM_DATAPOINTS = 2
AUTO_ROLLBACK = "autoRollbackConfiguration"
# The fairness alarms: M of N datapoints, one datapoint per monitor run (the period is the schedule's
# longest gap), within CloudWatch's limit of one day for period × evaluation periods.
FAIRNESS_EVALUATION_PERIODS = 3
FAIRNESS_DATAPOINTS = 2
FAIRNESS_ALARMS = ("fairness-critical", "fairness-warning")
MAX_EVALUATION_SECONDS = 86_400
MONITOR_ROLE = "ethics-monitor-role"
MONITOR_CRONJOB = "ethics-monitor"
MONITOR_REPORTED = "MonitorReported"
# Application Auto Scaling of a SageMaker variant (Application Auto Scaling User Guide, "Amazon SageMaker AI
# and Application Auto Scaling": service namespace sagemaker, dimension sagemaker:variant:DesiredInstanceCount,
# resource ID endpoint/<endpoint>/variant/<variant>; predefined metric SageMakerVariantInvocationsPerInstance,
# the average invocations per instance per minute).
APPAUTOSCALING = "appautoscaling.aws.m.upbound.io/v1beta1"
AUTOSCALING_TARGET = "autoscaling-target"
AUTOSCALING_POLICY = "autoscaling-policy"
AUTOSCALING_SCHEDULE = "autoscaling-schedule"
SERVICE_NAMESPACE = "sagemaker"
SCALABLE_DIMENSION = "sagemaker:variant:DesiredInstanceCount"
INVOCATIONS_PER_INSTANCE_METRIC = "SageMakerVariantInvocationsPerInstance"
# Cooldowns of the target-tracking policy: Application Auto Scaling's default for SageMaker variants, 300 s
# each way (Application Auto Scaling User Guide, "Define cooldown periods"), set explicitly so the backtest
# (aiplane.rightsizing.backtest) simulates the same values.
SCALE_OUT_COOLDOWN_SECONDS = 300
SCALE_IN_COOLDOWN_SECONDS = 300


def decide(request: Request) -> Outcome:
    desired = dict(request.desired)
    observed = request.observed
    endpoint = desired.get(ENDPOINT)
    warnings = _keep_live_rollback_alarms(endpoint, observed.get(ENDPOINT))
    _size_fairness_alarms(desired, get(request.spec, "ethicsMonitor", "schedule"))
    _drop_unfilled_policies(desired.get(MONITOR_ROLE))
    conditions = [_monitor_reported(request.spec, observed.get(MONITOR_CRONJOB))]
    model = desired.pop(MODEL, None)
    config = desired.pop(ENDPOINT_CONFIG, None)
    endpoint_name = external_name(endpoint)
    scaling = _autoscaling_objects(desired, request.spec, endpoint_name)
    if model is None or config is None or endpoint is None or endpoint_name is None:
        # P&T left one out (a Required input is missing): compose nothing of the rollout rather than half.
        return Outcome(desired, warnings=warnings, conditions=conditions)

    model_hash = content_hash(model)
    model_key, model_name = f"{MODEL}-{model_hash}", f"{endpoint_name}-{model_hash}"
    ensure(model, "metadata", "annotations")[EXTERNAL_NAME] = model_name
    variant = (get(config, "spec", "forProvider", "productionVariants") or [{}])[0]
    variant.pop("modelNameSelector", None)
    variant["modelName"] = model_name
    config_hash = content_hash(config)
    config_key, config_name = f"{ENDPOINT_CONFIG}-{config_hash}", f"{endpoint_name}-{config_hash}"
    ensure(config, "metadata", "annotations")[EXTERNAL_NAME] = config_name

    desired[model_key] = model
    # A configuration names its model: create it only once the model exists (or keep it if it does).
    if ready(observed.get(model_key)) or config_key in observed:
        desired[config_key] = config
    new_config_ready = ready(observed.get(config_key))
    live = observed.get(ENDPOINT)
    serving_now = get(live, "spec", "forProvider", "endpointConfigName")
    for_provider = ensure(endpoint, "spec", "forProvider")
    for_provider.pop("endpointConfigNameSelector", None)
    if live is None:
        if not new_config_ready:
            # An endpoint is created only with a configuration that exists.
            desired.pop(ENDPOINT, None)
            return Outcome(
                desired, {"rollout": {"model": model_name, "endpointConfig": config_name}}, warnings, conditions
            )
        for_provider["endpointConfigName"] = config_name
    else:
        for_provider["endpointConfigName"] = config_name if new_config_ready else serving_now or config_name

    reported = get(live, "status", "atProvider", "endpointConfigName")
    switched = reported == config_name
    # The instance type SageMaker serves now (its report, not our spec: an update may still be running).
    type_changes = _serving_instance_type(observed, reported) not in (None, _instance_type(config))
    if scaling and live is not None and ready(live) and (switched or not (type_changes and new_config_ready)):
        desired.update(scaling)  # the endpoint serves, and no instance type change needs the target gone
    elif scaling and type_changes and new_config_ready and not switched and AUTOSCALING_TARGET in observed:
        # Deregister first: the Endpoint stays on its configuration until the scalable target is gone.
        for_provider["endpointConfigName"] = serving_now or config_name

    # Keep every superseded revision the endpoint may still run on: all until SageMaker reports the endpoint
    # on the new configuration, then none.
    if not switched:
        for name, obj in observed.items():
            if name not in desired and (is_revision(name, MODEL) or is_revision(name, ENDPOINT_CONFIG)):
                desired[name] = kept(obj)
    rollout = {"model": model_name, "endpointConfig": config_name,
               "serving": reported}
    if warnings:
        rollout["rollbackAlarms"] = "kept"
    return Outcome(desired, {"rollout": rollout}, warnings, conditions)


def _instance_type(config: Any) -> Any:
    return get((get(config, "spec", "forProvider", "productionVariants") or [{}])[0], "instanceType")


def _serving_instance_type(observed: Mapping[str, Any], serving: Any) -> Any:
    """The instance type of the configuration the Endpoint is on now (None when not observed)."""
    for name, obj in observed.items():
        if is_revision(name, ENDPOINT_CONFIG) and isinstance(serving, str) and external_name(obj) == serving:
            return _instance_type(obj)
    return None


def _autoscaling_objects(desired: dict[str, Object], spec: Mapping[str, Any], endpoint: str | None) -> dict[str, Object]:
    """Take the scalable target and policy P&T composed out of `desired` (decide puts them back when the
    endpoint can be a scalable target) and add one ScheduledAction per schedule entry, named by position
    (`<endpoint>-schedule-<i>`: the name is ForceNew, the schedule and capacities update in place)."""
    target, policy = desired.pop(AUTOSCALING_TARGET, None), desired.pop(AUTOSCALING_POLICY, None)
    if target is None or policy is None or endpoint is None or not isinstance(spec.get("autoscaling"), Mapping):
        return {}  # without spec.autoscaling P&T composed them with no capacities: never registered
    out = {AUTOSCALING_TARGET: target, AUTOSCALING_POLICY: policy}
    schedule = get(spec, "autoscaling", "schedule") or []
    if schedule:
        # Scheduled actions move the bounds; reconciling must not move them back.
        for_provider = ensure(target, "spec", "forProvider")
        init = ensure(target, "spec", "initProvider")
        for key in ("minCapacity", "maxCapacity"):
            if key in for_provider:
                init[key] = for_provider.pop(key)
    for index, entry in enumerate(schedule):
        action = {k: v for k, v in kept(policy).items() if k != "spec"}
        labels = ensure(action, "metadata", "labels")
        for key, value in list(labels.items()):
            if value == AUTOSCALING_POLICY:
                labels[key] = AUTOSCALING_SCHEDULE
        action["metadata"].pop("annotations", None)
        policy_spec = policy.get("spec") or {}
        policy_provider = policy_spec.get("forProvider") or {}
        # The CRD takes the capacities as strings; over gRPC every number arrives as a float (4.0).
        capacity = {"minCapacity": str(int(entry["minInstances"]))}
        if entry.get("maxInstances") is not None:
            capacity["maxCapacity"] = str(int(entry["maxInstances"]))
        action["kind"] = "ScheduledAction"
        action["spec"] = {
            **{k: v for k, v in policy_spec.items() if k not in ("forProvider", "initProvider")},
            "forProvider": {
                "name": f"{endpoint}-schedule-{index}",
                "schedule": entry["schedule"],
                "scalableTargetAction": capacity,
                **{k: policy_provider[k] for k in ("region", "resourceIdSelector", "scalableDimensionSelector",
                                                   "serviceNamespaceSelector") if k in policy_provider},
            },
        }
        out[f"{AUTOSCALING_SCHEDULE}-{index}"] = action
    return out


def _size_fairness_alarms(desired: dict[str, Object], schedule: Any) -> None:
    """One datapoint per monitor run: the fairness alarms' period is the schedule's longest gap between
    runs, evaluated M of N within a day (a schedule that does not run daily: one datapoint a day, 1 of 1)."""
    gap = cron_max_gap_minutes(schedule) if isinstance(schedule, str) and cron_problem(schedule) is None else None
    period = min(gap * 60, MAX_EVALUATION_SECONDS) if gap is not None else MAX_EVALUATION_SECONDS
    periods = min(FAIRNESS_EVALUATION_PERIODS, MAX_EVALUATION_SECONDS // period)
    for name in FAIRNESS_ALARMS:
        alarm = get(desired.get(name), "spec", "forProvider")
        if isinstance(alarm, dict):
            alarm.update(period=period, evaluationPeriods=periods, datapointsToAlarm=min(FAIRNESS_DATAPOINTS, periods))


def _drop_unfilled_policies(role: Object | None) -> None:
    """An inline policy whose document P&T could not fill (the ground truth's, without a ground-truth
    prefix) grants nothing: leave it out rather than ask IAM for a policy without a document."""
    for_provider = get(role, "spec", "forProvider")
    if isinstance(for_provider, dict) and isinstance(for_provider.get("inlinePolicy"), list):
        for_provider["inlinePolicy"] = [p for p in for_provider["inlinePolicy"] if isinstance(p, dict) and "policy" in p]


def _monitor_reported(spec: Mapping[str, Any], cronjob: Mapping[str, Any] | None) -> dict[str, str]:
    """Whether the monitor has evaluated yet (the CronJob's last successful run), as a condition of its own:
    the monitor's objects are Ready once created, so the XR's readiness never waits hours for a first run."""
    if get(spec, "ethicsMonitor", "enabled") is False:
        return {"type": MONITOR_REPORTED, "status": "False", "reason": "Disabled",
                "message": "the ethics monitor is disabled (spec.ethicsMonitor.enabled: false)"}
    last = get(cronjob, "status", "lastSuccessfulTime")
    if isinstance(last, str):
        return {"type": MONITOR_REPORTED, "status": "True", "reason": "Evaluated",
                "message": f"last successful evaluation {last}"}
    return {"type": MONITOR_REPORTED, "status": "False", "reason": "NotYetEvaluated",
            "message": "no successful evaluation yet: the first runs on the monitor's schedule"}

def _keep_live_rollback_alarms(endpoint: Object | None, live: Mapping[str, Any] | None) -> list[str]:
    """Leave an existing Endpoint's auto-rollback alarms as they are when they differ from the composed
    ones (the provider refuses to change them in place); say so."""
    if endpoint is None or live is None:
        return []
    live_config = get(live, "spec", "forProvider", "deploymentConfig")
    live_alarms = get(live_config, AUTO_ROLLBACK)
    deployment = get(endpoint, "spec", "forProvider", "deploymentConfig")
    if not isinstance(deployment, dict) or deployment.get(AUTO_ROLLBACK) == live_alarms:
        return []
    if live_alarms is None:
        deployment.pop(AUTO_ROLLBACK, None)
    else:
        deployment[AUTO_ROLLBACK] = live_alarms
    return [
        "the Endpoint keeps the auto-rollback alarms it was created with: the provider cannot change them "
        "in place (ForceNew); recreate the endpoint to have deployments watch this version's rollback alarms"
    ]
