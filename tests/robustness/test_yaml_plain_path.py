"""The loader's plain path (objects built straight from libyaml's events) must read every text exactly as
the full StrictLoader does, and hand everything else to it: anchors, aliases, merge keys, tags on
collections, duplicate keys, refused scalars and syntax errors keep the full loader's values and errors."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from aiplane.errors import InputError
from aiplane.yamlio import (
    _full_documents_from_text,
    _full_safe_load,
    _NeedsFullLoader,
    _plain_documents,
    dump_yaml,
    load_documents_from_text,
    safe_load,
)

ROOT = Path(__file__).resolve().parents[2]


def _corpus() -> list[Path]:
    folders = ["environments", "manifests", "tests/policy/fixtures", "src/aiplane/data"]
    files = [p for folder in folders for p in sorted((ROOT / folder).rglob("*.yaml"))]
    assert len(files) > 100
    return files


def test_every_yaml_file_of_the_repository_reads_the_same_on_both_paths() -> None:
    plain = 0
    for path in _corpus():
        text = path.read_text(encoding="utf-8")
        full = [(d.index, d.line, d.obj) for d in _full_documents_from_text(text, str(path))]
        ours = [(d.index, d.line, d.obj) for d in load_documents_from_text(text, str(path))]
        assert ours == full, path
        try:
            _plain_documents(text)
            plain += 1
        except _NeedsFullLoader:
            pass
    # The path is only worth having if it serves the files aiplane reads.
    assert plain >= 0.9 * len(_corpus())


PLAIN_TEXTS = [
    "",
    "---\n",
    "a: 1\n",
    "---\na: 1\n---\n---\nb: [1, 2.5, true, null, ~, '', \"x\"]\n",
    "k: 2026-12-31\n",  # a date: the full constructor's own timestamp
    "k: 2026-12-31T10:00:00Z\n",
    "2: two\ntrue: yes-string\nnull: n\n",
    "s: !!str 12\ni: !!int '12'\n",
    "nested: {a: [ {b: c}, [d, e] ], f: {}}\nempty: []\n",
    "just a scalar\n",
    "- 1\n- -2\n- +3\n- 0.5\n- -1e3\n- .5\n",
    "text: |\n  line one\n  line two\nfolded: >\n  a\n  b\n",
    "quoted: '017'\nunquoted_word: off-peak\n",
]


@pytest.mark.parametrize("text", PLAIN_TEXTS)
def test_plain_texts_take_the_plain_path_and_read_as_the_full_loader_reads_them(text: str) -> None:
    documents = _plain_documents(text)
    full = _full_documents_from_text(text, "t.yaml")
    assert [(d.index, d.line, d.obj) for d in full] == [
        (index, line, obj) for index, (line, obj) in enumerate(documents) if obj is not None
    ]


def test_a_date_is_a_date_on_the_plain_path() -> None:
    assert _plain_documents("expires: 2026-12-31\n") == [(1, {"expires": datetime.date(2026, 12, 31)})]


HANDED_OVER = {
    "anchor and alias": "a: &x 1\nb: *x\n",
    "merge key": "base: &b {k: 1}\nitem: {<<: *b, n: 2}\n",
    "tag on a collection": "a: !!map {k: 1}\n",
    "set": "a: !!set {x, y}\n",
    "unknown tag": "a: !Ref thing\n",
    "duplicate key": "a: 1\nb: 2\na: 3\n",
    "collection as a key": "? [a, b]\n: 1\n",
    "YAML 1.1 octal": "a: 017\n",
    "YAML 1.1 boolean": "a: yes\n",
    "underscore number": "a: 1_000\n",
    "beyond int64": "a: 9223372036854775808\n",
    "infinity": "a: .inf\n",
    "binary": "a: !!binary aGk=\n",
    "syntax error": "a: [1, 2\n",
    "tab indentation": "a:\n\t- 1\n",
    "value tag": "a: =\n",
}


@pytest.mark.parametrize("name", sorted(HANDED_OVER))
def test_everything_else_goes_to_the_full_loader_with_its_own_result(name: str) -> None:
    text = HANDED_OVER[name]
    with pytest.raises(_NeedsFullLoader):
        _plain_documents(text)
    assert _outcome(lambda: load_documents_from_text(text, "t.yaml")) == _outcome(
        lambda: _full_documents_from_text(text, "t.yaml")
    )
    assert _outcome(lambda: safe_load(text)) == _outcome(lambda: _full_safe_load(text))


def test_a_second_document_where_one_is_expected_is_the_full_loaders_error() -> None:
    text = "a: 1\n---\nb: 2\n"
    with pytest.raises(yaml.YAMLError) as full:
        _full_safe_load(text)
    with pytest.raises(yaml.YAMLError) as ours:
        safe_load(text)
    assert str(ours.value) == str(full.value)


def _outcome(read: Any) -> Any:
    try:
        value = read()
    except InputError as err:
        return ("input error", [str(p) for p in err.problems])
    except yaml.YAMLError as err:
        return ("yaml error", str(err))
    return ("value", [(d.index, d.line, d.obj) for d in value] if isinstance(value, list) else value)


_KEYS = st.text(alphabet="abcdefgh-_.:/ 0123456789yesnotruefal~", min_size=0, max_size=8)
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | _KEYS
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=4),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(value=_VALUES)
def test_what_aiplane_writes_reads_back_the_same_on_both_paths(value: Any) -> None:
    text = dump_yaml(value)
    assert safe_load(text) == _full_safe_load(text) == value


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet="ab:-[]{}, \n'\"#&*!|>?%@`017.etruyosn~=<", max_size=40))
def test_any_short_text_reads_the_same_on_both_paths(text: str) -> None:
    assert _outcome(lambda: load_documents_from_text(text, "t.yaml")) == _outcome(
        lambda: _full_documents_from_text(text, "t.yaml")
    )
