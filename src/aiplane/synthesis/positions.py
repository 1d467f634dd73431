"""Line and column of every key and item of a YAML document, so errors can point into the file."""

from __future__ import annotations

import contextlib
from functools import cached_property
from typing import Any

import yaml

from aiplane.yamlio import compose_checked

Path_ = tuple[str | int, ...]


def yaml_positions(text: str) -> dict[Path_, tuple[int, int]]:
    """Map each path (keys and list indexes) to the 1-based (line, column) where its value starts;
    a mapping key's own position is stored under the path plus the marker `"<key>"`."""
    positions: dict[Path_, tuple[int, int]] = {}
    try:
        # The same loader and alias-expansion bound as the file's loading: this walk visits every
        # expanded value, so an alias bomb is refused before it starts.
        root = compose_checked(text)
    except (yaml.YAMLError, RecursionError):
        return positions

    def walk(node: Any, path: Path_) -> None:
        positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    continue
                key = key_node.value
                positions[(*path, key, "<key>")] = (
                    key_node.start_mark.line + 1,
                    key_node.start_mark.column + 1,
                )
                walk(value_node, (*path, key))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                walk(item, (*path, index))

    if root is not None:
        with contextlib.suppress(RecursionError):  # deeper than Python's stack: locate what was reached
            walk(root, ())
    return positions


def locate(positions: dict[Path_, tuple[int, int]], path: Path_) -> tuple[int, int] | None:
    """Position of `path`, or of its nearest existing ancestor (a missing field is reported where its
    parent is); for a key that exists, the key's own position."""
    key_pos = positions.get((*path, "<key>")) if path else None
    if key_pos:
        return key_pos
    probe = path
    while probe:
        if probe in positions:
            return positions[probe]
        probe = probe[:-1]
    return positions.get(())


class Positions:
    """Positions of one YAML text, composed only when first asked: they are needed to report problems,
    and a valid file has none."""

    def __init__(self, text: str) -> None:
        self._text = text

    @cached_property
    def _map(self) -> dict[Path_, tuple[int, int]]:
        return yaml_positions(self._text)

    def locate(self, path: Path_) -> tuple[int, int] | None:
        return locate(self._map, path)
