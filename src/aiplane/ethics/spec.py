"""The ethics monitor's configuration: which sensitive attributes and which prediction to read from captured
traffic, the fairness bounds, and how sure the monitor must be before it alerts. The ModelEndpoint XRD embeds
it as `spec.ethicsMonitor`; the evaluator reads the same model, as JSON, from `AIPLANE_MONITOR_SPEC`.

Its rules are written twice on purpose: as pydantic validators (one readable message at synth/check time,
located in the environment file) and as CEL `x-kubernetes-validations` (the XRD's half, for an XR applied by
hand). Every field is a single type or an int-or-string, so the model becomes a structural schema.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, model_validator
from pydantic.config import JsonDict

from aiplane.docstrings import AttributeDocstrings

# An SNS topic ARN (the partition may be aws, aws-cn, aws-us-gov...).
SNS_ARN_PATTERN = r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$"
# An S3 key prefix without a leading slash (the characters AWS calls safe for object keys; Amazon S3 User
# Guide, "Naming Amazon S3 objects"), as ModelEndpoint's dataCapture.prefix.
S3_PREFIX_PATTERN = r"^[A-Za-z0-9!_.*'()-][A-Za-z0-9!_.*'()/-]*$"
# A sensitive attribute's name: a CloudWatch dimension value, a report key and the gate's column name.
ATTRIBUTE_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.-]{0,62}$"

# A JSON path: dot-separated keys, each followed by any number of `[i]` indexes or one `[*]`, e.g.
# `features.gender`, `instances[*].age_band`, `predictions[0].score`, `[*]` (the payload is a list) or
# `[*].label`. Keys are letters, digits, `_` and `-` (a key holding a dot cannot be addressed).
_INDEX = r"\[(?:[0-9]+|\*)\]"
_KEY = r"[A-Za-z0-9_-]+"
JSON_PATH_PATTERN = rf"^(?:{_KEY}|{_INDEX})(?:{_INDEX})*(?:\.{_KEY}(?:{_INDEX})*)*$"
_TOKEN = re.compile(rf"({_KEY})|\[([0-9]+|\*)\]")

ALL = "*"
"""The index that stands for every element of a list: one row per element (a batch request)."""


def parse_json_path(path: str) -> tuple[str | int, ...]:
    """`a.b[0][*]` → ("a", "b", 0, "*"): keys are str, indexes int, the wildcard ALL."""
    if not re.fullmatch(JSON_PATH_PATTERN, path):
        raise ValueError(f"{path!r} is not a JSON path (keys separated by '.', each with [i] or [*] indexes)")
    steps: list[str | int] = []
    for key, index in _TOKEN.findall(path):
        if key:
            steps.append(key)
        else:
            steps.append(ALL if index == ALL else int(index))
    if steps.count(ALL) > 1:
        raise ValueError(f"{path!r} has more than one [*]: one payload expands into one list of rows")
    return tuple(steps)


class MonitorModel(AttributeDocstrings, BaseModel):
    """Unknown keys are errors, attribute docstrings become the XRD's descriptions."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


_ONE_LOCATOR: JsonDict = {
    "x-kubernetes-validations": [
        {
            "rule": "has(self.csvColumn) != has(self.jsonPath)",
            "message": "set exactly one of csvColumn and jsonPath",
        }
    ]
}


class Locator(MonitorModel):
    """Where a value is in a captured payload: a CSV column or a JSON path (exactly one)."""

    model_config = ConfigDict(json_schema_extra=_ONE_LOCATOR)

    csvColumn: int | None = Field(default=None, ge=0, le=10_000)
    """Zero-based column of a CSV payload (`text/csv`); every line of the payload is one row."""
    jsonPath: str | None = Field(default=None, max_length=256, pattern=JSON_PATH_PATTERN)
    """Path into a JSON payload (`application/json`, or each line of `application/jsonlines`): keys separated
    by `.`, each optionally followed by `[i]` indexes, and at most one `[*]`, which makes one row per list
    element (a batch request), e.g. `features.gender`, `instances[*].gender`, `predictions[*].score`."""

    @model_validator(mode="after")
    def _exactly_one_locator(self) -> Locator:
        if (self.csvColumn is None) == (self.jsonPath is None):
            raise ValueError("set exactly one of csvColumn and jsonPath")
        if self.jsonPath is not None:
            parse_json_path(self.jsonPath)
        return self


class SensitiveAttribute(Locator):
    """A protected attribute the metrics are computed over, and where each captured request carries it."""

    name: str = Field(min_length=1, max_length=63, pattern=ATTRIBUTE_NAME_PATTERN)
    """Name of the attribute: the `SensitiveAttribute` dimension of the published metrics, the key in the
    report, and the evaluation set's column read by `aiplane ethics gate`."""
    source: Literal["input", "output"] = "input"
    """Which payload holds it: the request (`captureData.endpointInput`, the default) or the response."""


# An int-or-string in the XRD (a union of two types is not a structural schema).
Label = Annotated[
    int | str,
    WithJsonSchema({"x-kubernetes-int-or-string": True}),
]


class Prediction(Locator):
    """Where the model's decision is, and how it becomes positive (1) or negative (0)."""

    source: Literal["output", "input"] = "output"
    """Which payload holds it: the response (`captureData.endpointOutput`, the default) or the request."""
    scoreThreshold: float | None = Field(default=None, ge=0, le=1)
    """When the value is a probability: positive when it is at least this. Without it the value is a label."""
    positiveLabel: Label | None = None
    """The label counted as positive (the favourable outcome whose rate is compared), for predictions without
    scoreThreshold and for ground-truth labels; compared as text, so 1 and "1" are the same. Without it a
    label must be 0/1 or true/false."""


class GroundTruth(MonitorModel):
    """Labels in the SageMaker Model Monitor ground-truth format, for equalized odds."""

    prefix: str = Field(min_length=1, max_length=512, pattern=S3_PREFIX_PATTERN)
    """S3 key prefix, in the capture bucket, of the ground-truth files: JSON Lines records
    `{"groundTruthData": {"data", "encoding", "observedContentType"}, "eventMetadata": {"eventId"},
    "eventVersion": "0"}` under `<prefix>/yyyy/mm/dd/hh/` (the hour the label was collected). A label joins
    a captured record by the record's `inferenceId` when it has one, else its `eventId`."""
    jsonPath: str | None = Field(default=None, max_length=256, pattern=JSON_PATH_PATTERN)
    """Where the label is in JSON ground-truth data; CSV data holds the label in its first column."""
    labelDelayMinutes: int = Field(default=0, ge=0, le=10_080)
    """How long labels take to arrive. Equalized odds is judged on the window that ended this long ago,
    joined with every label collected since that window began; demographic parity, which needs no labels,
    on the current window."""

    @model_validator(mode="after")
    def _path(self) -> GroundTruth:
        if self.jsonPath is not None and ALL in parse_json_path(self.jsonPath):
            raise ValueError("a ground-truth record holds one label: jsonPath must not contain [*]")
        return self


class FairnessBounds(MonitorModel):
    """Bounds of the fairness metrics (fairlearn's definitions), each between 0 and 1."""

    demographicParityDifference: float = Field(ge=0, le=1)
    """Largest minus smallest selection rate (share of positive predictions) across the attribute's groups;
    0 is parity. Breached above the bound; 0.1 is a common choice."""
    demographicParityRatio: float = Field(ge=0, le=1)
    """Smallest over largest selection rate (disparate impact); 1 is parity. Breached below the bound; the
    four-fifths rule is 0.8."""
    equalizedOddsDifference: float = Field(ge=0, le=1)
    """The larger of the true-positive-rate and false-positive-rate gaps across groups (needs ground truth);
    0 is parity. Breached above the bound; 0.1 is a common choice."""


_WARNING_STRICTER = (
    "!has(self.warning) || ("
    "self.warning.demographicParityDifference <= self.critical.demographicParityDifference && "
    "self.warning.demographicParityRatio >= self.critical.demographicParityRatio && "
    "self.warning.equalizedOddsDifference <= self.critical.equalizedOddsDifference)"
)


class MonitorThresholds(MonitorModel):
    """Two severities: warning bounds alert early, critical bounds page (and roll back or block)."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": _WARNING_STRICTER,
                    "message": "warning bounds must be as strict as the critical ones or stricter",
                }
            ]
        }
    )

    critical: FairnessBounds
    """Bounds whose breach notifies alertTarget and triggers the action."""
    warning: FairnessBounds | None = None
    """Stricter (or equal) bounds whose breach notifies warningTarget only; without it, warning is critical."""

    @model_validator(mode="after")
    def _warning_is_stricter(self) -> MonitorThresholds:
        w, c = self.warning, self.critical
        if w is None:
            return self
        looser = [
            name
            for name, is_looser in (
                (
                    "demographicParityDifference",
                    w.demographicParityDifference > c.demographicParityDifference,
                ),
                ("demographicParityRatio", w.demographicParityRatio < c.demographicParityRatio),
                ("equalizedOddsDifference", w.equalizedOddsDifference > c.equalizedOddsDifference),
            )
            if is_looser
        ]
        if looser:
            raise ValueError(
                f"warning bounds must be as strict as the critical ones or stricter; looser: {', '.join(looser)}"
            )
        return self

    def effective_warning(self) -> FairnessBounds:
        """The warning bounds, which are the critical ones when none are set."""
        return self.warning or self.critical


class EthicsMonitorSpec(MonitorModel):
    """Scheduled fairness evaluation of the endpoint's captured traffic, with alerts on a proven breach."""

    enabled: bool = True
    """Run the monitor (the ethics-monitor-attached guardrail requires it)."""
    sensitiveAttributes: list[SensitiveAttribute] = Field(
        min_length=1,
        max_length=16,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"]},
    )
    """Protected attributes the metrics are computed over (each separately), and where to find them."""
    prediction: Prediction
    """Where the model's decision is in each captured record."""
    groundTruth: GroundTruth | None = None
    """Where labels are, for equalized odds; without it only demographic parity is judged."""
    thresholds: MonitorThresholds
    """Fairness bounds per severity."""
    minGroupSize: int = Field(default=30, ge=1, le=1_000_000)
    """Records every group of an attribute needs before the attribute is judged (per window; labelled records
    for equalized odds). Below it one record moves a group's rate by several points, so a breach would be
    noise; such groups are also left out of reports (their value and size are never written), so a report
    cannot single out a handful of people. 30 is the usual rule of thumb for a proportion's normal
    approximation."""
    confidence: float = Field(default=0.95, gt=0.5, lt=1)
    """Confidence of the bootstrap interval: a breach is declared only when the whole interval lies beyond
    the bound."""
    bootstrapSamples: int = Field(default=1000, ge=100, le=100_000)
    """Bootstrap resamples behind each interval (seeded, so a rerun gives the same interval)."""
    windowMinutes: int = Field(default=60, ge=5, le=10_080)
    """Length of the window of captured traffic each run evaluates, ending when the run starts; make it at
    least the schedule's interval so that no traffic goes unjudged."""
    schedule: str = Field(default="0 * * * *", min_length=9, max_length=100)
    """Cron schedule of the evaluation (five fields, as a Kubernetes CronJob takes it)."""
    action: Literal["alert", "rollback", "block-promotion"] = "alert"
    """On a critical breach: alert only, roll the endpoint back (its deployment guardrail watches the critical
    alarm), or block promotion (`aiplane check` requires a passing `aiplane ethics gate` report)."""
    alertTarget: str = Field(pattern=SNS_ARN_PATTERN)
    """SNS topic ARN notified of a critical breach."""
    warningTarget: str | None = Field(default=None, pattern=SNS_ARN_PATTERN)
    """SNS topic ARN notified of a warning; defaults to alertTarget."""

    @model_validator(mode="after")
    def _distinct_names(self) -> EthicsMonitorSpec:
        names = [a.name for a in self.sensitiveAttributes]
        doubled = sorted({n for n in names if names.count(n) > 1})
        if doubled:
            raise ValueError(f"sensitive attribute names must be distinct: {', '.join(doubled)}")
        return self

    def warning_target(self) -> str:
        """Where warnings go: warningTarget, or alertTarget when it is not set."""
        return self.warningTarget or self.alertTarget
