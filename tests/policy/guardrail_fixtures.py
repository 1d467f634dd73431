"""Reading the guardrail rule fixtures under fixtures/<rule-id>/ (also used by the CrossGuard parity tests).

A fixture folder holds `pass.yaml` and one or more `fail*.yaml`, each a multi-document manifest set
judged on its own; a fail file starts with `# expect: <rule-id> <count>`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from aiplane.yamlio import load_documents

FIXTURES = Path(__file__).parent / "fixtures"
CASES = Path(__file__).parent / "cases"
EXPECT = re.compile(r"^# expect: (?P<rule>[a-z0-9-]+) (?P<count>\d+)\s*$", re.MULTILINE)


def load_manifests(path: Path) -> list[dict[str, Any]]:
    return [d.obj for d in load_documents(path)]


def expectation(path: Path) -> tuple[str, int]:
    """The `# expect: <rule-id> <count>` line of a fail fixture."""
    match = EXPECT.search(path.read_text(encoding="utf-8"))
    if match is None:
        raise AssertionError(f"{path} has no '# expect: <rule-id> <count>' line")
    return match["rule"], int(match["count"])


def rule_folders() -> list[Path]:
    return sorted(p for p in FIXTURES.iterdir() if p.is_dir())


def fail_fixtures() -> list[Path]:
    return sorted(FIXTURES.glob("*/fail*.yaml"))


def fixture_id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"
