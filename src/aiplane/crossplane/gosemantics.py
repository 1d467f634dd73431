"""How Go prints, parses and JSON-encodes the values function-patch-and-transform works on.

P&T receives the XR as a protobuf Struct (function-sdk-go `resource.AsObject`), so every XR number is a Go
float64; an int64 exists only as the output of a transform (`convert` to int64, `math` on an int64). Python
values stand for Go ones as: bool → bool, int → int64, float → float64, str → string, list → []any,
dict → map[string]any. Each function follows the Go standard library function named in its docstring
(Go 1.26: fmt, strconv, encoding/json), for the verbs and inputs P&T can meet; what it cannot follow it
refuses with GoValueError instead of guessing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

_PARSE_INT = re.compile(r"[+-]?[0-9]+")
_PARSE_FLOAT_DEC = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_PARSE_FLOAT_SPECIAL = re.compile(r"[+-]?(?:inf|infinity|nan)", re.IGNORECASE)
_GO_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_GO_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})
# A plain verb: `%` then one letter, or `%%`. Flags, widths and precisions are refused (not used by aiplane's
# Compositions, and each changes Go's output in ways not modelled here).
_VERB = re.compile(r"%(.)", re.DOTALL)
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class GoValueError(ValueError):
    """The Go operation fails on this input (as P&T would), or is outside what this module models."""


def go_type(value: Any) -> str:
    """The Go type name `%T` prints for `value`, as P&T's messages name it."""
    for py, name in ((bool, "bool"), (int, "int64"), (float, "float64"), (str, "string")):
        if isinstance(value, py):
            return name
    if isinstance(value, list):
        return "[]interface {}"
    if isinstance(value, dict):
        return "map[string]interface {}"
    return "<nil>"


def as_go_input(value: Any) -> Any:
    """A value read from the XR as P&T sees it: every number a float64 (protobuf Struct numbers are doubles)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, list):
        return [as_go_input(v) for v in value]
    if isinstance(value, dict):
        return {k: as_go_input(v) for k, v in value.items()}
    return value


def _shortest_digits(value: float) -> tuple[str, int]:
    """The shortest decimal digits that round-trip `value` (Python's repr and Go's shortest formatting agree)
    and the decimal point position dp, with |value| = 0.DIGITS × 10**dp."""
    _, digits, exponent = Decimal(repr(abs(value))).as_tuple()
    text = "".join(map(str, digits))
    significant = text.lstrip("0")
    dp = len(text) + int(exponent) - (len(text) - len(significant))
    return significant.rstrip("0"), dp


def format_float_g(value: float) -> str:
    """strconv.FormatFloat(value, 'g', -1, 64), which fmt's %v prints: shortest digits, %e form when the
    exponent is < -4 or >= 6 (strconv uses precision 6 for that decision when formatting shortest), so
    1000000 prints as 1e+06 and 0.00005 as 5e-05."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    digits, dp = _shortest_digits(value)
    sign = "-" if value < 0 else ""
    exp = dp - 1
    if exp < -4 or exp >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    return sign + _fixed(digits, dp)


def _fixed(digits: str, dp: int) -> str:
    if dp <= 0:
        return "0." + "0" * -dp + digits
    if dp >= len(digits):
        return digits + "0" * (dp - len(digits))
    return digits[:dp] + "." + digits[dp:]


def format_float_f(value: float) -> str:
    """strconv.FormatFloat(value, 'f', -1, 64): shortest digits, never an exponent (P&T convert to string)."""
    if math.isnan(value) or math.isinf(value):
        return format_float_g(value)
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    digits, dp = _shortest_digits(value)
    return ("-" if value < 0 else "") + _fixed(digits, dp)


def sprint_v(value: Any) -> str:
    """fmt's %v: true/false, int64 digits, float64 as %g, [a b], map[k:v] (keys sorted), <nil>."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_float_g(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "[" + " ".join(sprint_v(v) for v in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{sprint_v(value[k])}" for k in sorted(value)) + "]"
    return "<nil>"


def _bad_verb(verb: str, value: Any) -> str:
    if value is None:
        return f"%!{verb}(<nil>)"
    return f"%!{verb}({go_type(value)}={sprint_v(value)})"


def _sprint_verb(verb: str, value: Any) -> str:
    """One argument under `verb`: fmt applies %s and %d element-wise to slices and maps."""
    if verb == "v":
        return sprint_v(value)
    if isinstance(value, list):
        return "[" + " ".join(_sprint_verb(verb, v) for v in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{_sprint_verb(verb, k)}:{_sprint_verb(verb, value[k])}" for k in sorted(value)) + "]"
    if verb == "s" and isinstance(value, str):
        return value
    if verb == "d" and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if verb in ("s", "d"):
        return _bad_verb(verb, value)
    raise GoValueError(f"format verb %{verb} is not modelled")


def sprintf(fmt: str, args: Sequence[Any]) -> str:
    """fmt.Sprintf for plain %s, %v, %d and %%, including Go's in-band errors (%!d(float64=1), %!s(MISSING),
    %!(EXTRA ...)) which P&T writes into the resource as they are."""
    out: list[str] = []
    pos = 0
    index = 0
    for match in _VERB.finditer(fmt):
        out.append(fmt[pos : match.start()])
        pos = match.end()
        verb = match.group(1)
        if verb == "%":
            out.append("%")
            continue
        if not verb.isalpha():
            raise GoValueError(f"format {fmt!r}: flags, widths and precisions are not modelled")
        if index >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        out.append(_sprint_verb(verb, args[index]))
        index += 1
    out.append(fmt[pos:])
    if index < len(args):
        extra = ", ".join(f"{go_type(a)}={sprint_v(a)}" for a in args[index:])
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)


def parse_int(text: str) -> int:
    """strconv.ParseInt(text, 10, 64)."""
    if not _PARSE_INT.fullmatch(text):
        raise GoValueError(f'strconv.ParseInt: parsing "{text}": invalid syntax')
    value = int(text, 10)
    if not INT64_MIN <= value <= INT64_MAX:
        raise GoValueError(f'strconv.ParseInt: parsing "{text}": value out of range')
    return value


def parse_float(text: str) -> float:
    """strconv.ParseFloat(text, 64) for decimal forms and inf/nan; hex floats and underscores are refused."""
    if _PARSE_FLOAT_SPECIAL.fullmatch(text):
        return float(text.lower().replace("infinity", "inf"))
    if not _PARSE_FLOAT_DEC.fullmatch(text):
        raise GoValueError(f'strconv.ParseFloat: parsing "{text}": invalid syntax')
    value = float(text)
    if math.isinf(value):
        raise GoValueError(f'strconv.ParseFloat: parsing "{text}": value out of range')
    return value


def parse_bool(text: str) -> bool:
    """strconv.ParseBool."""
    if text in _GO_TRUE:
        return True
    if text in _GO_FALSE:
        return False
    raise GoValueError(f'strconv.ParseBool: parsing "{text}": invalid syntax')


def _json_float(value: float) -> str:
    """encoding/json's float64 form: 'f' unless the exponent is < -6 or >= 21, then 'e' with e-7, not e-07."""
    if math.isnan(value) or math.isinf(value):
        raise GoValueError(f"json: unsupported value: {format_float_g(value)}")
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    absolute = abs(value)
    if absolute < 1e-6 or absolute >= 1e21:
        digits, dp = _shortest_digits(value)
        exp = dp - 1
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{'-' if value < 0 else ''}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp)}"
    return format_float_f(value)


_JSON_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f",
                 "<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def _json_string(text: str) -> str:
    out = ['"']
    for ch in text:
        if ch in _JSON_ESCAPES:
            out.append(_JSON_ESCAPES[ch])
        elif ord(ch) < 0x20:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def json_marshal(value: Any) -> str:
    """encoding/json.Marshal: map keys sorted, `<>&` and U+2028/U+2029 escaped, UTF-8 kept, Go float forms."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _json_float(value)
    if isinstance(value, str):
        return _json_string(value)
    if isinstance(value, list):
        return "[" + ",".join(json_marshal(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{_json_string(k)}:{json_marshal(value[k])}" for k in sorted(value)) + "}"
    raise GoValueError(f"json: unsupported type {type(value).__name__}")
