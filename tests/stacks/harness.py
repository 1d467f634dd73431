"""Run a Pulumi program under Pulumi's mock runtime and record what it registered.

The stock MockMonitor keeps each resource's state but not its `depends_on`; RecordingMonitor also keeps
the dependency URNs and provider reference the SDK sends with every RegisterResource request, which is
what the engine would order the deployment by.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime.settings import get_root_resource
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await


@dataclass
class Registration:
    """One registered resource: its type token, logical name, inputs and dependencies (URNs)."""

    urn: str
    type: str
    name: str
    inputs: dict[str, Any]
    dependencies: list[str]
    provider: str


class EchoMocks(pulumi_mocks.Mocks):
    """State = inputs (so a Kubernetes object's state is its manifest), plus the ids AWS would compute."""

    def __init__(self) -> None:
        self.inputs: dict[tuple[str, str], dict[str, Any]] = {}

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.inputs[(args.typ, args.name)] = dict(args.inputs)
        state = dict(args.inputs)
        if args.typ.startswith("aws:"):
            state.setdefault("arn", f"arn:aws:mock::123456789012:{args.typ.split(':')[1]}/{args.name}")
            if args.typ == "aws:kms/key:Key":
                state.setdefault("keyId", f"key-{args.name}")
        return f"{args.name}-id", state

    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        raise AssertionError(f"the stacks call no invokes, got {args.token}")


class RecordingMonitor(pulumi_mocks.MockMonitor):
    def __init__(self, mocks: EchoMocks) -> None:
        super().__init__(mocks)
        self.echo = mocks
        self.registrations: dict[str, Registration] = {}

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.registrations[response.urn] = Registration(
                urn=response.urn, type=request.type, name=request.name,
                inputs=self.echo.inputs[(request.type, request.name)],
                dependencies=list(request.dependencies), provider=request.provider)
        return response


@dataclass
class Run:
    """Everything a program registered, with lookups the tests need."""

    registrations: list[Registration]
    outputs: dict[str, Any]
    result: Any = None
    by_urn: dict[str, Registration] = field(init=False)

    def __post_init__(self) -> None:
        self.by_urn = {r.urn: r for r in self.registrations}

    def of_type(self, type_: str) -> list[Registration]:
        return [r for r in self.registrations if r.type == type_]

    def named(self, name: str) -> Registration:
        found = [r for r in self.registrations if r.name == name]
        assert len(found) == 1, f"{len(found)} resources named {name}"
        return found[0]

    def depends_on(self, reg: Registration) -> list[Registration]:
        return [self.by_urn[u] for u in reg.dependencies]


def run_program(program: Callable[[], Any], *, project: str, stack: str,
                config: Mapping[str, str] | None = None, preview: bool = False) -> Run:
    """Run `program` in a fresh Pulumi runtime (own context, so runs never share a root stack)."""

    def run() -> Run:
        mocks = EchoMocks()
        monitor = RecordingMonitor(mocks)
        pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=preview, monitor=monitor)
        pulumi.runtime.set_all_config(dict(config or {}))
        holder: list[Any] = []
        _sync_await(run_pulumi_func(lambda: holder.append(program())))
        root = get_root_resource()
        outputs = dict(getattr(root, "outputs", {}) or {})
        resolved = {k: _sync_await(pulumi.Output.from_input(v).future()) for k, v in outputs.items()}
        return Run(list(monitor.registrations.values()), resolved, holder[0] if holder else None)

    return contextvars.Context().run(run)


def kubernetes_objects(run: Run) -> list[dict[str, Any]]:
    """The manifests a run registered with pulumi-kubernetes (inputs of `kubernetes:` resources)."""
    return [r.inputs for r in run.registrations if r.type.startswith("kubernetes:")]


def aws_resources(run: Run) -> list[dict[str, Any]]:
    """pulumi-aws resources in the shape aiplane.policy takes for non-Kubernetes resources."""
    return [{"pulumiType": r.type, "kind": r.type, "metadata": {"name": r.name}, "properties": r.inputs}
            for r in run.registrations if r.type.startswith("aws:")]
