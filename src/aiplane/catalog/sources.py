"""Where a catalog file's numbers come from: the `source:` block every catalog and price file carries."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field


class Frozen(BaseModel):
    """A catalog record: immutable, and unknown keys are errors."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Reference(Frozen):
    """One place a file's numbers come from."""

    title: str
    url: str | None = None
    repository: str | None = None
    commit: str | None = None
    path: str | None = None
    note: str | None = None


class Source(Frozen):
    """Where a file's figures come from and when they were read."""

    summary: str
    retrieved: date
    references: list[Reference] = Field(min_length=1)
    uncertain: str | None = None
