"""Waivers: an accepted exception to one guardrail on one environment item, with its reason, expiry and
approver (`waivers: [{rule, reason, expires, approvedBy}]` on the item in environments/<env>.yaml).

They travel to the rules as one annotation on the item's XR (`<domain>/waivers`, JSON), not in its spec:
the XRD schema stays the platform API, Crossplane ignores the annotation, and both adapters read it from
the object they judge — `aiplane check` from the synthesized XR, the CrossGuard pack from the XR the
Pulumi stack registers. Whether a waiver is honoured is decided by the rules engine (aiplane.policy.waivers)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any

from pydantic import Field, Strict, ValidationError, field_validator

from aiplane.authoring.api import Spec

WAIVERS_KEY = "waivers"  # the item field, and the annotation key within the project's label domain


class Waiver(Spec):
    """One accepted exception. A missing reason, a past or too distant expiry, or a rule the policy config
    marks not waivable is reported as a violation by the rules engine, not refused here: the file loads."""

    rule: str = Field(min_length=1, max_length=100)
    """The guardrail's id (`max-cost-per-hour`)."""
    reason: str = Field(default="", max_length=1000)
    """Why the exception is accepted; required for the waiver to be honoured."""
    expires: Annotated[date, Strict(False)]
    """The last day the waiver holds (YYYY-MM-DD)."""
    approvedBy: str = Field(default="", max_length=200)
    """Who accepted the exception."""

    @field_validator("expires", mode="before")
    @classmethod
    def _iso_text(cls, value: Any) -> Any:
        """`expires: 2027-01-31` is a YAML date, `"2027-01-31"` a string (what the JSON Schema, editors and
        the annotation's JSON write): both mean that day, even though the loader validates strictly."""
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                return value  # reported by the field's own validation
        return value


def annotation_value(waivers: list[Waiver]) -> str:
    """The annotation's value: the waivers as compact JSON, in file order."""
    return json.dumps([w.model_dump(mode="json") for w in waivers], separators=(",", ":"))


def waivers_in(obj: Mapping[str, Any], annotation: str) -> list[Waiver] | None:
    """The waivers an object carries in `annotation` ([] when none; None when the value is unreadable,
    which the engine reports instead of ignoring)."""
    raw = ((obj.get("metadata") or {}).get("annotations") or {}).get(annotation)
    if raw is None:
        return []
    try:
        items = json.loads(str(raw))
        return [Waiver.model_validate(item) for item in items] if isinstance(items, list) else None
    except (ValueError, ValidationError, TypeError):
        return None
