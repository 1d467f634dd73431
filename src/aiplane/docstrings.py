"""Attribute docstrings as field descriptions, with one parse per module.

pydantic's `use_attribute_docstrings` finds each class's source with `inspect` (tokenizing the module up to
the class, per class) and parses it: about a third of the time it takes to build the spec models, which
every command pays at import. `AttributeDocstrings` gives the same descriptions — the string literal right
after an annotated attribute, `inspect.cleandoc`-ed, where the field sets no description itself — from one
`ast` parse of each module, shared by all its classes. The XRDs and the environment schema, which print the
descriptions, are compared byte for byte by `aiplane synth --check`.

Parsing the modules of a command's models still took 14 ms of every run (`aiplane cost` is 0.23 s), so the
result is kept beside the module's bytecode (aiplane.pycache), stamped with the source's modification time
and size (Python's own default invalidation for bytecode), and ignored when it does not match.
"""

from __future__ import annotations

import ast
import functools
import inspect
import itertools
import json
import os
import sys
from typing import Any

from pydantic import Field
from pydantic.fields import FieldInfo

from aiplane import pycache

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
    cache = pycache.cache_path(filename, "docstrings.json")
    cached = _from_cache(pycache.read(cache), stamp)
    if cached is not None:
        return cached
    found = _parse_docstrings(filename)
    pycache.write(cache, json.dumps({"stamp": stamp, "classes": found}, sort_keys=True).encode())
    return found


def _from_cache(data: bytes | None, stamp: list[int]) -> dict[str, dict[str, str]] | None:
    if data is None:
        return None
    try:
        kept = json.loads(data)
    except ValueError:
        return None
    if not isinstance(kept, dict) or kept.get("stamp") != stamp:
        return None
    classes = kept.get("classes")
    if not isinstance(classes, dict) or not all(
        isinstance(docs, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in docs.items())
        for docs in classes.values()
    ):
        return None
    return classes


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
