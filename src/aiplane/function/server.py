"""The gRPC face of function-aiplane (crossplane-function-sdk-python): a RunFunctionRequest in, the same
request's desired state changed by `logic.run` out. Nothing here decides anything."""

from __future__ import annotations

from typing import Any

from crossplane.function import logging, resource, response
from crossplane.function.proto.v1 import run_function_pb2 as fnv1
from crossplane.function.proto.v1 import run_function_pb2_grpc as grpcv1

from aiplane.function.logic import run
from aiplane.function.model import Request


def _merge(into: dict[str, Any], values: dict[str, Any]) -> None:
    for key, value in values.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


class FunctionRunner(grpcv1.FunctionRunnerServiceServicer):  # type: ignore[misc]
    def __init__(self) -> None:
        self.log = logging.get_logger()

    async def RunFunction(
        self, req: fnv1.RunFunctionRequest, _: Any
    ) -> fnv1.RunFunctionResponse:
        rsp = response.to(req)
        xr = resource.struct_to_dict(req.observed.composite.resource)
        desired = {name: resource.struct_to_dict(r.resource) for name, r in req.desired.resources.items()}
        observed = {name: resource.struct_to_dict(r.resource) for name, r in req.observed.resources.items()}
        outcome = run(Request(xr, desired, observed))
        for name in [n for n in rsp.desired.resources if n not in outcome.desired]:
            del rsp.desired.resources[name]
        for name, obj in outcome.desired.items():
            # CopyFrom replaces the object and keeps the entry's `ready`, which function-auto-ready sets later.
            rsp.desired.resources[name].resource.CopyFrom(resource.dict_to_struct(obj))
        if outcome.status:
            composite = resource.struct_to_dict(rsp.desired.composite.resource)
            _merge(composite.setdefault("status", {}), outcome.status)
            rsp.desired.composite.resource.CopyFrom(resource.dict_to_struct(composite))
        for warning in outcome.warnings:
            response.warning(rsp, warning)
        response.set_conditions(
            rsp,
            *(resource.Condition(typ=c["type"], status=c["status"], reason=c.get("reason"), message=c.get("message"))
              for c in outcome.conditions),
        )
        self.log.debug("ran", kind=xr.get("kind"), kept=sorted(outcome.desired), warnings=len(outcome.warnings))
        return rsp
