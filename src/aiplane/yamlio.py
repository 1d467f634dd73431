"""Reading and writing Kubernetes YAML: fast multi-document loading with positions, canonical dumping."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import yaml

from aiplane.errors import InputError, Problem

_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


# Aliases may make a document bigger than its text; beyond this many nodes of expansion (the nodes the
# aliases add, counting each time an alias is used) a document is refused: a 430-byte "billion laughs"
# otherwise expands to billions of values in everything that walks it (error location, validation).
MAX_ALIAS_EXPANSION = 100_000
# Integers must fit Kubernetes' int64 (the apiserver and Go readers refuse anything larger).
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

_DECIMAL_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)")
_PLAIN_FLOAT = re.compile(r"[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?")
_BOOLS = {"true": True, "false": False}
_UNSUPPORTED_TAGS = {
    "tag:yaml.org,2002:set": "a YAML !!set has no order (output would depend on PYTHONHASHSEED); write a list",
    "tag:yaml.org,2002:omap": "YAML !!omap is not supported; write a mapping",
    "tag:yaml.org,2002:pairs": "YAML !!pairs is not supported; write a mapping or a list",
    "tag:yaml.org,2002:binary": "YAML !!binary is not supported; write a string",
}


class _Refused(Exception):
    """A scalar the strict rules refuse; the message says why (StrictLoader adds the position)."""


def _strict_int(text: str) -> int:
    if not _DECIMAL_INT.fullmatch(text):
        raise _Refused(
            f"integer {text!r} is read differently by YAML 1.1 and 1.2 readers; write it in plain "
            "decimal, or quote it if it is a string"
        )
    value = int(text)
    if not INT64_MIN <= value <= INT64_MAX:
        raise _Refused(f"integer {text} does not fit in 64 bits (Kubernetes refuses it)")
    return value


def _strict_float(text: str) -> float:
    if not _PLAIN_FLOAT.fullmatch(text):
        raise _Refused(f"number {text!r} must be finite and written in plain decimal (no .inf, .nan, _ or :)")
    return float(text)


def _strict_bool(text: str) -> bool:
    if text not in _BOOLS:
        raise _Refused(
            f"{text!r} is a boolean in YAML 1.1 but a string in YAML 1.2; write true or false, "
            "or quote it if it is a string"
        )
    return _BOOLS[text]


# The value of a scalar the resolver tagged as a number or boolean, by the strict rules (both loaders).
_STRICT_SCALARS: dict[str, Any] = {
    "tag:yaml.org,2002:int": _strict_int,
    "tag:yaml.org,2002:float": _strict_float,
    "tag:yaml.org,2002:bool": _strict_bool,
}


def _refuse(node: Any, message: str) -> NoReturn:
    raise yaml.constructor.ConstructorError(None, None, message, node.start_mark)


class StrictLoader(_BaseLoader):  # type: ignore[misc]
    """libyaml's safe loader, stricter where YAML readers disagree or a value could surprise:

    - duplicate mapping keys are refused (YAML libraries keep the last value silently; for a GitOps
      source that can mean a whole `nodePools:` block vanishing and Flux pruning its resources);
    - integers only in plain decimal within int64 (`017` is 15 in YAML 1.1 and 17 in YAML 1.2; `0o17`,
      `0x1f`, `1_000` and `1:30` differ between readers too); floats finite (no `.inf`, `.nan`);
    - booleans only `true`/`false` (YAML 1.1's `yes`, `no`, `on`, `off` are strings in YAML 1.2);
    - `!!set`, `!!omap`, `!!pairs`, `!!binary` refused.
    """

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *base`: explicit keys override merged ones
                continue
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

    def construct_yaml_int(self, node: Any) -> int:
        return int(self._strict_scalar(node))

    def construct_yaml_float(self, node: Any) -> float:
        return float(self._strict_scalar(node))

    def construct_yaml_bool(self, node: Any) -> bool:
        return bool(self._strict_scalar(node))

    def _strict_scalar(self, node: Any) -> Any:
        try:
            return _STRICT_SCALARS[node.tag](str(self.construct_scalar(node)))
        except _Refused as refused:
            _refuse(node, str(refused))

    def construct_unsupported(self, node: Any) -> NoReturn:
        _refuse(node, _UNSUPPORTED_TAGS[node.tag])


StrictLoader.add_constructor("tag:yaml.org,2002:int", StrictLoader.construct_yaml_int)
StrictLoader.add_constructor("tag:yaml.org,2002:float", StrictLoader.construct_yaml_float)
StrictLoader.add_constructor("tag:yaml.org,2002:bool", StrictLoader.construct_yaml_bool)
for _tag in _UNSUPPORTED_TAGS:
    StrictLoader.add_constructor(_tag, StrictLoader.construct_unsupported)


def check_expansion(node: Any) -> None:
    """Refuse a composed document whose aliases expand it by more than MAX_ALIAS_EXPANSION nodes, or
    that refers to itself (an anchor used inside its own value). Counted on the node graph, where each
    anchored node is shared, so the check costs one pass over the distinct nodes."""
    expanded: dict[int, int] = {}
    distinct = 0
    # Iterative post-order walk: documents may nest as deep as libyaml allows.
    stack: list[tuple[Any, bool]] = [(node, False)]
    active: set[int] = set()
    while stack:
        current, done = stack.pop()
        key = id(current)
        if done:
            active.discard(key)
            children = _children(current)
            expanded[key] = 1 + sum(expanded[id(c)] for c in children)
            if expanded[key] - distinct > MAX_ALIAS_EXPANSION:
                _refuse(
                    current,
                    f"YAML aliases expand this document beyond {MAX_ALIAS_EXPANSION} extra values; "
                    "write the values out or use fewer aliases",
                )
            continue
        if key in expanded:
            continue
        if key in active:
            _refuse(current, "a YAML alias refers to the value that contains it (a recursive document)")
        active.add(key)
        distinct += 1
        stack.append((current, True))
        for child in _children(current):
            if id(child) in active:
                _refuse(child, "a YAML alias refers to the value that contains it (a recursive document)")
            if id(child) not in expanded:
                stack.append((child, False))


def _children(node: Any) -> list[Any]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


_Loader: Any = StrictLoader


def compose_checked(text: str) -> Any:
    """The node graph of one YAML document, with its alias expansion checked (see check_expansion)."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    finally:
        loader.dispose()
    if node is not None and "&" in text:  # no anchor, no alias: nothing can expand
        check_expansion(node)
    return node


def safe_load(text: str) -> Any:
    """One YAML document through StrictLoader, with its alias expansion checked (yaml.YAMLError if not)."""
    try:
        documents = _plain_documents(text)
    except _NeedsFullLoader:
        return _full_safe_load(text)
    if len(documents) > 1:  # the full loader says where the second document starts
        return _full_safe_load(text)
    return documents[0][1] if documents else None


def _full_safe_load(text: str) -> Any:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if "&" in text:  # without an anchor (`&name`) there is no alias, so nothing can expand
            check_expansion(node)
        return loader.construct_document(node)
    except RecursionError:
        raise yaml.YAMLError("the document is nested too deeply") from None
    finally:
        loader.dispose()


# The plain path. Composing PyYAML's node graph (a Python object per node with two marks each, the
# resolver called per scalar) and walking it with the generic constructor cost 7× reading libyaml's events
# directly, and the graph was most of a large environment's peak memory. Almost every file aiplane reads
# is plain: mappings, lists and scalars, no anchors, aliases, tags on collections or merge keys. Those are
# built here straight from the events with the same resolver and the same strict scalar constructors;
# anything else — and any error at all — raises _NeedsFullLoader, and the document is read again by the
# full StrictLoader above, which decides (and words every error) exactly as it always has.

_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"  # a date (a waiver's `expires`): built by the full constructor
_NO_KEY: Any = object()


class _NeedsFullLoader(Exception):
    """The text uses something the plain path leaves to StrictLoader (or is not valid YAML)."""


def _plain_documents(text: str) -> list[tuple[int, Any]]:
    """(line of the root value, value) of each document of a plain text (see above)."""
    loader = _Loader(text)
    try:
        return _build_from_events(loader)
    except (yaml.YAMLError, _Refused, RecursionError, ValueError, TypeError) as err:
        raise _NeedsFullLoader from err
    finally:
        loader.dispose()


def _build_from_events(loader: Any) -> list[tuple[int, Any]]:
    scalar, alias, stream_end = yaml.ScalarEvent, yaml.AliasEvent, yaml.StreamEndEvent
    mapping_start, mapping_end = yaml.MappingStartEvent, yaml.MappingEndEvent
    sequence_start, sequence_end = yaml.SequenceStartEvent, yaml.SequenceEndEvent
    get_event = loader.get_event
    resolved: dict[str, str] = {}  # plain scalar text -> its tag, as the resolver decides
    strings: dict[str, str] = {}
    judged: dict[tuple[str, str], Any] = {}  # (tag, text) -> value of a number or boolean
    documents: list[tuple[int, Any]] = []
    stack: list[tuple[Any, Any, bool]] = []
    container: Any = None
    key: Any = _NO_KEY
    in_mapping = False
    root_line = 0
    while True:
        event = get_event()
        kind = type(event)
        if kind is scalar:
            if event.anchor is not None:
                raise _NeedsFullLoader
            tag = event.tag
            # One string object per distinct text: an environment of thousands of items repeats the same
            # keys and values thousands of times (a fifth of a 5,000-item check's memory before).
            text = strings.setdefault(event.value, event.value)
            if tag is None or tag == "!":
                if event.implicit[0]:
                    tag = resolved.get(text)
                    if tag is None:
                        tag = resolved[text] = loader.resolve(yaml.ScalarNode, text, (True, False))
                else:
                    tag = _STR
            if tag == _STR:
                value: Any = text
            elif tag == _NULL:
                value = None
            elif tag in _STRICT_SCALARS:
                # Each distinct number or boolean is judged once (a large environment repeats the same few).
                value = judged.get((tag, text), _NO_KEY)
                if value is _NO_KEY:
                    value = judged[(tag, text)] = _STRICT_SCALARS[tag](text)
            elif tag == _TIMESTAMP:
                value = loader.construct_yaml_timestamp(yaml.ScalarNode(tag, text, event.start_mark, event.end_mark))
            else:  # merge keys (`<<`), `=`, explicit or unknown tags
                raise _NeedsFullLoader
        elif kind is mapping_start or kind is sequence_start:
            if event.anchor is not None or event.tag not in (None, "!"):
                raise _NeedsFullLoader
            if container is None:
                root_line = event.start_mark.line + 1
            stack.append((container, key, in_mapping))
            in_mapping = kind is mapping_start
            container = {} if in_mapping else []
            key = _NO_KEY
            continue
        elif kind is mapping_end or kind is sequence_end:
            value = container
            container, key, in_mapping = stack.pop()
            if container is None:
                documents.append((root_line, value))
                continue
        elif kind is alias:
            raise _NeedsFullLoader
        elif kind is stream_end:
            return documents
        else:  # stream start, document start and end
            continue
        if container is None:  # a document whose root is a scalar
            documents.append((event.start_mark.line + 1, value))
        elif not in_mapping:
            container.append(value)
        elif key is _NO_KEY:
            if isinstance(value, (dict, list)):  # a collection as a key: the full loader refuses it
                raise _NeedsFullLoader
            key = value
        else:
            if key in container:  # a duplicate: the full loader names both lines
                raise _NeedsFullLoader
            container[key] = value
            key = _NO_KEY


def load_yaml(text: str, path: str) -> Any:
    """One YAML document of the file `path`; every YAML problem becomes a located InputError."""
    try:
        return safe_load(text)
    except yaml.YAMLError as err:
        raise InputError([_problem_from_yaml_error(path, err)]) from None


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
    try:
        documents = _plain_documents(text)
    except _NeedsFullLoader:
        return _full_documents_from_text(text, path)
    return [Document(path, index, line, obj) for index, (line, obj) in enumerate(documents) if obj is not None]


def _full_documents_from_text(text: str, path: str) -> list[Document]:
    docs: list[Document] = []
    anchored = "&" in text  # without an anchor (`&name`) there is no alias, so nothing can expand
    try:
        loader = _Loader(text)
        try:
            index = 0
            while loader.check_node():
                node = loader.get_node()
                if node is None:
                    continue
                if anchored:
                    check_expansion(node)
                obj = loader.construct_document(node)
                if obj is not None:
                    docs.append(Document(path, index, node.start_mark.line + 1, obj))
                index += 1
        finally:
            loader.dispose()
    except yaml.YAMLError as err:
        raise InputError([_problem_from_yaml_error(path, err)]) from None
    except RecursionError:
        raise InputError.single(path, "YAML error: the document is nested too deeply") from None
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


# Plain scalars that some YAML reader takes for a boolean, null or number: YAML 1.1 (PyYAML, go-yaml v2,
# the JavaScript `yaml` package cdk8s uses) or YAML 1.2 (go-yaml v3, kyaml, which Flux uses). Strings of
# that shape are written quoted, so every reader sees the same string.
_AMBIGUOUS_PLAIN = re.compile(
    r"""(?x)
    y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF
    |~|null|Null|NULL
    |[-+]?(\.[0-9][0-9_]*|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?
    |[-+]?0[box][0-9a-fA-F_]+
    |[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?
    |[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)
    """
)
# Characters YAML readers treat as line breaks or strip; written escaped in double quotes.
_LINE_BREAKS = ("\x85", "\u2028", "\u2029")


def _str_presenter(dumper: Any, data: str) -> Any:
    # Multi-line strings (policies, scripts) as literal blocks, so reviews see real lines.
    if "\n" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    if _AMBIGUOUS_PLAIN.fullmatch(data):
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="'")
    if any(c in data for c in _LINE_BREAKS):
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style='"')
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
