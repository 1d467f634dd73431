"""The pre-deployment gate's record: a passing `aiplane ethics gate` run writes a report naming the exact
`image` and `modelDataUrl` it judged, committed to the repository, so that `aiplane check` can refuse an
endpoint with `action: block-promotion` whose image or model changed without one.

Location: `<project root>/ethics-reports/<environment>/<endpoint>/<sha256>.json`, where sha256 is the hex
digest of `<image>\\n<modelDataUrl>` (UTF-8): one file per judged pair, found without a search, and a change of
either value points at another file. Format (JSON, keys sorted, no timestamp, so a rerun on the same data
writes the same bytes):

    {"kind": "EthicsGateReport", "version": 1, "passed": true, "environment", "endpoint", "image",
     "modelDataUrl", "generatedBy": "aiplane <version>",
     "data": {"file": <path as given>, "sha256": <digest of the file's bytes>, "rows": <n>},
     "settings": {"minGroupSize", "thresholds": {"critical": {...}, "warning": {...}}},
     "attributes": [<per attribute: status, metrics, groups of at least minGroupSize records>]}
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiplane.errors import InputError, SystemFailure

GATE_REPORTS = "ethics-reports"
GATE_REPORT_KIND = "EthicsGateReport"
GATE_REPORT_VERSION = 1


def pair_digest(image: str, model_data_url: str) -> str:
    """The report's file name (without `.json`): sha256 of `<image>\\n<modelDataUrl>`."""
    return hashlib.sha256(f"{image}\n{model_data_url}".encode()).hexdigest()


def gate_report_path(reports: Path, environment: str, endpoint: str, image: str, model_data_url: str) -> Path:
    """`<reports>/<environment>/<endpoint>/<sha256>.json` (reports: `<project root>/ethics-reports`)."""
    return reports / environment / endpoint / f"{pair_digest(image, model_data_url)}.json"


@dataclass(frozen=True)
class GateReport:
    """A gate report as read back: what was judged, and whether it passed."""

    environment: str
    endpoint: str
    image: str
    model_data_url: str
    passed: bool
    data_sha256: str
    content: dict[str, Any]

    @classmethod
    def from_json(cls, obj: Any, where: str) -> GateReport:
        if not isinstance(obj, dict) or obj.get("kind") != GATE_REPORT_KIND:
            raise InputError.single(where, f"not an {GATE_REPORT_KIND} (kind)")
        if obj.get("version") != GATE_REPORT_VERSION:
            raise InputError.single(
                where, f"report version {obj.get('version')!r}; this aiplane reads {GATE_REPORT_VERSION}"
            )
        fields = ("environment", "endpoint", "image", "modelDataUrl")
        missing = [f for f in fields if not isinstance(obj.get(f), str)]
        data = obj.get("data")
        if missing or not isinstance(obj.get("passed"), bool) or not isinstance(data, dict):
            raise InputError.single(
                where, f"malformed gate report (missing or wrong: {', '.join(missing) or 'passed/data'})"
            )
        return cls(
            environment=obj["environment"],
            endpoint=obj["endpoint"],
            image=obj["image"],
            model_data_url=obj["modelDataUrl"],
            passed=obj["passed"],
            data_sha256=str(data.get("sha256", "")),
            content=obj,
        )


def remove_gate_report(path: Path) -> bool:
    """Remove a report a failing rerun contradicts; True when there was one."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError as err:
        raise SystemFailure.from_os_error(str(path), "removing the earlier gate report", err) from None
    return True


def write_gate_report(path: Path, report: dict[str, Any]) -> None:
    """Write atomically (a temporary file renamed over the report), so a reader never sees half a file."""
    import tempfile  # here: the guardrails import this module and only `ethics gate` writes (5 ms of imports)

    text = json.dumps(report, indent=2, sort_keys=True) + "\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".gate-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except OSError as err:
        raise SystemFailure.from_os_error(str(path), "writing the gate report", err) from None


def passing_report_for(
    root: Path, env: str, endpoint: str, image: str, model_data_url: str, reports: Path | None = None
) -> GateReport | None:
    """The passing gate report for exactly this image and model in this environment's endpoint, or None.

    None when there is no report, when it did not pass, or when its own fields name another environment,
    endpoint, image or model (a renamed or copied file counts for nothing). A report that is not valid JSON
    or not in the format is an InputError: a rule that cannot read its evidence must not pass. `root` is the
    project root; `reports` overrides `<root>/ethics-reports` (the gate's --report-dir)."""
    path = gate_report_path(reports or root / GATE_REPORTS, env, endpoint, image, model_data_url)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as err:
        raise InputError.single(str(path), f"cannot read the gate report: {err}") from None
    try:
        obj = json.loads(text)
    except ValueError as err:
        raise InputError.single(str(path), f"the gate report is not JSON: {err}") from None
    report = GateReport.from_json(obj, str(path))
    same = (report.environment, report.endpoint, report.image, report.model_data_url) == (
        env,
        endpoint,
        image,
        model_data_url,
    )
    return report if same and report.passed else None
