"""What aiplane derives from its own sources and keeps beside their bytecode, under the rules Python applies
to bytecode: in the source folder's `__pycache__` (or under PYTHONPYCACHEPREFIX), never written with
PYTHONDONTWRITEBYTECODE, written atomically (a reader sees the old file or the new one), and simply not kept
where the folder cannot be written. Each user validates what it reads (a stamp or checksum of the source) and
derives it afresh otherwise, so a cache can cost time but never change a result. Used for the models'
attribute docstrings (aiplane.docstrings) and the compiled API-docs template (aiplane.synthesis.api_docs)."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys


def cache_path(source: str, suffix: str) -> str | None:
    """`<folder>/__pycache__/<name>.<python tag>.<suffix>` for the source file `source`; None when this Python
    keeps no bytecode (no cache tag)."""
    try:
        return importlib.util.cache_from_source(source).removesuffix(".pyc") + f".{suffix}"
    except (NotImplementedError, ValueError):
        return None


def read(path: str | None) -> bytes | None:
    if path is None:
        return None
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def write(path: str | None, data: bytes) -> None:
    if path is None or sys.dont_write_bytecode:
        return
    partial = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(partial, "wb") as handle:
            handle.write(data)
        os.replace(partial, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(partial)
