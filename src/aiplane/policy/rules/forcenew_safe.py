"""forcenew-safe: a Composition never patches an XR field that can change into a field the provider cannot
update in place (ForceNew in terraform-provider-aws, refused by upjet: "refuse to update the external resource
because the following update requires replacing it"), on a resource it would update in place. Such an XR
change would leave the XR Synced=False for good.

A patch is safe when every XR field it reads is immutable (aiplane.crossplane.immutability), or when
function-aiplane runs after P&T and composes that resource as a content-addressed revision, replaced
create-before-destroy (aiplane.function.logic.REVISIONED). What function-aiplane itself writes is covered by
`aiplane plan` and the per-API change tests, not by this rule.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

from pydantic import BaseModel

from aiplane.authoring.xrd import openapi_schema
from aiplane.crossplane.composed import composed_resources, composite_kind
from aiplane.crossplane.forcenew import forcenew_hit
from aiplane.crossplane.immutability import immutable_paths, is_fixed
from aiplane.function.logic import REVISIONED
from aiplane.function.model import FUNCTION_NAME
from aiplane.policy.context import Manifest, RuleContext
from aiplane.policy.model import Finding, Rule

FROM_XR = ("FromCompositeFieldPath", "CombineFromComposite")


def _sources(patch: Mapping[str, Any]) -> list[str]:
    if patch.get("type", "FromCompositeFieldPath") == "CombineFromComposite":
        variables = (patch.get("combine") or {}).get("variables") or []
        return [str(v.get("fromFieldPath", "")) for v in variables if isinstance(v, Mapping)]
    return [str(patch.get("fromFieldPath", ""))]


def _runs_function(composition: Manifest) -> bool:
    steps = (composition.get("spec") or {}).get("pipeline") or []
    return any(((s.get("functionRef") or {}).get("name")) == FUNCTION_NAME for s in steps if isinstance(s, Mapping))


@cache
def _immutable_spec_paths(spec_model: type[BaseModel]) -> tuple[str, ...]:
    """The spec paths an API's XRD makes immutable: its schema built and walked once per model."""
    return tuple(immutable_paths(openapi_schema(spec_model)))


def check(obj: Manifest, ctx: RuleContext) -> Iterator[Finding]:
    kind = composite_kind(obj)
    api = ctx.apis.get(kind)
    immutable = _immutable_spec_paths(api.spec) if api is not None else ()
    revisioned = REVISIONED.get(kind, frozenset()) if _runs_function(obj) else frozenset()
    environment_label = ctx.label("environment")
    for res in composed_resources(obj):
        if res.name in revisioned:
            continue
        for index, patch in enumerate(res.patches):
            if patch.get("type", "FromCompositeFieldPath") not in FROM_XR:
                continue
            to_path = str(patch.get("toFieldPath", ""))
            forcenew = forcenew_hit(res.api_version, res.kind, to_path)
            if forcenew is None:
                continue
            changing = [s for s in _sources(patch) if not is_fixed(s, immutable, environment_label)]
            if changing:
                yield Finding(
                    obj,
                    f"composed {res.kind} {res.name!r}: {to_path} is ForceNew ({forcenew}) and is patched from "
                    f"{', '.join(changing)}, which can change: the provider would refuse that update in place",
                    f"{res.field_prefix}.patches[{index}]",
                )


RULE = Rule(
    id="forcenew-safe",
    title="Compositions never update a ForceNew field in place",
    severity="high",
    enforcement="mandatory",
    kinds=("Composition",),
    fix="make the XR field immutable (authoring.api.immutable), or compose the resource as a revision "
    "in function-aiplane (create-before-destroy)",
    check=check,
)
