"""Recommendations written into environments/<env>.yaml so that the change is a small, reviewable diff.

ruamel.yaml's round-trip loader reads the file and says where each value sits (line and column); only the
characters of the values that change are rewritten (a missing key gets one line beside its siblings), so
comments, flow or block style, quoting, key order and line wrapping stay byte for byte. Re-dumping the whole
document would not: ruamel.yaml re-wraps long flow mappings. The result is read back and every changed value
checked, so a file this cannot edit faithfully is refused (exit 2) rather than written wrong.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from aiplane.errors import InputError
from aiplane.rightsizing.recommend import Change, Recommendation

_PLAIN = re.compile(r"[^\s,\[\]{}#]+")
_SAFE_PLAIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")


def _load(text: str, source: str) -> Any:
    try:
        return YAML(typ="rt").load(io.StringIO(text))
    except YAMLError as err:
        raise InputError.single(source, f"cannot read YAML: {err}") from None


def render(value: Any) -> str:
    """A value as YAML text, in flow style for lists (what the environment files use)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"{value:g}" if isinstance(value, float) else str(value)
    if isinstance(value, list):
        return "[" + ", ".join(render(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {render(v)}" for k, v in value.items()) + "}"
    text = str(value)
    if _SAFE_PLAIN.match(text) and text not in ("true", "false", "null", "yes", "no", "on", "off", "~"):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def apply(text: str, recommendations: Sequence[Recommendation], source: str) -> str:
    """`text` with every recommended change made; InputError when a value cannot be edited in place."""
    data = _load(text, source)
    lines = text.splitlines(keepends=True)
    edits: list[tuple[int, int, int, str]] = []  # (line, start column, end column, replacement)
    inserts: list[tuple[int, int, str]] = []  # (first line, end line replaced, text): end = first inserts
    for rec in recommendations:
        if not rec.changes:
            continue
        item = _item(data, rec, source)
        for change in rec.changes:
            parent: Any = item
            for key in change.field[:-1]:
                parent = parent[key]
            key = change.field[-1]
            if _is_block_list(change.new):
                inserts.append(_block_list(lines, parent, key, change, source))
            elif key in parent:
                edits.append(_edit(lines, parent, key, change, source))
            else:
                before, added = _insert(lines, parent, key, change, source)
                inserts.append((before, before, added))
    for line, start, end, replacement in sorted(edits, reverse=True):
        lines[line] = lines[line][:start] + replacement + lines[line][end:]
    for first, end, added in sorted(inserts, reverse=True):
        lines[first:end] = [added]
    result = "".join(lines)
    _verify(result, recommendations, source)
    return result


def _item(data: Any, rec: Recommendation, source: str) -> CommentedMap:
    items = data.get(rec.environment_key) if isinstance(data, CommentedMap) else None
    for item in items if isinstance(items, CommentedSeq) else []:
        if isinstance(item, CommentedMap) and item.get("name") == rec.workload.name:
            return item
    raise InputError.single(source, f"{rec.environment_key}: no item named {rec.workload.name!r} to edit")


def _edit(lines: list[str], parent: CommentedMap, key: str, change: Change, source: str) -> tuple[int, int, int, str]:
    line, column = parent.lc.value(key)
    text = lines[line]
    value = parent[key]
    if isinstance(value, CommentedSeq):
        end = text.find("]", column)
        if not value.fa.flow_style() or text[column] != "[" or end < 0:
            raise _cannot(source, line, change, "write the list in flow style on one line ([a, b])")
        return line, column, end + 1, render(change.new)
    if isinstance(value, CommentedMap):
        raise _cannot(source, line, change, "the value is a mapping")
    if text[column] in "'\"":
        end = text.find(text[column], column + 1)
        if end < 0:
            raise _cannot(source, line, change, "a quoted value spanning lines")
        return line, column, end + 1, render(change.new)
    match = _PLAIN.match(text, column)
    if match is None:
        raise _cannot(source, line, change, "no plain value at its position")
    return line, column, match.end(), render(change.new)


def _insert(lines: list[str], parent: CommentedMap, key: str, change: Change, source: str) -> tuple[int, str]:
    """A new `key: value` line after the mapping's first key, at its indentation (block mappings only)."""
    first = next(iter(parent))
    line, column = parent.lc.key(first)
    if parent.fa.flow_style():
        raise _cannot(source, line, change, "adding a key to a flow mapping")
    indent = " " * column
    return line + 1, f"{indent}{key}: {render(change.new)}\n"


def _is_block_list(value: Any) -> bool:
    return isinstance(value, list) and any(isinstance(v, dict) for v in value)


def _block_list(lines: list[str], parent: CommentedMap, key: str, change: Change, source: str) -> tuple[int, int, str]:
    """A list of mappings (autoscaling.schedule) as a block sequence of one-line flow mappings under its key,
    replacing the key's lines (its flow `[]`, or a block sequence of one-line items) or added after the
    mapping's first key."""
    if parent.fa.flow_style():
        raise _cannot(source, parent.lc.line, change, "a list of mappings inside a flow mapping")
    if key in parent:
        line, column = parent.lc.key(key)
        value = parent[key]
        end = line + 1
        if isinstance(value, CommentedSeq) and not value.fa.flow_style():
            for index, item in enumerate(value):
                item_line = value.lc.item(index)[0]
                if not (isinstance(item, CommentedMap) and item.fa.flow_style()) or item_line != end:
                    raise _cannot(source, item_line, change, "write each entry as a one-line {...} mapping")
                end = item_line + 1
        elif not isinstance(value, CommentedSeq) or value.lc.line != line:
            raise _cannot(source, line, change, "write the list as [] or one-line {...} entries")
    else:
        # After the mapping's last key when that is a one-line value, so the list ends the mapping.
        keys = list(parent)
        anchor = keys[-1] if not isinstance(parent[keys[-1]], CommentedMap | CommentedSeq) else keys[0]
        line, column = parent.lc.key(anchor)
        line, end = line + 1, line + 1
    indent = " " * column
    if not change.new:
        return line, end, f"{indent}{key}: []\n"
    entries = "".join(f"{indent}  - {render(v)}\n" for v in change.new)
    return line, end, f"{indent}{key}:\n{entries}"


def _cannot(source: str, line: int, change: Change, why: str) -> InputError:
    return InputError.single(source, f"cannot edit {change.path} in place: {why}", line=line + 1)


def _verify(result: str, recommendations: Sequence[Recommendation], source: str) -> None:
    data = _load(result, source)
    for rec in recommendations:
        if not rec.changes:
            continue
        item = _item(data, rec, source)
        for change in rec.changes:
            value: Any = item
            for key in change.field:
                value = value[key]
            if (list(value) if isinstance(value, CommentedSeq) else value) != change.new:
                raise InputError.single(source, f"editing {change.path} in place went wrong; nothing written")
