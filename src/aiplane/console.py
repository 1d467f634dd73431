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

# Environment variables with which rich treats a stream that is not a TTY as a terminal.
_RICH_TERMINAL_OVERRIDES = frozenset({"FORCE_COLOR", "TTY_COMPATIBLE"})


def colour_enabled(stream: TextIO | None = None) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    return _isatty(stream or sys.stdout)


def _isatty(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream (pytest's capture at exit)
        return False


def paint(text: str, stream: TextIO | None = None, **style: Any) -> str:
    """`text` in click.style's `style` (fg=, bold=…) when colour is on for `stream` (default stdout), else
    unchanged."""
    return click.style(text, **style) if colour_enabled(stream) else text


@contextmanager
def progress(message: str) -> Iterator[None]:
    """A spinner with `message` on stderr while the block runs, when stderr is a terminal; nothing otherwise.
    Rich honours NO_COLOR for the spinner's colour."""
    if not _isatty(sys.stderr) and not _RICH_TERMINAL_OVERRIDES.intersection(os.environ):
        # Not a terminal, and nothing tells rich to treat it as one: rich (30 ms to import) would say no.
        yield
        return
    from rich.console import Console

    err = Console(stderr=True, highlight=False)
    if not err.is_terminal:
        yield
        return
    with err.status(message):
        yield
