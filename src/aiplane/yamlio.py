"""Reading and writing Kubernetes YAML: fast multi-document loading with positions, canonical dumping."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from aiplane.errors import InputError, Problem

_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class StrictLoader(_BaseLoader):  # type: ignore[misc]
    """libyaml's safe loader that refuses duplicate mapping keys. YAML libraries keep the last value
    silently; for a GitOps source that can mean a whole `nodePools:` block vanishing and Flux pruning
    its resources, and `kubectl apply --validate=strict` refuses duplicates too."""

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
            except TypeError:  # an unhashable key: the base constructor reports it
                break
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"duplicate key {key!r} (first at line {seen[key].line + 1})",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)


_Loader: Any = StrictLoader


def safe_load(text: str) -> Any:
    """One YAML document, with duplicate keys refused (see StrictLoader)."""
    return yaml.load(text, Loader=StrictLoader)


YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Document:
    """One YAML document of a file: where it came from and the object it holds."""

    path: str
    index: int
    line: int
    obj: Any


def _problem_from_yaml_error(path: str, err: yaml.YAMLError) -> Problem:
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    problem = getattr(err, "problem", None) or str(err)
    if mark is None:
        return Problem(path, f"YAML error: {problem}")
    return Problem(path, f"YAML error: {problem}", line=mark.line + 1, column=mark.column + 1)


def load_documents_from_text(text: str, path: str = "<stdin>") -> list[Document]:
    """Parse every document of a multi-document YAML text; empty documents are skipped."""
    docs: list[Document] = []
    try:
        loader = _Loader(text)
        try:
            index = 0
            while loader.check_node():
                node = loader.get_node()
                if node is None:
                    continue
                obj = loader.construct_document(node)
                if obj is not None:
                    docs.append(Document(path, index, node.start_mark.line + 1, obj))
                index += 1
        finally:
            loader.dispose()
    except yaml.YAMLError as err:
        raise InputError([_problem_from_yaml_error(path, err)]) from None
    return docs


def load_documents(path: Path | str) -> list[Document]:
    """Read one YAML file; unreadable files and syntax errors become an InputError."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise InputError.single(str(p), f"cannot read: {err}") from None
    return load_documents_from_text(text, str(p))


def iter_yaml_files(paths: Iterable[Path | str]) -> Iterator[Path]:
    """Expand files and folders (recursively, sorted) into YAML files; a missing path is an input error."""
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            yield from sorted(f for f in p.rglob("*") if f.suffix in YAML_SUFFIXES and f.is_file())
        elif p.is_file() or str(p) == "-":
            yield p
        else:
            raise InputError.single(str(p), "no such file or folder")


def load_paths(paths: Iterable[Path | str]) -> list[Document]:
    """Load every document under the given files and folders, collecting all YAML errors at once."""
    docs: list[Document] = []
    problems: list[Problem] = []
    for f in iter_yaml_files(paths):
        try:
            docs.extend(load_documents(f))
        except InputError as err:
            problems.extend(err.problems)
    if problems:
        raise InputError(problems)
    return docs


class _CanonicalDumper(_Dumper):  # type: ignore[misc]
    """Block style, no aliases: output that diffs cleanly and reads like hand-written Kubernetes YAML."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str_presenter(dumper: Any, data: str) -> Any:
    # Multi-line strings (policies, scripts) as literal blocks, so reviews see real lines.
    if "\n" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


_CanonicalDumper.add_representer(str, _str_presenter)


def dump_yaml(obj: Any) -> str:
    """One object as canonical YAML (key order kept as built, so apiVersion/kind/metadata lead)."""
    return str(
        yaml.dump(
            obj,
            Dumper=_CanonicalDumper,
            sort_keys=False,
            default_flow_style=False,
            allow_unicode=True,
            width=4096,
        )
    )


def dump_all(objs: Iterable[Any]) -> str:
    return "---\n".join(dump_yaml(o) for o in objs)
