"""One strict loader for every YAML input: bounded alias expansion, int64 integers, finite numbers, no
YAML 1.1/1.2 ambiguity, no unordered sets, no `${`, strict types where the schema says so; and output
that every YAML reader (and cdk8s) reads back as written."""

from __future__ import annotations

import math
import re
import resource
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from hostile import Sandbox, SandboxFactory, assert_refused, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aiplane.errors import InputError
from aiplane.synthesis.cdk8s_app import synthesize_charts
from aiplane.synthesis.positions import yaml_positions
from aiplane.yamlio import INT64_MAX, MAX_ALIAS_EXPANSION, dump_yaml, load_documents_from_text, load_yaml

FAST = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def alias_bomb(levels: int, width: int) -> str:
    lines = ["a0: &a0 [x]"]
    for level in range(1, levels + 1):
        refs = ", ".join([f"*a{level - 1}"] * width)
        lines.append(f"a{level}: &a{level} [{refs}]")
    return "\n".join(lines) + "\n"


BOMBS = st.tuples(st.integers(3, 12), st.integers(4, 12)).filter(
    lambda lw: lw[1] ** lw[0] > 2 * MAX_ALIAS_EXPANSION
)


@FAST
@given(bomb=BOMBS)
def test_an_alias_bomb_is_refused_by_the_loader_and_never_expanded(bomb: tuple[int, int]) -> None:
    text = alias_bomb(*bomb)
    with pytest.raises(InputError) as refused:
        load_yaml(text, "bomb.yaml")
    [problem] = refused.value.problems
    assert problem.line is not None and "aliases expand" in problem.message
    with pytest.raises(InputError):
        load_documents_from_text(text, "bomb.yaml")
    assert yaml_positions(text) == {}  # error location composes through the same bound


@FAST
@given(width=st.integers(1, 5), uses=st.integers(1, 20))
def test_ordinary_anchors_and_merge_keys_keep_working(width: int, uses: int) -> None:
    base = ", ".join(f"k{i}: {i}" for i in range(width))
    text = f"base: &base {{{base}}}\nitems:\n" + "".join(
        f"  - {{<<: *base, name: n{u}}}\n" for u in range(uses)
    )
    data = load_yaml(text, "ok.yaml")
    assert len(data["items"]) == uses and data["items"][-1]["k0"] == 0


def test_a_recursive_alias_is_refused() -> None:
    with pytest.raises(InputError, match="refers to the value that contains it"):
        load_yaml("a: &a [1, *a]\n", "loop.yaml")


def test_the_alias_bomb_stays_within_a_memory_limit_in_synth_and_validate(sandboxes: SandboxFactory) -> None:
    """Under a 2 GiB address-space limit (the unbounded expansion took over 6 GiB), synth and validate
    refuse a 9-level bomb with exit 2 and one located line."""
    sandbox = sandboxes()
    env = sandbox.project / "environments" / "dev.yaml"
    env.write_text(env.read_text() + "\n" + alias_bomb(9, 9).replace("a", "z"))
    manifest = sandbox.folder / "bomb.yaml"
    manifest.write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"
        + "data:\n"
        + textwrap.indent(alias_bomb(9, 9), "  ")
    )
    limit = 2 * 1024**3
    script = (
        f"import resource, sys; resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit})); "
        "from aiplane.cli import main; sys.argv = ['aiplane'] + sys.argv[1:]; main()"
    )
    for args in (["synth"], ["validate", str(manifest)]):
        result = subprocess.run(
            [sys.executable, "-c", script, *args],
            cwd=sandbox.project,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr and "MemoryError" not in result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and re.search(r"\.yaml:\d+:\d+: YAML error: .*aliases expand", lines[0]), lines
    assert resource.getrlimit(resource.RLIMIT_AS)[0] != limit  # the limit applied only to the children


def _env_with(sandbox: Sandbox, old: str, new: str, env: str = "dev") -> Path:
    path = sandbox.project / "environments" / f"{env}.yaml"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))
    return path


def _refused_at(sandbox: Sandbox, field: str | None = None) -> str:
    before = sandbox.snapshot()
    message = assert_refused(run_cli(sandbox.project, "synth"), sandbox, before)
    assert re.match(r"environments/dev\.yaml:\d+:\d+: ", message), message
    if field:
        assert f": {field}: " in message, message
    return message


@FAST
@given(value=st.one_of(st.integers(min_value=INT64_MAX + 1), st.integers(max_value=-INT64_MAX - 2)))
def test_integers_beyond_int64_are_refused(sandboxes: SandboxFactory, value: int) -> None:
    sandbox = sandboxes()
    _env_with(sandbox, "maxSize: 4", f"maxSize: {value}")
    assert "64 bits" in _refused_at(sandbox)


@FAST
@given(
    written=st.one_of(
        st.integers(0, 4095).map(lambda n: f"0o{n:o}"),
        st.integers(1, 4095).map(lambda n: f"0{n:o}"),
        st.integers(0, 4095).map(lambda n: f"0x{n:x}"),
        st.integers(1000, 99999).map(lambda n: f"{n:_}"),
    )
)
def test_integers_that_yaml_readers_disagree_on_are_refused(sandboxes: SandboxFactory, written: str) -> None:
    """`017` is 15 for YAML 1.1 readers and 17 for YAML 1.2; `0o17` is a string in 1.1 and 15 in 1.2."""
    sandbox = sandboxes()
    _env_with(sandbox, "maxSize: 4", f"maxSize: {written}")
    _refused_at(sandbox)


@FAST
@given(
    written=st.sampled_from(
        [".inf", "-.inf", ".Inf", ".NaN", ".nan", "'nan'", "'inf'", '"Infinity"', "1e999", "true", "'10'"]
    )
)
def test_budget_per_hour_must_be_a_finite_number(sandboxes: SandboxFactory, written: str) -> None:
    sandbox = sandboxes()
    _env_with(sandbox, "budgetPerHour: 10", f"budgetPerHour: {written}")
    _refused_at(sandbox)


@FAST
@given(written=st.sampled_from(["true", "false", "'4'", '"4"', "4.0", "4.5", "[4]", "{a: 4}"]))
def test_integer_fields_take_integers_only(sandboxes: SandboxFactory, written: str) -> None:
    sandbox = sandboxes()
    _env_with(sandbox, "maxSize: 4", f"maxSize: {written}")
    _refused_at(sandbox, "nodePools[0].scaling.maxSize")


@FAST
@given(written=st.sampled_from(["strict", "1", "[0.1]", "true", "'0.1'"]))
def test_ethics_thresholds_of_the_wrong_type_are_an_error_not_the_defaults(
    sandboxes: SandboxFactory, written: str
) -> None:
    sandbox = sandboxes()
    _env_with(sandbox, "      action: alert\n", f"      action: alert\n      thresholds: {written}\n")
    _refused_at(sandbox, "endpoints[0].ethicsMonitor.thresholds")


@FAST
@given(word=st.sampled_from(["yes", "no", "on", "off", "Yes", "NO", "On", "OFF", "y", "n"]))
def test_yaml_1_1_booleans_are_refused_where_a_boolean_is_written(
    sandboxes: SandboxFactory, word: str
) -> None:
    sandbox = sandboxes()
    _env_with(sandbox, "spotEligible: true", f"spotEligible: {word}")
    _refused_at(sandbox)


@FAST
@given(
    before=st.text(alphabet="abcXYZ/_-:.", max_size=6),
    after=st.text(alphabet="abcXYZ/_-:.}", max_size=6),
    where=st.sampled_from(["costCenter: ml-research", "owner: ml-platform", "clusterName: ai-dev"]),
)
def test_a_flux_substitution_marker_is_refused_where_it_is_written(
    sandboxes: SandboxFactory, before: str, after: str, where: str
) -> None:
    sandbox = sandboxes()
    key = where.split(":")[0]
    _env_with(sandbox, where, f"{key}: '{before}${{{after}'")
    assert "`${`" in _refused_at(sandbox)


@pytest.mark.parametrize("escaped", [r"\x24{X}", r"\u0024{X}", r"$\x7bX}", "$\\\n  {X}"])
def test_a_flux_substitution_marker_made_by_an_escape_is_refused_too(sandboxes: SandboxFactory, escaped: str) -> None:
    # `${` does not appear in the text, but the double-quoted string holds it once read.
    sandbox = sandboxes()
    _env_with(sandbox, "owner: ml-platform", f'owner: "ml{escaped}"')
    assert "`${`" in _refused_at(sandbox)


def test_an_unordered_set_is_refused(sandboxes: SandboxFactory) -> None:
    sandbox = sandboxes()
    _env_with(sandbox, "allowedTiers: [experimental, batch]", "allowedTiers: !!set {experimental, batch}")
    assert "!!set" in _refused_at(sandbox)


def test_a_duplicate_key_is_refused(sandboxes: SandboxFactory) -> None:
    sandbox = sandboxes()
    _env_with(sandbox, "clusterName: ai-dev", "clusterName: ai-dev\nclusterName: ai-dev2")
    assert "duplicate key 'clusterName'" in _refused_at(sandbox)


# Every string a YAML 1.2 core-schema reader (go-yaml v3, kyaml: Flux) would read as something else.
YAML12_NON_STRING = re.compile(
    r"null|Null|NULL|~|true|True|TRUE|false|False|FALSE|[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+"
    r"|[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.nan|\.NaN|\.NAN"
)
SCALARS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        ["y", "n", "Y", "N", "yes", "off", "1e3", "0o17", "017", "0x1F", "1_000", "1:30", ".5", "+.inf"]
    ),
    st.from_regex(YAML12_NON_STRING, fullmatch=True),
    st.text(alphabet="\u2028\u2029\x85ab ", max_size=6),
)


@settings(max_examples=200, deadline=None)
@given(value=SCALARS)
def test_strings_are_written_so_every_yaml_reader_reads_them_back_as_strings(value: str) -> None:
    text = dump_yaml({"k": value})
    assert yaml.safe_load(text) == {"k": value}
    rendered = text[len("k: ") :].rstrip("\n")
    if YAML12_NON_STRING.fullmatch(value):
        assert rendered[0] in "'\"", text


@settings(max_examples=10, deadline=None)
@given(values=st.lists(SCALARS.filter(lambda s: "\n" not in s and "${" not in s), min_size=1, max_size=6))
def test_cdk8s_returns_ordinary_strings_unchanged(values: list[str]) -> None:
    """`y`, `n`, `1e3` or U+2028 in labels or images once made cdk8s change the object (SynthesisMismatch)."""
    labels = {f"l{i}": v for i, v in enumerate(values)}
    obj = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "x", "labels": labels},
        "data": {f"d{i}": v for i, v in enumerate(values)},
    }
    [packaged] = synthesize_charts({"c": [obj]})["c"]
    assert packaged.obj["metadata"]["labels"] == labels


def test_loading_is_deterministic_for_sets_of_numbers() -> None:
    assert not math.isnan(load_yaml("a: 1.5\n", "x.yaml")["a"])
