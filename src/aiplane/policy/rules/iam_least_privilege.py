"""iam-least-privilege: no wildcard action (`*` or `service:*`) in the IAM policies Compositions compose,
except the actions the config documents as accepted."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from aiplane.crossplane.composed import composed_resources
from aiplane.policy.context import Manifest, RuleContext
from aiplane.policy.model import Finding, Rule

# AWS matching semantics (IAM User Guide, "IAM JSON policy elements: Action",
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html): "The prefix
# and the action name are case insensitive", and the multi-character wildcard `*` and the single-character
# wildcard `?` may appear anywhere in the action. So `s3:**`, `s3:?*`, `S3:*`, `s3*` and `*` all grant
# every S3 action, as `s3:*` does; `s3:Get*` grants only the Get actions.
_WILDCARDS = frozenset("*?")
# A service prefix: lowercase letters, digits and hyphens (`s3`, `ec2`, `bedrock-agent`).
_SERVICE_CHAR = re.compile(r"[a-z0-9-]")


def grants_whole_service(action: str) -> bool:
    """True when the action pattern matches every action of at least one service (or of all services).

    A pattern P does so iff it ends with a run of wildcards containing a `*` (which absorbs any action
    name), and what precedes that run (ending in a literal) can match a service prefix, optionally
    followed by its `:` — the `*` then absorbs the rest of the prefix, the colon and the action name."""
    pattern = action.strip().lower()
    tail_start = len(pattern)
    while tail_start > 0 and pattern[tail_start - 1] in _WILDCARDS:
        tail_start -= 1
    if "*" not in pattern[tail_start:]:
        return False  # ends in a literal or only in `?`s: the action name is constrained
    head = pattern[:tail_start]
    if head.endswith(":"):
        head = head[:-1]
    return all(c in _WILDCARDS or _SERVICE_CHAR.fullmatch(c) for c in head)


def canonical_action(action: str) -> str:
    """The form two equivalent patterns share: lowercase, runs of `*` collapsed (`S3:**` → `s3:*`)."""
    return re.sub(r"\*+", "*", action.strip().lower())


def _policy_documents(res_base: Any, patches: list[Any]) -> Iterator[tuple[str, str]]:
    """(where, JSON text) of every policy document in a composed IAM resource, including those a
    patch formats (P&T `%s` placeholders replaced so the JSON parses)."""
    for_provider = ((res_base.get("spec") or {}).get("forProvider")) or {}
    if isinstance(for_provider.get("policy"), str):
        yield "base.spec.forProvider.policy", for_provider["policy"]
    for i, inline in enumerate(for_provider.get("inlinePolicy") or []):
        if isinstance(inline, dict) and isinstance(inline.get("policy"), str):
            yield f"base.spec.forProvider.inlinePolicy[{i}].policy", inline["policy"]
    for i, patch in enumerate(patches):
        fmts = [((patch.get("combine") or {}).get("string") or {}).get("fmt")]
        fmts += [
            (t.get("string") or {}).get("fmt") for t in patch.get("transforms") or [] if isinstance(t, dict)
        ]
        for fmt in fmts:
            if isinstance(fmt, str) and '"Statement"' in fmt:
                yield f"patches[{i}]", re.sub(r"%[svd]", "placeholder", fmt)


def _wildcards(document: str) -> list[str]:
    data = json.loads(document)
    statements = data.get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    found = []
    for st in statements:
        if st.get("Effect") != "Allow":
            continue
        if "NotAction" in st:
            # Allow + NotAction grants every action but the listed ones: broader than any wildcard.
            found.append(f"NotAction {st['NotAction']}")
        actions = st.get("Action") or []
        for action in [actions] if isinstance(actions, str) else actions:
            if grants_whole_service(str(action)):
                found.append(str(action))
    return found


def check(obj: Manifest, ctx: RuleContext) -> Iterator[Finding]:
    if obj.get("kind") != "Composition":
        return
    allowed = {canonical_action(a) for a in ctx.params["allowedActions"]}
    for res in composed_resources(obj):
        if not res.api_version.startswith("iam."):
            continue
        for where, document in _policy_documents(res.base, res.patches):
            for action in _wildcards(document):
                if canonical_action(action) not in allowed:
                    yield Finding(
                        obj,
                        f"composed {res.kind} {res.name!r} allows wildcard action {action!r}",
                        f"{res.field_prefix}.{where}",
                        fix="list the actions the workload needs, or document an exception in "
                        "iam-least-privilege.allowedActions",
                    )


RULE = Rule(
    id="iam-least-privilege",
    title="No wildcard actions in composed IAM policies",
    severity="high",
    enforcement="mandatory",
    kinds=("Composition",),
    fix="list explicit actions",
    check=check,
    params={"allowedActions": []},
)
