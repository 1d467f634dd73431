"""`aiplane validate` refuses objects it cannot apply and CRDs it cannot understand; unreadable or
absurd input files are one line and exit 2, never a traceback."""

from __future__ import annotations

import re

from hostile import SandboxFactory, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aiplane.yamlio import dump_yaml

FAST = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

INT64 = st.integers(-(2**63), 2**63 - 1)  # larger ones are refused by the reader already (exit 2)
GARBAGE_VERSION = st.one_of(
    INT64,
    st.text(max_size=8),
    st.none(),
    st.lists(INT64, max_size=2),
    st.fixed_dictionaries({"served": st.booleans()}),
    st.fixed_dictionaries({"name": INT64, "served": st.just(True)}),
)


@FAST
@given(versions=st.lists(GARBAGE_VERSION, min_size=1, max_size=4))
def test_a_crd_with_garbage_versions_is_refused(sandboxes: SandboxFactory, versions: list[object]) -> None:
    sandbox = sandboxes()
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.io"},
        "spec": {
            "group": "example.io",
            "names": {"kind": "Widget", "plural": "widgets"},
            "scope": "Namespaced",
            "versions": versions,
        },
    }
    path = sandbox.folder / "crd.yaml"
    path.write_text(dump_yaml(crd))
    outcome = run_cli(sandbox.project, "validate", str(path))
    assert not outcome.traceback, outcome.stderr
    assert outcome.code == 1, outcome.stdout
    assert "cannot register its kind" in outcome.stdout


@FAST
@given(
    kind=st.sampled_from(
        [("v1", "ConfigMap"), ("v1", "Secret"), ("v1", "ServiceAccount"), ("v1", "Namespace")]
    ),
    metadata=st.sampled_from([None, {}, {"name": ""}, {"labels": {"a": "b"}}, {"generateName": "x-"}]),
)
def test_an_object_without_a_name_is_refused(
    sandboxes: SandboxFactory, kind: tuple[str, str], metadata: dict[str, object] | None
) -> None:
    sandbox = sandboxes()
    obj: dict[str, object] = {"apiVersion": kind[0], "kind": kind[1]}
    if metadata is not None:
        obj["metadata"] = metadata
    path = sandbox.folder / "obj.yaml"
    path.write_text(dump_yaml(obj))
    outcome = run_cli(sandbox.project, "validate", str(path))
    assert not outcome.traceback, outcome.stderr
    assert outcome.code == 1
    assert "metadata.name is required" in outcome.stdout


@FAST
@given(depth=st.integers(1_000, 50_000), kind=st.sampled_from(["[", '{"a":']))
def test_a_deeply_nested_policy_config_is_one_line(sandboxes: SandboxFactory, depth: int, kind: str) -> None:
    sandbox = sandboxes()
    closing = "]" if kind == "[" else "}"
    config = sandbox.folder / "config.json"
    config.write_text(kind * depth + "1" + closing * depth)
    outcome = run_cli(sandbox.project, "check", "--config", str(config))
    assert not outcome.traceback, outcome.stderr
    assert outcome.code == 2
    [line] = outcome.stderr.strip().splitlines()
    # The file, then (where the reader knows it) the line and column, then the message.
    assert re.match(rf"{re.escape(str(config))}(:\d+:\d+)?: ", line), line


@FAST
@given(junk=st.binary(min_size=1, max_size=16).map(lambda b: b"\xff\xfe" + b))
def test_a_non_utf8_policy_config_or_manifest_is_one_line(sandboxes: SandboxFactory, junk: bytes) -> None:
    sandbox = sandboxes()
    config = sandbox.folder / "config.json"
    config.write_bytes(b'{"all": "' + junk + b'"}')
    manifest = sandbox.folder / "m.yaml"
    manifest.write_bytes(b"kind: " + junk + b"\n")
    for args in (["check", "--config", str(config)], ["validate", str(manifest)]):
        outcome = run_cli(sandbox.project, *args)
        assert not outcome.traceback, outcome.stderr
        assert outcome.code == 2, (args, outcome.stdout, outcome.stderr)
        [line] = outcome.stderr.strip().splitlines()
        assert line.startswith(args[-1] + ": "), line


def test_an_unusable_jsii_cache_does_not_hang_or_crash_synth(sandboxes: SandboxFactory) -> None:
    from hostile import run_subprocess

    sandbox = sandboxes()
    blocker = sandbox.folder / "not-a-folder"
    blocker.write_text("")
    stale = sandbox.project / "manifests" / "platform" / "kustomization.yaml"
    stale.write_text(stale.read_text() + "# stale\n")
    outcome = run_subprocess(sandbox.project, "synth", JSII_RUNTIME_PACKAGE_CACHE_ROOT=str(blocker / "cache"))
    assert outcome.code == 0, outcome.stderr
    assert re.match(r"wrote manifests/: 0 added, 1 changed", outcome.stdout)


@FAST
@given(value=st.one_of(st.integers(min_value=2**63), st.integers(max_value=-(2**63) - 1)))
def test_validate_refuses_integers_beyond_int64_where_they_are_written(
    sandboxes: SandboxFactory, value: int
) -> None:
    sandbox = sandboxes()
    path = sandbox.folder / "cm.yaml"
    path.write_text(f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  generation: {value}\n")
    outcome = run_cli(sandbox.project, "validate", str(path))
    assert not outcome.traceback and outcome.code == 2
    [line] = outcome.stderr.strip().splitlines()
    assert re.match(
        rf"{re.escape(str(path))}:5:15: YAML error: integer {value} does not fit in 64 bits", line
    ), line
