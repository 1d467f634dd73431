"""Talking to the policy pack as the Pulumi CLI does: start `python -m pulumi.policy <engine> <pack-dir>`,
read the port it prints, configure it with the policy config the CLI would send, and send resources as
`pulumirpc.Analyzer` requests built from plain manifests."""

from __future__ import annotations

import json
import re
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import jsonschema
from google.protobuf import json_format
from pulumi.runtime import proto
from pulumi.runtime.proto import analyzer_pb2_grpc

REPO = Path(__file__).resolve().parents[2]
PACK_DIR = "policypacks/aiplane-guardrails"
STARTUP_TIMEOUT_S = 120.0

LEVELS = {
    "advisory": proto.ADVISORY,
    "mandatory": proto.MANDATORY,
    "disabled": proto.DISABLED,
    "remediate": proto.REMEDIATE,
}
LEVEL_NAMES = {v: k for k, v in LEVELS.items()}


class Pack:
    """The pack process and a stub on its analyzer server."""

    def __init__(self) -> None:
        self._stderr_text = ""
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - the process writes to it until stop()
        self.process = subprocess.Popen(
            [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:0", PACK_DIR],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
        )
        self.port = self._read_port()
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        self.stub = analyzer_pb2_grpc.AnalyzerStub(self.channel)

    def _read_port(self) -> int:
        assert self.process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            deadline = time.monotonic() + STARTUP_TIMEOUT_S
            while time.monotonic() < deadline:
                if selector.select(timeout=0.5):
                    line = self.process.stdout.readline().decode().strip()
                    if line.isdigit():
                        return int(line)
                    self.stop()
                    raise RuntimeError(f"the pack printed {line!r} instead of its port:\n{self.stderr()}")
                if self.process.poll() is not None:
                    break
        self.stop()
        raise RuntimeError(f"the pack did not print its port:\n{self.stderr()}")

    def stderr(self) -> str:
        if self._stderr.closed:
            return self._stderr_text
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def _interrupt(self) -> None:
        self.process.send_signal(signal.SIGINT)

    def stop(self) -> int | None:
        """End the pack process and wait for it: an interrupt first (PolicyPack stops its gRPC server and
        the program ends with status 0), then terminate, then kill."""
        if hasattr(self, "channel"):
            self.channel.close()
        for end in (self._interrupt, self.process.terminate, self.process.kill):
            if self.process.poll() is not None:
                break
            end()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                continue
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._stderr_text = self.stderr()
        self._stderr.close()
        return self.process.returncode


def cli_policy_config(
    info: Any, config_file: Mapping[str, Any]
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """What the Pulumi CLI makes of `--policy-pack-config <file>` (pulumi/pulumi analyzer config
    reconciliation): every policy starts from its default level and its schema's defaults, then `all`'s
    level, then the file's entry for that policy name (a string sets the level; an object the level and
    properties, merged over the defaults). Returns the config per policy and the schema validation errors."""
    result: dict[str, dict[str, Any]] = {}
    schemas: dict[str, dict[str, Any]] = {}
    for policy in info.policies:
        properties = json_format.MessageToDict(policy.configSchema.properties)
        schemas[policy.name] = properties
        defaults = {k: v["default"] for k, v in properties.items() if "default" in v}
        result[policy.name] = {"level": LEVEL_NAMES[policy.enforcementLevel], "properties": defaults}
    entries: dict[str, tuple[str | None, dict[str, Any]]] = {}
    for key, value in config_file.items():
        if isinstance(value, str):
            entries[key] = (value, {})
        else:
            entries[key] = (
                value.get("enforcementLevel"),
                {k: v for k, v in value.items() if k != "enforcementLevel"},
            )
    all_level = entries.get("all", (None, {}))[0]
    if all_level:
        for config in result.values():
            config["level"] = all_level
    for key, (level, properties) in entries.items():
        config = result.setdefault(key, {"level": None, "properties": {}})
        if level:
            config["level"] = level
        config["properties"] = {**config["properties"], **properties}
    errors = []
    for name, properties in schemas.items():
        validator = jsonschema.Draft7Validator({"type": "object", "properties": properties})
        errors += [f"{name}: {e.message}" for e in validator.iter_errors(result[name]["properties"])]
    return result, errors


def configure_request(config: Mapping[str, Mapping[str, Any]]) -> proto.ConfigureAnalyzerRequest:
    request = proto.ConfigureAnalyzerRequest()
    for name, entry in config.items():
        if entry["level"] is None:
            continue
        request.policyConfig[name].enforcementLevel = LEVELS[entry["level"]]
        request.policyConfig[name].properties.update(entry["properties"])
    return request


def type_token(obj: Mapping[str, Any]) -> str:
    """The token pulumi-kubernetes gives the object: typed core kinds use `core/v1`, CustomResources
    `kubernetes:<apiVersion>:<Kind>`."""
    api_version = str(obj["apiVersion"])
    return f"kubernetes:{'core/' + api_version if '/' not in api_version else api_version}:{obj['kind']}"


def logical_name(obj: Mapping[str, Any]) -> str:
    meta = obj["metadata"]
    parts = [obj["kind"], *([meta["namespace"]] if meta.get("namespace") else []), meta["name"]]
    return re.sub(r"[^a-z0-9.-]", "-", "-".join(parts).lower())


def urn_of(obj: Mapping[str, Any]) -> str:
    return f"urn:pulumi:test::aiplane::{type_token(obj)}::{logical_name(obj)}"


def object_key(obj: Mapping[str, Any]) -> tuple[str, str, str]:
    meta = obj.get("metadata") or {}
    return (str(obj.get("kind", "")), str(meta.get("namespace", "")), str(meta.get("name", "")))


def analyze_request(obj: Mapping[str, Any]) -> proto.AnalyzeRequest:
    request = proto.AnalyzeRequest(type=type_token(obj), name=logical_name(obj), urn=urn_of(obj))
    request.properties.update(json.loads(json.dumps(obj)))
    return request


def analyze_stack_request(objects: Iterable[Mapping[str, Any]]) -> proto.AnalyzeStackRequest:
    request = proto.AnalyzeStackRequest()
    for obj in objects:
        resource = request.resources.add()
        resource.type, resource.name, resource.urn = type_token(obj), logical_name(obj), urn_of(obj)
        resource.properties.update(json.loads(json.dumps(obj)))
    return request


@dataclass(frozen=True, order=True)
class Reported:
    """One diagnostic, reduced to what the gate also says: policy, level, object and message."""

    policy: str
    level: str
    obj: tuple[str, str, str] | None
    message: str


def analyze_all(stub: Any, objects: Sequence[Mapping[str, Any]]) -> list[Reported]:
    """Analyze every object (as the CLI does per resource), then AnalyzeStack once over all of them."""
    by_urn = {urn_of(o): object_key(o) for o in objects}
    diagnostics = []
    for obj in objects:
        diagnostics += list(stub.Analyze(analyze_request(obj)).diagnostics)
    diagnostics += list(stub.AnalyzeStack(analyze_stack_request(objects)).diagnostics)
    return sorted(
        Reported(
            d.policyName, LEVEL_NAMES[d.enforcementLevel], by_urn.get(d.urn) if d.urn else None, d.message
        )
        for d in diagnostics
    )
