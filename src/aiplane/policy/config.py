"""The policy config, in the format `pulumi --policy-pack-config` reads, shared by both adapters:
`{"all": <level>, "<rule>": "<level>" | {"enforcementLevel": <level>, <param>: <value>, ...}}`.

Every parameter is typed: `param_types(rule)` is the one schema both adapters use — `aiplane check`
validates the file with it (exit 2 on a wrong value), the CrossGuard pack publishes it as each policy's
config schema and validates what the Pulumi CLI sends with it. No coercion (`"4"` is not 4, `true` is not
1), numbers must be finite, and a value of the wrong type never silently switches a rule off."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, Field, Strict, TypeAdapter, ValidationError

from aiplane.errors import InputError, Problem
from aiplane.policy.model import Enforcement, Rule

LEVELS: tuple[Enforcement, ...] = ("mandatory", "advisory", "disabled")
DEFAULT_CONFIG = Path("policypacks") / "aiplane-guardrails" / "policy-config.json"
# A rule with both a resource and a stack check is two CrossGuard policies; the Pulumi CLI configures
# policies by name, so the stack part has its own key `<rule>-environment` here too (parity).
STACK_SUFFIX = "-environment"
# A policy config is a flat object of small objects; deeper nesting is a mistake or an attack
# (Python's JSON parser recurses once per level).
MAX_DEPTH = 16

StrictStr = Annotated[str, Strict()]
FiniteNumber = Annotated[float, Strict(), Field(allow_inf_nan=False)]
Count = Annotated[int, Strict(), Field(ge=0)]
Fraction = Annotated[float, Strict(), Field(ge=0, le=1, allow_inf_nan=False)]
NonEmptyStrings = Annotated[list[StrictStr], Field(min_length=1)]


def _compiles(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as err:
        raise ValueError(f"not a regular expression: {err}") from None
    return pattern


RegularExpression = Annotated[str, Strict(), AfterValidator(_compiles)]


# Parameters every rule's entry accepts, read by the engine (not the rule): whether its findings may be
# waived, and how far ahead a waiver may expire (aiplane.policy.waivers).
WAIVER_PARAMS: dict[str, Any] = {"waivable": True, "maxWaiverDays": 365}
_WAIVER_ADAPTERS: dict[str, TypeAdapter[Any]] = {
    "waivable": TypeAdapter(Annotated[bool, Strict()]),
    "maxWaiverDays": TypeAdapter(Annotated[int, Strict(), Field(ge=0, le=36500)]),
}


def config_key(rule: Rule, stack: bool) -> str:
    """The config key (and CrossGuard policy name) of one part of a rule."""
    return rule.id + STACK_SUFFIX if stack and rule.check is not None else rule.id


def _derived_type(default: Any) -> Any:
    """The strict type a parameter has when its rule names none: that of its default value."""
    if isinstance(default, bool):
        return Annotated[bool, Strict()]
    if isinstance(default, int):
        return Count
    if isinstance(default, float):
        return FiniteNumber
    if isinstance(default, str):
        return StrictStr
    if isinstance(default, Mapping):
        values = list(default.values())
        return dict[StrictStr, _derived_type(values[0]) if values else Any]  # type: ignore[misc]
    if isinstance(default, (list, tuple)):
        return list[_derived_type(default[0]) if default else StrictStr]  # type: ignore[misc]
    raise TypeError(f"parameter default {default!r} has no JSON type")


_ADAPTERS: dict[int, tuple[Rule, dict[str, TypeAdapter[Any]]]] = {}


def _adapters(rule: Rule) -> dict[str, TypeAdapter[Any]]:
    """Each parameter's validator, the waiver parameters included (built once per rule: rules are
    module-level constants)."""
    cached = _ADAPTERS.get(id(rule))
    if cached is None or cached[0] is not rule:
        adapters = {
            name: TypeAdapter(rule.param_types.get(name) or _derived_type(default))
            for name, default in rule.params.items()
        }
        adapters.update(_WAIVER_ADAPTERS)
        cached = _ADAPTERS[id(rule)] = (rule, adapters)
    return cached[1]


def param_json_schema(rule: Rule, name: str) -> dict[str, Any]:
    """The JSON schema of one parameter (what the CrossGuard pack publishes as its config schema)."""
    return _adapters(rule)[name].json_schema()


def _error_text(err: ValidationError, where: str) -> str:
    """`<where>[.<path inside the value>]: <pydantic's message>` for the first error."""
    first = err.errors()[0]
    inner = ".".join(str(p) for p in first["loc"])
    return f"{where}.{inner}: {first['msg']}" if inner else f"{where}: {first['msg']}"


def check_params(rule: Rule, entry: Mapping[str, Any], key: str) -> dict[str, Any]:
    """The entry's parameters, each validated against its type; InputError names the first wrong one."""
    adapters = _adapters(rule)
    params: dict[str, Any] = {}
    problems = []
    unknown = sorted(set(entry) - {"enforcementLevel"} - set(adapters))
    if unknown:
        problems.append(f"{key}: unknown parameter(s) {', '.join(unknown)}")
    for name, value in entry.items():
        if name == "enforcementLevel" or name in unknown:
            continue
        try:
            params[name] = adapters[name].validate_python(value)
        except ValidationError as err:
            problems.append(f"{_error_text(err, f'{key}.{name}')} (got {_short(value)})")
    if problems:
        raise InputError([Problem("policy config", p) for p in problems])
    return params


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass(frozen=True)
class RuleConfig:
    enforcement: Enforcement
    params: Mapping[str, Any]
    waivable: bool = True
    max_waiver_days: int = WAIVER_PARAMS["maxWaiverDays"]


def _level(value: Any, key: str) -> Enforcement:
    if isinstance(value, str) and value in LEVELS:
        return value
    raise InputError.single(
        "policy config", f"{key}: enforcementLevel {_short(value)} is not one of {', '.join(LEVELS)}"
    )


def resolve(rule: Rule, config: Mapping[str, Any], stack: bool = False) -> RuleConfig:
    """A rule part's enforcement and parameters: rule defaults, then `all`, then its own entry
    (`<rule>`, or `<rule>-environment` for the stack part of a rule that also has a resource check).
    A value of the wrong type is an InputError, never a silent fallback to the default."""
    level: Enforcement = rule.enforcement
    key = config_key(rule, stack)
    everything = config.get("all")
    if "all" not in config:
        pass
    elif isinstance(everything, Mapping):
        if set(everything) - {"enforcementLevel"}:
            raise InputError.single("policy config", "all: only enforcementLevel can be set for all rules")
        if "enforcementLevel" in everything:
            level = _level(everything["enforcementLevel"], "all")
    else:
        level = _level(everything, "all")
    entry = config.get(key)
    params = dict(rule.params)
    waiving = dict(WAIVER_PARAMS)
    if isinstance(entry, Mapping):
        if "enforcementLevel" in entry:
            level = _level(entry["enforcementLevel"], key)
        for name, value in check_params(rule, entry, key).items():
            (waiving if name in WAIVER_PARAMS else params)[name] = value
    elif key in config:
        level = _level(entry, key)
    return RuleConfig(level, params, waiving["waivable"], waiving["maxWaiverDays"])


def _duplicate_refusing(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _non_finite(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows; thresholds must be finite")


def _nesting_problem(text: str) -> tuple[int, int] | None:
    """(line, column) where brackets first nest deeper than MAX_DEPTH, scanning outside strings."""
    depth, line, col, in_string, escaped = 0, 1, 0, False, False
    for ch in text:
        col += 1
        if ch == "\n":
            line, col = line + 1, 0
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return line, col
        elif ch in "]}":
            depth -= 1
    return None


def _line_of_duplicate(text: str, key: str) -> int | None:
    needle = json.dumps(key)
    first = text.find(needle)
    second = text.find(needle, first + 1) if first >= 0 else -1
    return text.count("\n", 0, second) + 1 if second >= 0 else None


def load_config(path: Path) -> dict[str, Any]:
    """The config file as JSON: UTF-8, no duplicate keys, no NaN/Infinity, nesting bounded."""
    source = str(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as err:
        raise InputError.single(source, f"cannot read: {err.strerror or err}") from None
    except UnicodeDecodeError as err:
        raise InputError.single(source, f"not UTF-8 text (byte {err.start})") from None
    deep = _nesting_problem(text)
    if deep is not None:
        raise InputError.single(
            source, f"nested deeper than {MAX_DEPTH} levels", line=deep[0], column=deep[1]
        )
    try:
        data = json.loads(text, object_pairs_hook=_duplicate_refusing, parse_constant=_non_finite)
    except _DuplicateKey as err:
        raise InputError.single(
            source,
            f"duplicate key {err.key!r}: JSON readers disagree on which one wins",
            line=_line_of_duplicate(text, err.key),
        ) from None
    except json.JSONDecodeError as err:
        raise InputError.single(
            source, f"invalid JSON: {err.msg}", line=err.lineno, column=err.colno
        ) from None
    except (ValueError, RecursionError) as err:
        raise InputError.single(source, f"invalid JSON: {err}") from None
    if not isinstance(data, dict):
        raise InputError.single(source, "the policy config must be a JSON object")
    return data


def check_config(config: Mapping[str, Any], rules: tuple[Rule, ...] | list[Rule], source: str) -> None:
    """Every key, level and parameter of the config, checked before any rule runs: an unknown rule id
    or parameter, an unknown level or a parameter of the wrong type is an input error (exit 2)."""
    by_id = {config_key(r, stack): (r, stack) for r in rules for stack in (False, True)}
    problems: list[Problem] = []
    for key in config:
        if key != "all" and key not in by_id:
            problems.append(Problem(source, f"unknown rule {key!r}"))
    for key, (rule, stack) in sorted(by_id.items()):
        if key not in config and "all" not in config:
            continue
        try:
            resolve(rule, config, stack)
        except InputError as err:
            problems += [Problem(source, p.message) for p in err.problems]
    if problems:
        raise InputError(list(dict.fromkeys(problems)))


def finite(value: Any) -> bool:
    """True for a real, finite number (bools excluded): what every numeric comparison in a rule needs
    before `>`/`<` can mean anything (NaN compares false with everything, inf beats every bound)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
