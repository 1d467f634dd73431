"""ModelEndpoint: a SageMaker real-time endpoint with data capture and an attached ethics monitor."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, model_validator

from aiplane.authoring.api import (
    CommonSpec,
    HourlyCost,
    PlatformAPI,
    PrinterColumn,
    QuotaAmount,
    Spec,
    immutable,
)
from aiplane.authoring.formats import (
    ECR_IMAGE_REPOSITORY,
    CronSchedule,
    ImageReference,
    S3BucketName,
    cron_max_gap_minutes,
)
from aiplane.catalog.fields import SageMakerInstanceTypeName
from aiplane.catalog.instances import Catalog
from aiplane.errors import ItemError
from aiplane.ethics.spec import EthicsMonitorSpec
from aiplane.finops.weekly import WEEKLY_CRON_PATTERN, parse_weekly_cron, weighted_minimum
from aiplane.function.modelendpoint import ROLLBACK_ALARM_EVALUATION_PERIODS, ROLLBACK_ALARM_PERIOD_SECONDS

# An object, not a bucket: the model artifact (and the role's grants are cut out of it).
S3_URI_PATTERN = r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+$"
# Five-field cron (minute hour day-of-month month day-of-week), as Kubernetes CronJob takes it; CronSchedule
# checks each field's syntax and range.
CRON_PATTERN = r"^(\S+\s+){4}\S+$"


class EthicsMonitor(EthicsMonitorSpec):
    """Scheduled fairness evaluation of the endpoint's captured traffic (aiplane ethics evaluate, in the
    ethics-monitor image), with warning and critical alarms on a proven breach."""

    schedule: CronSchedule = Field(default="0 * * * *", pattern=CRON_PATTERN)
    """Cron schedule of the evaluation (five fields, as a Kubernetes CronJob takes it)."""


def _ecr_image(value: str) -> str:
    if not re.match(ECR_IMAGE_REPOSITORY, value):
        raise ValueError(
            f"{value!r} is not an Amazon ECR image (<account>.dkr.ecr.<region>.amazonaws.com/<repository>[:tag]): "
            "SageMaker hosting pulls from ECR, and the execution role is scoped to that repository"
        )
    return value


class DataCapture(Spec):
    """SageMaker data capture of requests and responses into the capture bucket."""

    samplingPercent: int = Field(default=100, ge=1, le=100)
    prefix: str = Field(default="captures", min_length=1, pattern=r"^[A-Za-z0-9!_.*'()/-]+$")
    """Key prefix inside the capture bucket."""


class BucketRef(Spec):
    """The ModelBucket receiving captures; bucketName is resolved by aiplane synth."""

    name: str = Field(min_length=1)
    """Name of the ModelBucket in the same namespace."""
    bucketName: S3BucketName = Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    """Its S3 bucket name."""


# SageMaker's range of TrafficRoutingConfig.WaitIntervalInSeconds (the baking period of an all-at-once
# blue/green deployment): 0-3600 (SageMaker API Reference, TrafficRoutingConfig); at least the alarms'
# evaluation window plus as much again, so an alarm can change state inside it.
BAKE_SECONDS_MIN = 2 * ROLLBACK_ALARM_PERIOD_SECONDS * ROLLBACK_ALARM_EVALUATION_PERIODS
BAKE_SECONDS_MAX = 3600


class RolloutPolicy(Spec):
    """How a new model or serving configuration is deployed: SageMaker blue/green, all traffic at once, then
    a bake window in which the rollback alarms decide whether it stays."""

    bakeSeconds: int = Field(default=600, ge=BAKE_SECONDS_MIN, le=BAKE_SECONDS_MAX)
    """Bake window after traffic moves to the new fleet; an alarm in ALARM during it rolls the deployment back."""
    maxModelLatencyMs: int = Field(default=1000, ge=1, le=3_600_000)
    """Rollback when the new fleet's p99 ModelLatency exceeds this (2 of 3 one-minute datapoints)."""
    maxErrorsPerMinute: int = Field(default=0, ge=0)
    """Rollback when Invocation5XXErrors per minute exceed this (2 of 3 one-minute datapoints)."""


def _weekly_cron(value: str) -> str:
    parse_weekly_cron(value)
    return value


# Application Auto Scaling quota: 200 scheduled actions per scalable target (Application Auto Scaling User
# Guide, "Quotas for Application Auto Scaling").
MAX_SCHEDULED_ACTIONS = 200
# SageMaker's instance count bound the spec already takes (instanceCount).
MAX_INSTANCES = 100


class ScheduledCapacity(Spec):
    """One scheduled action: from `schedule` on (weekly, UTC), the variant keeps at least `minInstances`
    (and at most `maxInstances`) until the next entry fires."""

    schedule: Annotated[str, AfterValidator(_weekly_cron)] = Field(
        json_schema_extra={"pattern": WEEKLY_CRON_PATTERN}
    )
    """Weekly Application Auto Scaling cron expression, UTC: `cron(0 7 ? * MON-FRI *)`."""
    minInstances: int = Field(ge=1, le=MAX_INSTANCES)
    """Minimum instance count from then on."""
    maxInstances: int | None = Field(default=None, ge=1, le=MAX_INSTANCES)
    """Maximum instance count from then on (default: autoscaling.maxInstances stays)."""


class Autoscaling(Spec):
    """Application Auto Scaling of the production variant: target tracking on invocations per instance
    within [minInstances, maxInstances], and scheduled minimums (aiplane rightsize fills them from a
    forecast; docs/rightsizing.md)."""

    minInstances: int = Field(ge=1, le=MAX_INSTANCES)
    """Fewest instances target tracking scales in to."""
    maxInstances: int = Field(ge=1, le=MAX_INSTANCES)
    """Most instances target tracking scales out to: the worst case the cost model and max-cost-per-hour
    price."""
    targetInvocationsPerInstance: float = Field(gt=0)
    """Target of SageMakerVariantInvocationsPerInstance (invocations per instance per minute)."""
    # `lambda: []` rather than `list`: pydantic inspects a builtin factory's signature with the tokenizer,
    # which costs every aiplane command ~7 ms.
    schedule: list[ScheduledCapacity] = Field(default_factory=lambda: [], max_length=MAX_SCHEDULED_ACTIONS)
    """Scheduled actions raising (and lowering back) the minimum ahead of forecast peaks."""

    @model_validator(mode="after")
    def _bounds_hold(self) -> Autoscaling:
        if self.minInstances > self.maxInstances:
            raise ValueError(f"autoscaling.minInstances {self.minInstances} is above maxInstances {self.maxInstances}")
        for index, entry in enumerate(self.schedule):
            top = entry.maxInstances if entry.maxInstances is not None else self.maxInstances
            if not self.minInstances <= entry.minInstances <= top <= self.maxInstances:
                raise ValueError(
                    f"autoscaling.schedule[{index}] ({entry.schedule}): minInstances {entry.minInstances} and "
                    f"maxInstances {top} must lie within autoscaling's [{self.minInstances}, {self.maxInstances}] "
                    "(minInstances at most maxInstances)"
                )
        if len({e.schedule for e in self.schedule}) != len(self.schedule):
            raise ValueError("autoscaling.schedule: two entries fire at the same time; keep one")
        return self

    def weighted_minimum(self) -> float:
        """The week's time-weighted minimum instance count (docs/rightsizing.md, "Cost")."""
        return weighted_minimum(self.minInstances, [(e.schedule, e.minInstances) for e in self.schedule])


class ModelEndpointSpec(CommonSpec):
    """A SageMaker real-time inference endpoint whose captured traffic an ethics monitor evaluates."""

    # The pattern reaches the XRD (hand-applied XRs); here the readable message comes first.
    image: Annotated[ImageReference, AfterValidator(_ecr_image)] = Field(
        min_length=1, json_schema_extra={"pattern": ECR_IMAGE_REPOSITORY}
    )
    """Inference container image: an Amazon ECR URI (the execution role may pull from that repository only)."""
    modelDataUrl: str = Field(pattern=S3_URI_PATTERN)
    """S3 URI of the model artifacts (model.tar.gz)."""
    instanceType: SageMakerInstanceTypeName
    """SageMaker hosting instance type (ml.*)."""
    instanceCount: int = Field(default=1, ge=1, le=100)
    """Instances behind the endpoint."""
    bucketRef: BucketRef
    """Capture bucket."""
    # `default: {}` in the XRD too, so the API server applies the nested defaults to an XR applied without
    # aiplane (structural defaulting descends only into objects that exist).
    dataCapture: DataCapture = Field(default_factory=DataCapture, json_schema_extra={"default": {}})
    """Capture settings (capture is always on: the monitor needs it)."""
    ethicsMonitor: EthicsMonitor
    """The fairness monitor attached to this endpoint."""
    clusterName: str = Field(
        min_length=1, max_length=100, json_schema_extra=immutable("the monitor's Pod Identity association names it")
    )
    """EKS cluster the ethics monitor's CronJob runs in (its Pod Identity association); aiplane synth fills it
    from the environment's clusterName."""
    rollout: RolloutPolicy = Field(default_factory=RolloutPolicy, json_schema_extra={"default": {}})
    """Deployment of a new model or serving configuration: bake window and rollback alarm thresholds."""
    autoscaling: Autoscaling | None = None
    """Application Auto Scaling of the production variant (none: instanceCount instances, always)."""

    @model_validator(mode="after")
    def _instance_count_within_autoscaling(self) -> ModelEndpointSpec:
        """instanceCount is the variant's initial count, which Application Auto Scaling then keeps within
        [minInstances, maxInstances]: outside it, the declared count would be a number never served."""
        scaling = self.autoscaling
        if scaling is not None and not scaling.minInstances <= self.instanceCount <= scaling.maxInstances:
            raise ValueError(
                f"instanceCount {self.instanceCount} lies outside autoscaling [{scaling.minInstances}, "
                f"{scaling.maxInstances}]: set it within (it is the count the endpoint starts with)"
            )
        return self

    @model_validator(mode="after")
    def _rollback_fits_bake_window(self) -> ModelEndpointSpec:
        """SageMaker rolls back only on an alarm in ALARM inside the bake window: with `action: rollback` the
        monitor must run, and its alarm evaluate, within it, or the action would never act."""
        if self.ethicsMonitor.action != "rollback" or not self.ethicsMonitor.enabled:
            return self
        gap = cron_max_gap_minutes(self.ethicsMonitor.schedule)
        budget = self.rollout.bakeSeconds - ROLLBACK_ALARM_PERIOD_SECONDS
        if gap is None or gap * 60 > budget:
            runs = "not every day" if gap is None else f"up to {gap} min apart"
            every = max(budget // 60, 1)
            raise ValueError(
                f"ethicsMonitor.action rollback cannot act: the monitor's schedule runs {runs}, but SageMaker "
                f"rolls back only on an alarm inside the {self.rollout.bakeSeconds} s bake window "
                f"(rollout.bakeSeconds); schedule it at least every {every} min (e.g. '*/{every} * * * *'), "
                f"raise rollout.bakeSeconds (at most {BAKE_SECONDS_MAX}), or use action alert"
            )
        return self


class Rollout(BaseModel):
    """Which revision is wanted and which one SageMaker serves (aiplane.function.modelendpoint)."""

    model: str | None = None
    """SageMaker Model of the current spec, `<endpoint>-<content hash>`."""
    endpointConfig: str | None = None
    """EndpointConfiguration of the current spec, `<endpoint>-<content hash>`."""
    serving: str | None = None
    """The configuration SageMaker reports the endpoint on; equal to endpointConfig once rolled out."""


class ModelEndpointStatus(BaseModel):
    """The endpoint as SageMaker reports it."""

    endpointName: str | None = None
    endpointArn: str | None = None
    rollout: Rollout | None = None


def hourly_cost(spec: ModelEndpointSpec, catalog: Catalog, spot_discount: float) -> HourlyCost:
    """SageMaker real-time endpoints have no spot option. Without autoscaling worst case and expected are
    instanceCount instances; with it the worst case is maxInstances, and the expected the week's
    schedule-weighted minimum (target tracking above it is demand the schedule did not foresee: not planned
    spend; docs/rightsizing.md, "Cost")."""
    price = catalog.sagemaker_instance(spec.instanceType).on_demand_usd_per_hour
    if spec.autoscaling is None:
        return HourlyCost(worst_case=spec.instanceCount * price, expected=spec.instanceCount * price)
    return HourlyCost(worst_case=spec.autoscaling.maxInstances * price,
                      expected=spec.autoscaling.weighted_minimum() * price)


def quota_demand(spec: ModelEndpointSpec, catalog: Catalog) -> list[QuotaAmount]:
    """Instances of the endpoint's type it needs (SageMaker "<type> for endpoint usage"), when the catalog
    has that quota's code from a cited source; otherwise none (the quota is unmanaged, and the
    endpoint-quota-unmanaged rule says so)."""
    if catalog.endpoint_quota(spec.instanceType) is None:
        return []
    most = spec.autoscaling.maxInstances if spec.autoscaling is not None else spec.instanceCount
    return [QuotaAmount(spec.region, spec.instanceType, "endpoint", most, service="sagemaker")]


def complete(item: dict[str, Any], env: Any) -> dict[str, Any]:
    """Fill thresholds from the environment's ethics defaults (per severity), the monitor's cluster from the
    environment's, and resolve the capture bucket."""
    item.setdefault("clusterName", env.clusterName)
    monitor = item.get("ethicsMonitor")
    if isinstance(monitor, dict) and env.ethics is not None:
        thresholds = monitor.get("thresholds")
        defaults = env.ethics.thresholds.model_dump(exclude_none=True)
        # Only a missing value takes the defaults; a value of the wrong type stays, for the model to refuse.
        if thresholds is None:
            monitor["thresholds"] = defaults
        elif isinstance(thresholds, dict):
            merged = dict(thresholds)
            for severity, bounds in defaults.items():
                own = thresholds.get(severity)
                if own is None:
                    merged[severity] = bounds
                elif isinstance(own, dict):
                    merged[severity] = {**bounds, **own}
            monitor["thresholds"] = merged
    ref = item.get("bucketRef")
    if isinstance(ref, dict) and "name" in ref:
        bucket = env.find_item("buckets", ref["name"])
        if bucket is None:
            raise ItemError(
                "bucketRef.name", f"bucket {ref['name']!r} is not declared in this environment's buckets"
            )
        if bucket.get("purpose") != "captures":
            raise ItemError(
                "bucketRef.name",
                f"bucket {ref['name']!r} has purpose {bucket.get('purpose')!r}; "
                "data capture needs a bucket with purpose captures",
            )
        if ref.get("bucketName", bucket["bucketName"]) != bucket["bucketName"]:
            raise ItemError(
                "bucketRef.bucketName",
                f"bucketRef.bucketName is resolved from bucket "
                f"{ref['name']!r} ({bucket['bucketName']}); leave it out",
            )
        ref["bucketName"] = bucket["bucketName"]
    return item


API = PlatformAPI(
    kind="ModelEndpoint",
    plural="modelendpoints",
    spec=ModelEndpointSpec,
    status=ModelEndpointStatus,
    description="A SageMaker real-time endpoint with data capture to a ModelBucket and an ethics "
    "monitor (fairness metrics with thresholds, scheduled, alarmed).",
    environment_key="endpoints",
    # The ethics monitor CronJob `<name>-ethics-monitor` (Kubernetes: CronJob names at most 52); the
    # SageMaker endpoint `<env>-<name>` (at most 63) then fits with an environment name of at most 20.
    max_name_length=37,
    name_limit="its ethics monitor CronJob is named <name>-ethics-monitor, at most 52",
    printer_columns=(
        PrinterColumn("INSTANCE", ".spec.instanceType"),
        PrinterColumn("COUNT", ".spec.instanceCount", "integer"),
        PrinterColumn("ACTION", ".spec.ethicsMonitor.action"),
        # function-aiplane's condition: Evaluated, NotYetEvaluated or Disabled.
        PrinterColumn("MONITOR", ".status.conditions[?(@.type=='MonitorReported')].reason"),
        PrinterColumn("USD/H", ".metadata.annotations.{domain}/worst-case-usd-per-hour"),
    ),
    complete=complete,
    optional_in_environment=("clusterName", "bucketRef.bucketName", "ethicsMonitor.thresholds"),
    hourly_cost=hourly_cost,
    quota_demand=quota_demand,
)
