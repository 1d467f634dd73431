"""iam-least-privilege with AWS's own matching: `*` and `?` anywhere in the action, prefix and name
case-insensitive. Every spelling that grants a whole service (`s3:**`, `S3:?*`, `s3*`, `*`) is refused
exactly as `s3:*` is; an action limited to some names (`s3:Get*`) is not."""

from __future__ import annotations

import re
from typing import Any

from conftest import fixture
from hypothesis import given, settings
from hypothesis import strategies as st

from aiplane.policy import RuleContext, run_rules
from aiplane.policy.rules.iam_least_privilege import canonical_action, grants_whole_service

SERVICES = ["s3", "ecr", "logs", "sagemaker", "kms", "iam", "bedrock-agent", "ec2"]
wildcard_runs = st.text(alphabet="*?", min_size=1, max_size=6).filter(lambda s: "*" in s)


def random_case(draw: Any, text: str) -> str:
    flips = draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    return "".join(c.upper() if f else c for c, f in zip(text, flips, strict=True))


@st.composite
def whole_service_actions(draw: Any) -> str:
    """Patterns that match every action of a service, written as AWS allows."""
    service = draw(st.sampled_from(SERVICES))
    form = draw(st.sampled_from(["service:run", "service-run", "run"]))
    run = draw(wildcard_runs)
    text = {"service:run": f"{service}:{run}", "service-run": f"{service}{run}", "run": run}[form]
    return random_case(draw, text)


@st.composite
def limited_actions(draw: Any) -> str:
    """Patterns that name some actions only: a literal after the colon, or no trailing `*`."""
    service = draw(st.sampled_from(SERVICES))
    name = draw(st.sampled_from(["Get", "PutObject", "Describe", "List", "CreateLogStream"]))
    tail = draw(st.sampled_from(["", "*", "?", "*Object", "??*"]))
    return random_case(draw, f"{service}:{name}{tail}")


def aws_matches(pattern: str, action: str) -> bool:
    """AWS's matching, written independently: `*` any run, `?` one character, case-insensitive."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, action, re.IGNORECASE | re.DOTALL) is not None


def with_action(action: str) -> list[dict[str, Any]]:
    """The fail fixture with its wildcard replaced by `action` (JSON-escaped as the fmt needs)."""
    objects = fixture("iam-least-privilege", "fail.yaml")
    resources = objects[0]["spec"]["pipeline"][0]["input"]["resources"]
    role = next(r for r in resources if r["name"] == "execution-role")
    patch = next(p for p in role["patches"] if p.get("type") == "CombineFromComposite")
    fmt = patch["combine"]["string"]["fmt"]
    assert '"s3:*"' in fmt
    patch["combine"]["string"]["fmt"] = fmt.replace('"s3:*"', f'"{action}"')
    return objects


@settings(max_examples=60)
@given(whole_service_actions())
def test_every_spelling_of_a_whole_service_is_refused(action: str) -> None:
    assert grants_whole_service(action), action
    # Checked against AWS's matching: the pattern really grants any action name of some service.
    assert any(aws_matches(action, f"{s}:{name}") for s in SERVICES for name in ("Xy", "XyzXyzXyzXyz"))


@settings(max_examples=60)
@given(limited_actions())
def test_an_action_limited_to_some_names_is_not_a_wildcard(action: str) -> None:
    assert not grants_whole_service(action), action


@settings(max_examples=200)
@given(st.text(alphabet="s3g:*?", min_size=1, max_size=8))
def test_no_pattern_that_grants_a_whole_service_is_missed(pattern: str) -> None:
    """Soundness against the reference matcher: for every small pattern over a service's letters, if
    AWS would grant it every action of a service (names made of letters the pattern cannot spell),
    the rule says so."""
    services = ["s", "3", "g", "s3", "g3", "sg", "s3g", "3s"]
    grants = any(
        all(aws_matches(pattern, f"{s}:{name}") for name in ("Xy", "XyzXyzXyzXyzXyz")) for s in services
    )
    if grants:
        assert grants_whole_service(pattern), pattern


@settings(max_examples=25, deadline=None)
@given(action=whole_service_actions())
def test_the_rule_refuses_the_composition_exactly_as_for_s3_star(action: str, rule_ctx: RuleContext) -> None:
    found = run_rules(with_action(action), rule_ctx, {})
    assert [v.rule for v in found] == ["iam-least-privilege"], [(v.rule, v.message) for v in found]
    assert found[0].blocking
    assert repr(action) in found[0].message


@settings(max_examples=25, deadline=None)
@given(action=whole_service_actions())
def test_an_exception_covers_every_spelling_of_the_same_wildcard(action: str, rule_ctx: RuleContext) -> None:
    found = run_rules(with_action(action), rule_ctx,
                      {"iam-least-privilege": {"allowedActions": [canonical_action(action).upper()]}})
    assert found == []


def test_the_exception_for_one_service_does_not_cover_another(rule_ctx: RuleContext) -> None:
    found = run_rules(with_action("S3:?*"), rule_ctx, {"iam-least-privilege": {"allowedActions": ["ecr:*"]}})
    assert [v.rule for v in found] == ["iam-least-privilege"]


def test_a_limited_action_in_the_composition_passes(rule_ctx: RuleContext) -> None:
    assert run_rules(with_action("s3:Get*"), rule_ctx, {}) == []
