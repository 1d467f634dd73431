"""The policy config both adapters read is typed: a wrong type, NaN or infinity, a duplicate key, deep
nesting or bytes that are not UTF-8 are refused with one message and exit 2 by `aiplane check`, and the
CrossGuard pack reports a wrong config as a violation instead of running the policy with defaults."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from conftest import fixture
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aiplane.cli import main
from aiplane.errors import InputError
from aiplane.policy import RuleContext, all_rules, run_rules
from aiplane.policy.config import MAX_DEPTH, check_config, resolve
from aiplane.policy.crossguard import build_policies
from aiplane.project import Settings

REPO = Path(__file__).resolve().parents[2]
RULES = {r.id: r for r in all_rules()}
PARAMS = sorted((r.id, name) for r in all_rules() for name in r.params)
FILE_SETTINGS = settings(max_examples=30, deadline=None,
                         suppress_health_check=[HealthCheck.function_scoped_fixture])

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=6)


def json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else "null"


def check_with(path: Path) -> Result:
    return CliRunner().invoke(main, ["check", "--env", "dev", "--config", str(path)])


def assert_one_clean_error(result: Result, *words: str) -> None:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output and "Error:" not in lines[0].split(":", 1)[0]
    for word in words:
        assert word in lines[0], lines[0]


@pytest.fixture(autouse=True)
def at_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)


@FILE_SETTINGS
@given(target=st.sampled_from(PARAMS), value=json_values)
def test_a_parameter_of_the_wrong_type_is_refused_with_exit_2(target: tuple[str, str], value: Any,
                                                              tmp_path: Path) -> None:
    rule_id, name = target
    default = RULES[rule_id].params[name]
    if json_kind(value) == json_kind(default):
        value = {"not": "a " + json_kind(default)}  # generated the right kind: make it wrong
    path = tmp_path / "config.json"
    path.write_text(json.dumps({rule_id: {"enforcementLevel": "mandatory", name: value}}))
    assert_one_clean_error(check_with(path), f"{rule_id}.{name}")


@FILE_SETTINGS
@given(target=st.sampled_from([p for p in PARAMS if isinstance(RULES[p[0]].params[p[1]], float)]),
       spelling=st.sampled_from(["NaN", "Infinity", "-Infinity"]))
def test_nan_and_infinite_thresholds_are_refused(target: tuple[str, str], spelling: str, tmp_path: Path) -> None:
    rule_id, name = target
    path = tmp_path / "config.json"
    path.write_text(f'{{"{rule_id}": {{"{name}": {spelling}}}}}')
    assert_one_clean_error(check_with(path), spelling)


@settings(max_examples=50, deadline=None)
@given(target=st.sampled_from([p for p in PARAMS if isinstance(RULES[p[0]].params[p[1]], float)]),
       value=st.sampled_from([math.nan, math.inf, -math.inf]))
def test_non_finite_numbers_reaching_resolve_are_refused(target: tuple[str, str], value: float) -> None:
    """What the CrossGuard pack hands over (a protobuf Struct can carry NaN) is checked the same way."""
    rule_id, name = target
    with pytest.raises(InputError, match="finite"):
        resolve(RULES[rule_id], {rule_id: {name: value}})


@FILE_SETTINGS
@given(rule_id=st.sampled_from(sorted(RULES)), first=st.sampled_from(["mandatory", "advisory"]))
def test_a_duplicate_key_is_refused_not_resolved_by_the_last_one(rule_id: str, first: str, tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(f'{{\n  "{rule_id}": "{first}",\n  "{rule_id}": "disabled"\n}}\n')
    assert_one_clean_error(check_with(path), "duplicate key", f"{path}:3")


@FILE_SETTINGS
@given(depth=st.integers(MAX_DEPTH + 1, 20_000), bracket=st.sampled_from(["[", '{"a":']))
def test_deep_nesting_is_refused_before_parsing(depth: int, bracket: str, tmp_path: Path) -> None:
    close = "]" if bracket == "[" else "}"
    path = tmp_path / "config.json"
    path.write_text('{"all": ' + bracket * depth + "1" + close * depth + "}")
    assert_one_clean_error(check_with(path), f"nested deeper than {MAX_DEPTH}")


@FILE_SETTINGS
@given(junk=st.binary(min_size=1, max_size=8).filter(lambda b: not _is_utf8(b)))
def test_bytes_that_are_not_utf8_are_refused(junk: bytes, tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_bytes(b'{"all": "' + junk + b'"}')
    assert_one_clean_error(check_with(path), "not UTF-8")


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@settings(max_examples=40, deadline=None)
@given(level=json_values.filter(lambda v: v not in ("mandatory", "advisory", "disabled")))
def test_a_level_that_is_not_a_level_is_refused_for_every_rule_part(level: Any) -> None:
    rules = all_rules()
    for config in ({"all": level}, {"iam-least-privilege": level},
                   {"iam-least-privilege": {"enforcementLevel": level}}):
        if isinstance(level, dict) and config != {"iam-least-privilege": {"enforcementLevel": level}}:
            continue  # a mapping entry is a parameter set, judged by the parameter tests
        with pytest.raises(InputError, match=r"not one of|only enforcementLevel|unknown parameter"):
            check_config(config, rules, "config")


@settings(max_examples=40, deadline=None)
@given(allowed=st.lists(st.text(alphabet="abcdefgh-", min_size=2, max_size=12), min_size=1, max_size=4),
       data=st.data())
def test_allowed_values_are_matched_exactly_not_as_substrings(allowed: list[str], data: Any,
                                                             rule_ctx: RuleContext) -> None:
    word = data.draw(st.sampled_from(allowed))
    start = data.draw(st.integers(0, len(word) - 1))
    end = data.draw(st.integers(start + 1, len(word)))
    value = word[start:end]
    objects = fixture("finops-required-tags", "pass.yaml")
    xr = next(o for o in objects if (o.get("spec") or {}).get("finops"))
    xr["spec"]["finops"]["tier"] = value
    config = {"finops-required-tags": {"valuePattern": ".*", "allowedValues": {"tier": allowed}}}
    tier_findings = [v for v in run_rules(objects, rule_ctx, config)
                     if v.rule == "finops-required-tags" and v.field == "spec.finops.tier"]
    assert bool(tier_findings) == (value not in allowed), (value, allowed)


def test_allowed_values_as_a_string_is_refused_not_matched_as_substring(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"finops-required-tags": {"allowedValues": {"tier": "production-critical"}}}))
    assert_one_clean_error(check_with(path), "finops-required-tags.allowedValues.tier")


def test_allowed_actions_as_a_string_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"iam-least-privilege": {"allowedActions": "s3:*"}}))
    assert_one_clean_error(check_with(path), "iam-least-privilege.allowedActions", "valid list")


def test_a_value_pattern_that_is_no_regular_expression_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"finops-required-tags": {"valuePattern": "([a-z"}}))
    assert_one_clean_error(check_with(path), "not a regular expression")


@settings(max_examples=20, deadline=None)
@given(value=json_values.filter(lambda v: not isinstance(v, list) or not all(isinstance(x, str) for x in v)))
def test_the_pack_reports_a_wrong_config_as_a_violation_instead_of_running_with_defaults(
        value: Any, pack: dict[str, Any]) -> None:
    policy = pack["iam-least-privilege"]
    found: list[str] = []
    args = _Args({"enforcementLevel": "mandatory", "allowedActions": value})
    policy.validate(args, lambda message, urn=None: found.append(message))
    assert len(found) == 1 and found[0].startswith("invalid policy config: iam-least-privilege.allowedActions")


class _Args:
    """The part of ResourceValidationArgs a policy reads before it judges an object."""

    resource_type = "kubernetes:apiextensions.crossplane.io/v1:Composition"
    props: dict[str, Any] = {"apiVersion": "apiextensions.crossplane.io/v1", "kind": "Composition",
                             "metadata": {"name": "c"}, "spec": {}}
    name = "c"
    urn = "urn:pulumi:dev::aiplane::kubernetes:apiextensions.crossplane.io/v1:Composition::c"

    def __init__(self, config: dict[str, Any]) -> None:
        self._config = config

    def get_config(self) -> dict[str, Any]:
        return self._config


@pytest.fixture(scope="module")
def pack(settings: Settings) -> dict[str, Any]:
    return {p.name: p for p in build_policies(settings)}
