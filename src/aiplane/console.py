"""Terminal niceties every command shares: colour only when stdout is a terminal and NO_COLOR is unset
(https://no-color.org: any non-empty value turns colour off), and progress on stderr only when stderr is a
terminal — so pipes, files, CI logs and machine formats stay byte-for-byte plain."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

import click
from rich.console import Console


def colour_enabled(stream: TextIO | None = None) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    target = stream or sys.stdout
    isatty = getattr(target, "isatty", None)
    return bool(isatty and isatty())


def paint(text: str, **style: Any) -> str:
    """`text` in click.style's `style` (fg=, bold=…) when colour is on for stdout, else unchanged."""
    return click.style(text, **style) if colour_enabled() else text


@contextmanager
def progress(message: str) -> Iterator[None]:
    """A spinner with `message` on stderr while the block runs, when stderr is a terminal; nothing otherwise.
    Rich honours NO_COLOR for the spinner's colour."""
    err = Console(stderr=True, highlight=False)
    if not err.is_terminal:
        yield
        return
    with err.status(message):
        yield
