"""An upper bound on what one CEL expression costs, in the spirit of Kubernetes' CEL cost estimator.

The CEL library we evaluate with has no cost limit and cannot be interrupted, so every rule is bounded
before it runs, as the Kubernetes API server bounds it:
- at CRD creation it refuses a rule whose *estimated* cost exceeds `StaticEstimatedCostLimit`
  (10,000,000 per expression, multiplied by how often the rule runs under enclosing lists and maps) and a
  CRD whose rules together exceed `StaticEstimatedCRDCostLimit` (100,000,000) —
  k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/validation/validation.go;
- at run time it stops an evaluation past `PerCallLimit` (1,000,000) and a request past
  `RuntimeCELCostBudget` (10,000,000) — k8s.io/apiserver/pkg/apis/cel/config.go.
Sizes come from the schema (`maxItems`, `maxProperties`, `maxLength`; unbounded ones estimated, as
Kubernetes does, from the 3 MiB request limit and the smallest serialized element) or, at run time,
from the value itself. The model is coarser than cel-go's (one unit per token, comprehensions multiply
by the size of what they iterate, string functions by the string's length), so its figures are upper
bounds of the same order, not Kubernetes' exact numbers.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

STATIC_ESTIMATED_COST_LIMIT = 10_000_000
STATIC_ESTIMATED_CRD_COST_LIMIT = 100_000_000
PER_CALL_LIMIT = 1_000_000
RUNTIME_COST_BUDGET = 10_000_000
# Kubernetes' request size limit, from which it estimates the size of unbounded lists, maps and strings.
MAX_REQUEST_SIZE_BYTES = 3 * 1024 * 1024
# Past this, a figure is only "too much": keep the arithmetic small.
CAP = 10**15

# Macros that iterate their receiver (CEL's comprehensions and the Kubernetes list/map extensions).
_COMPREHENSIONS = frozenset(
    {"all", "exists", "exists_one", "existsOne", "map", "filter", "transformList", "transformMap",
     "transformMapEntry", "sortBy"}
)
# Functions whose cost grows with the length of the string (or list) they are called on.
_TRAVERSALS = frozenset(
    {"matches", "contains", "startsWith", "endsWith", "indexOf", "lastIndexOf", "split", "replace",
     "lowerAscii", "upperAscii", "trim", "join", "substring", "charAt", "quote", "reverse", "format",
     "find", "findAll", "sort", "isSorted", "sum", "min", "max", "distinct", "flatten"}
)
_TOKEN = re.compile(
    r"""(?P<space>\s+)
    |(?P<comment>//[^\n]*)
    |(?P<string>[rRbB]{0,2}(?:'''(?:.|\n)*?'''|\"\"\"(?:.|\n)*?\"\"\"|'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"))
    |(?P<number>0[xX][0-9a-fA-F]+[uU]?|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[uU]?)
    |(?P<ident>[A-Za-z_][A-Za-z0-9_]*)
    |(?P<op>==|!=|<=|>=|&&|\|\||[-+*/%!<>?:.,()\[\]{}])
    """,
    re.VERBOSE,
)
_OPEN = {"(": ")", "[": "]", "{": "}"}
_COSTLY_OPERATORS = frozenset({"==", "!=", "<", ">", "<=", ">=", "+", "-", "*", "/", "%", "!", "?"})


class CostParseError(ValueError):
    """The expression could not be read by the estimator (the CEL library reports why)."""


@functools.cache
def tokenize(expression: str) -> tuple[str, ...]:
    """The expression's tokens, without spaces and `//` line comments (CEL's only comments: a `//` inside a
    string literal is part of the string, which is matched first). Once per expression and process: the
    compiler, the cost estimates and the field analysis all read them."""
    out, pos = [], 0
    while pos < len(expression):
        match = _TOKEN.match(expression, pos)
        if match is None:
            raise CostParseError(f"unexpected character {expression[pos]!r} at {pos}")
        if match.lastgroup not in ("space", "comment"):
            out.append(match.group())
        pos = match.end()
    return tuple(out)


def _matching(tokens: Sequence[str]) -> dict[int, int]:
    """Index of each bracket's partner (both ways)."""
    stack: list[int] = []
    pairs: dict[int, int] = {}
    for i, tok in enumerate(tokens):
        if tok in _OPEN:
            stack.append(i)
        elif tok in (")", "]", "}"):
            if not stack or _OPEN[tokens[stack[-1]]] != tok:
                raise CostParseError("unbalanced brackets")
            j = stack.pop()
            pairs[i], pairs[j] = j, i
    if stack:
        raise CostParseError("unbalanced brackets")
    return pairs


class Shape:
    """What the estimator knows about a value: its largest size and the shapes below it."""

    def size(self) -> int:
        raise NotImplementedError

    def field(self, name: str) -> Shape:
        raise NotImplementedError

    def elem(self) -> Shape:
        raise NotImplementedError


@dataclass(frozen=True)
class Unknown(Shape):
    """A value the estimator cannot follow: every size is the given bound."""

    bound: int

    def size(self) -> int:
        return self.bound

    def field(self, name: str) -> Shape:
        return self

    def elem(self) -> Shape:
        return self


def _min_serialized_size(node: Any) -> int:
    """The fewest bytes one value of this schema takes in JSON (Kubernetes' estimate of list lengths)."""
    kind = node.get("type") if isinstance(node, dict) else None
    return {"string": 2, "boolean": 4, "object": 2, "array": 2}.get(str(kind), 1)


def _bounded(node: Any, key: str, unbounded: int) -> int:
    value = node.get(key) if isinstance(node, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else unbounded


@dataclass(frozen=True)
class SchemaShape(Shape):
    """Sizes as the schema bounds them; what it leaves unbounded is estimated from the request limit."""

    node: Any

    def size(self) -> int:
        node = self.node if isinstance(self.node, dict) else {}
        kind = node.get("type")
        if kind == "array":
            est = (MAX_REQUEST_SIZE_BYTES - 2) // (_min_serialized_size(node.get("items")) + 1)
            return _bounded(node, "maxItems", est)
        if kind == "object" or "additionalProperties" in node or "properties" in node:
            if isinstance(node.get("properties"), dict) and not node.get("additionalProperties"):
                return len(node["properties"])
            # a key ("" → 2 bytes), a colon, a value and a comma
            est = (MAX_REQUEST_SIZE_BYTES - 2) // (2 + 1 + _min_serialized_size(node.get("additionalProperties")) + 1)
            return _bounded(node, "maxProperties", est)
        if kind == "string":
            return _bounded(node, "maxLength", MAX_REQUEST_SIZE_BYTES - 2)
        if kind in ("integer", "number", "boolean"):
            return 1
        return MAX_REQUEST_SIZE_BYTES  # x-kubernetes-preserve-unknown-fields, int-or-string, untyped

    def field(self, name: str) -> Shape:
        node = self.node if isinstance(self.node, dict) else {}
        props = node.get("properties")
        if isinstance(props, dict) and name in props:
            return SchemaShape(props[name])
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            return SchemaShape(extra)
        return Unknown(MAX_REQUEST_SIZE_BYTES)

    def elem(self) -> Shape:
        node = self.node if isinstance(self.node, dict) else {}
        if node.get("type") == "array":
            return SchemaShape(node.get("items"))
        if isinstance(node.get("additionalProperties"), dict):
            return SchemaShape({"type": "string"})  # comprehensions over maps bind the keys
        if isinstance(node.get("properties"), dict):
            longest = max((len(k) for k in node["properties"]), default=0)
            return SchemaShape({"type": "string", "maxLength": longest})
        return Unknown(MAX_REQUEST_SIZE_BYTES)


@dataclass(frozen=True)
class ValueShape(Shape):
    """Sizes of actual values (all those a path can reach: a bound variable stands for every element)."""

    values: tuple[Any, ...]

    def size(self) -> int:
        return max((_size(v) for v in self.values), default=0)

    def field(self, name: str) -> Shape:
        return ValueShape(tuple(v[name] for v in self.values if isinstance(v, dict) and name in v))

    def elem(self) -> Shape:
        out: list[Any] = []
        for v in self.values:
            if isinstance(v, list):
                out.extend(v)
            elif isinstance(v, dict):
                out.extend(v)  # comprehensions over maps bind the keys
        return ValueShape(tuple(out))


def _size(value: Any) -> int:
    if isinstance(value, (list, dict, str, bytes)):
        return len(value)
    return 1


def total_size(value: Any, limit: int = CAP) -> int:
    """Every element, key and character of a value: what any derived list or string is bounded by."""
    total, stack = 0, [value]
    while stack and total < limit:
        v = stack.pop()
        total += _size(v)
        if isinstance(v, dict):
            total += sum(len(k) for k in v if isinstance(k, str))
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return total


@dataclass
class _Estimator:
    tokens: Sequence[str]
    pairs: dict[int, int]
    unknown: Shape

    def cost(self, start: int, end: int, env: dict[str, Shape]) -> int:
        """Cost of tokens[start:end]: one unit per token, comprehensions and traversals on top."""
        total, i = 0, start
        tokens = self.tokens
        while i < end:
            tok = tokens[i]
            # As in cel-go, what costs is reading a variable or field and applying an operator or
            # function; brackets, literals and the short-circuiting && and || add nothing of their own.
            if is_ident(tok) or tok in _COSTLY_OPERATORS:
                total += 1
            if tok == "." and i + 2 < end and tokens[i + 2] == "(" and is_ident(tokens[i + 1]):
                name, open_at = tokens[i + 1], i + 2
                close = self.pairs[open_at]
                receiver = self.shape(self._receiver_start(start, i), i, env)
                if name in _COMPREHENSIONS:
                    total += self._comprehension(receiver, open_at, close, env)
                    i = close + 1
                    continue
                if name in _TRAVERSALS:
                    total += _mul(receiver.size(), max(1, close - open_at)) // 4 + 1
            elif tok == "in" and i + 1 < end:
                total += self.shape(i + 1, self._postfix_end(i + 1, end), env).size()
            elif tok in ("==", "!=") and i > start:
                # comparing lists, maps or strings walks them
                total += min(self.shape(self._receiver_start(start, i), i, env).size(),
                             self.shape(i + 1, self._postfix_end(i + 1, end), env).size()) // 10
            if total >= CAP:
                return CAP
            i += 1
        return total

    def _comprehension(self, receiver: Shape, open_at: int, close: int, env: dict[str, Shape]) -> int:
        args = self._split_args(open_at + 1, close)
        if len(args) < 2:
            return self.cost(open_at + 1, close, env)
        *variables, body = args
        # `map(x, predicate, transform)`: two bodies over one variable
        names = [self.tokens[a] for a, b in variables if b == a + 1 and is_ident(self.tokens[a])]
        bodies = [body]
        if len(variables) == 2 and len(names) == 1:
            bodies = [variables[1], body]
        inner = dict(env)
        element = receiver.elem()
        for index, name in enumerate(names):
            # two-variable forms bind (index or key, value): the key's shape is the element's too
            inner[name] = element if index == len(names) - 1 else Unknown(max(1, receiver.size()))
        per_item = 1 + sum(self.cost(a, b, inner) for a, b in bodies)
        return _mul(receiver.size(), per_item)

    def _split_args(self, start: int, end: int) -> list[tuple[int, int]]:
        out, i, first = [], start, start
        while i < end:
            if self.tokens[i] in _OPEN:
                i = self.pairs[i]
            elif self.tokens[i] == ",":
                out.append((first, i))
                first = i + 1
            i += 1
        if first < end:
            out.append((first, end))
        return out

    def _receiver_start(self, floor: int, dot: int) -> int:
        """Where the postfix chain ending just before `dot` begins (`self.a[0].b` before `.all`)."""
        i = dot - 1
        while i >= floor:
            tok = self.tokens[i]
            if tok in (")", "]", "}"):
                i = self.pairs[i] - 1
                if i >= floor and is_ident(self.tokens[i]):
                    i -= 1  # a call: `f(...)` or `.f(...)`
            elif is_ident(tok) or _is_literal(tok):
                i -= 1
            else:
                return i + 1
            if i >= floor and self.tokens[i] == ".":
                i -= 1
                continue
            return i + 1
        return floor

    def _postfix_end(self, start: int, end: int) -> int:
        i = start
        if i < end and self.tokens[i] in ("!", "-"):
            i += 1
        while i < end:
            tok = self.tokens[i]
            if tok in _OPEN:
                i = self.pairs[i] + 1
            elif is_ident(tok) or _is_literal(tok):
                i += 1
            else:
                return i
            if i < end and self.tokens[i] == ".":
                i += 1
                continue
            if i < end and self.tokens[i] in ("(", "["):
                continue
            return i
        return i

    def shape(self, start: int, end: int, env: dict[str, Shape]) -> Shape:
        """The shape of the postfix chain tokens[start:end], or Unknown when it is not a plain path."""
        if start >= end:
            return self.unknown
        tok = self.tokens[start]
        if end == start + 1 and _is_literal(tok):
            return Unknown(len(tok))
        if tok == "[" and self.pairs[start] == end - 1:
            return Unknown(max(1, len(self._split_args(start + 1, end - 1))))
        if tok not in env:
            return self.unknown
        current, i = env[tok], start + 1
        while i < end:
            if self.tokens[i] == "." and i + 1 < end and is_ident(self.tokens[i + 1]):
                if i + 2 < end and self.tokens[i + 2] == "(":
                    return self.unknown  # a call's result: bounded by the unknown size
                current, i = current.field(self.tokens[i + 1]), i + 2
            elif self.tokens[i] == "[":
                key = self.tokens[i + 1] if self.pairs[i] == i + 2 else ""
                current = current.field(key[1:-1]) if key[:1] in "'\"" and key else current.elem()
                i = self.pairs[i] + 1
            else:
                return self.unknown
        return current


def is_ident(tok: str) -> bool:
    return tok[:1].isalpha() or tok[:1] == "_"


def _is_literal(tok: str) -> bool:
    return tok[:1].isdigit() or tok[:1] in "'\"" or (tok[:1] in "rRbB" and tok[1:2] in "'\"")


def _mul(a: int, b: int) -> int:
    return min(CAP, a * b)


@functools.cache
def _prepared(expression: str) -> tuple[Sequence[str], dict[int, int]]:
    tokens = tokenize(expression)
    return tokens, _matching(tokens)


def estimate(expression: str, self_shape: Shape, unknown: Shape) -> int:
    """The estimated cost of evaluating `expression` with `self` of the given shape (capped at CAP).
    Raises CostParseError when the text cannot be read (the CEL library then reports the real error)."""
    tokens, pairs = _prepared(expression)
    estimator = _Estimator(tokens, pairs, unknown)
    try:
        return estimator.cost(0, len(tokens), {"self": self_shape})
    except RecursionError:
        raise CostParseError("comprehensions nested too deeply to estimate") from None


class WholeValue(Shape):
    """What an expression builds from a value (a concatenation, a call's result) is bounded by the
    value's total size; computed only when the estimate needs it."""

    def __init__(self, value: Any) -> None:
        self.value = value
        self._size: int | None = None

    def size(self) -> int:
        if self._size is None:
            self._size = max(1, total_size(self.value))
        return self._size

    def field(self, name: str) -> Shape:
        return self

    def elem(self) -> Shape:
        return self


def static_estimate(expression: str, node: Any) -> int:
    """The estimate for a rule at a schema node, before any object exists (CRD creation)."""
    return estimate(expression, SchemaShape(node), Unknown(MAX_REQUEST_SIZE_BYTES))


def runtime_estimate(expression: str, value: Any, whole: Shape | None = None) -> int:
    """The estimate for a rule evaluated on `value`; `whole` (a WholeValue of it, shared by the rules
    at one location) bounds every list or string the expression can build from it."""
    return estimate(expression, ValueShape((value,)), whole if whole is not None else WholeValue(value))


def cardinality(sizes: Iterable[int], node: Any) -> int:
    """How often a rule at `node` can run: the product of the sizes of the lists and maps above it, and
    never more than copies of the node's smallest serialization fit in one request (Kubernetes'
    `maxCardinality` in k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel)."""
    out = 1
    for size in sizes:
        out = _mul(out, max(1, size))
    return min(out, MAX_REQUEST_SIZE_BYTES // (_min_serialized_size(node) + 1))
