"""Attribute docstrings as field descriptions, with one parse per module.

pydantic's `use_attribute_docstrings` finds each class's source with `inspect` (tokenizing the module up to
the class, per class) and parses it: about a third of the time it takes to build the spec models, which
every command pays at import. `AttributeDocstrings` gives the same descriptions — the string literal right
after an annotated attribute, `inspect.cleandoc`-ed, where the field sets no description itself — from one
`ast` parse of each module, shared by all its classes. The XRDs and the environment schema, which print the
descriptions, are compared byte for byte by `aiplane synth --check`.

Parsing the modules of a command's models still took 14 ms of every run (`aiplane cost` is 0.23 s), so the
result is kept beside the module's bytecode, as Python keeps the bytecode itself: in `__pycache__`, stamped
with the source's modification time and size (Python's own default invalidation), written only where Python
would write bytecode (not with PYTHONDONTWRITEBYTECODE) and ignored when it does not match or cannot be read.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import importlib.util
import inspect
import itertools
import json
import os
import sys
from typing import Any

from pydantic import Field
from pydantic.fields import FieldInfo

_NO_VALUE: Any = object()


_CACHE_FORMAT = 1


@functools.cache
def _module_docstrings(filename: str) -> dict[str, dict[str, str]]:
    """Class qualified name -> {attribute: docstring} for every class of a module file."""
    try:
        source = os.stat(filename)
    except OSError:
        return {}
    stamp = [_CACHE_FORMAT, source.st_mtime_ns, source.st_size]
    cache = _cache_file(filename)
    cached = _read_cache(cache, stamp) if cache else None
    if cached is not None:
        return cached
    found = _parse_docstrings(filename)
    if cache and not sys.dont_write_bytecode:
        _write_cache(cache, {"stamp": stamp, "classes": found})
    return found


def _cache_file(filename: str) -> str | None:
    """Where the module's docstrings are kept: beside its bytecode (`__pycache__/<name>.<tag>.docstrings.json`)."""
    try:
        return importlib.util.cache_from_source(filename).removesuffix(".pyc") + ".docstrings.json"
    except (NotImplementedError, ValueError):  # no cache tag (sys.implementation.cache_tag is None)
        return None


def _read_cache(path: str, stamp: list[int]) -> dict[str, dict[str, str]] | None:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("stamp") != stamp:
        return None
    classes = data.get("classes")
    if not isinstance(classes, dict) or not all(
        isinstance(docs, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in docs.items())
        for docs in classes.values()
    ):
        return None
    return classes


def _write_cache(path: str, data: dict[str, Any]) -> None:
    """Atomically (a reader sees the old file or the new one), or not at all (a read-only install)."""
    partial = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(partial, "w", encoding="utf-8") as handle:
            json.dump(data, handle, sort_keys=True)
        os.replace(partial, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(partial)


def _parse_docstrings(filename: str) -> dict[str, dict[str, str]]:
    try:
        with open(filename, encoding="utf-8") as handle:
            tree = ast.parse(handle.read(), filename)
    except (OSError, SyntaxError, UnicodeDecodeError):
        return {}
    found: dict[str, dict[str, str]] = {}

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for stmt in body:
            if isinstance(stmt, ast.ClassDef):
                qualname = f"{prefix}{stmt.name}"
                found[qualname] = _class_docstrings(stmt.body)
                visit(stmt.body, f"{qualname}.")

    visit(tree.body, "")
    return found


def _class_docstrings(body: list[ast.stmt]) -> dict[str, str]:
    docs: dict[str, str] = {}
    for stmt, following in itertools.pairwise(body):
        if (
            isinstance(stmt, ast.AnnAssign)
            and isinstance(stmt.target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            docs[stmt.target.id] = inspect.cleandoc(following.value.value)
    return docs


def attribute_docstrings(cls: type) -> dict[str, str]:
    """{attribute: docstring} of the attributes `cls` itself declares (not inherited ones)."""
    module = sys.modules.get(cls.__module__)
    filename = getattr(module, "__file__", None)
    if not filename or "<locals>" in cls.__qualname__:
        return {}
    return _module_docstrings(filename).get(cls.__qualname__, {})


class AttributeDocstrings:
    """Mix into a pydantic model base (before BaseModel): the docstring under each annotated attribute of a
    subclass becomes its field's description, unless the field states one."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Runs inside type.__new__, before pydantic collects the fields from the class attributes.
        super().__init_subclass__(**kwargs)
        annotations = inspect.get_annotations(cls)
        for name, doc in attribute_docstrings(cls).items():
            if name not in annotations:
                continue
            current = cls.__dict__.get(name, _NO_VALUE)
            if isinstance(current, FieldInfo):
                if current.description is None:
                    # A new FieldInfo, so the description counts as set when pydantic merges it with the
                    # annotation's own (Annotated[..., Field(...)]) as its docstring extraction does.
                    setattr(cls, name, FieldInfo.merge_field_infos(current, description=doc))
            elif current is _NO_VALUE:
                setattr(cls, name, Field(description=doc))
            else:
                setattr(cls, name, Field(default=current, description=doc))
