"""A missing or unreadable environment, or a setting that points synth at the wrong place, is refused
with one located line and exit 2; it never removes an environment's manifests or writes over inputs."""

from __future__ import annotations

import os
import re
from pathlib import Path

from hostile import Sandbox, SandboxFactory, assert_refused, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ENVS = st.sampled_from(["dev", "staging", "prod"])
FAST = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _case_variants(suffix: str) -> st.SearchStrategy[str]:
    letters = [st.sampled_from([c, c.upper()]) for c in suffix]
    return st.tuples(*letters).map("".join).filter(lambda s: s != suffix)


def _break(sandbox: Sandbox, env: str, how: str, detail: str) -> str:
    """Make environment `env` unreadable in one way; returns the path the message must name."""
    folder = sandbox.project / "environments"
    target = folder / f"{env}.yaml"
    if how == "broken symlink":
        target.unlink()
        target.symlink_to(sandbox.folder / "nope" / detail)
    elif how == "symlink loop":
        target.unlink()
        target.symlink_to(target.name)
    elif how == "fifo":
        target.unlink()
        os.mkfifo(target)
    elif how == "directory":
        target.unlink()
        target.mkdir()
    elif how == "symlink outside":
        target.unlink()
        target.symlink_to(sandbox.outside / "secret.yaml")
    elif how == "upper-case suffix":
        target.rename(folder / f"{env}.{detail}")
        return f"environments/{env}.{detail}"
    elif how == "yaml and yml":
        (folder / f"{env}.yml").write_bytes(target.read_bytes())
        return f"environments/{env}.yml"
    return f"environments/{env}.yaml"


@FAST
@given(
    env=ENVS,
    how=st.sampled_from(
        [
            "broken symlink",
            "symlink loop",
            "fifo",
            "directory",
            "symlink outside",
            "upper-case suffix",
            "yaml and yml",
        ]
    ),
    detail=st.one_of(_case_variants("yaml"), _case_variants("yml")),
)
def test_an_unreadable_environment_file_is_refused_and_nothing_is_removed(
    sandboxes: SandboxFactory, env: str, how: str, detail: str
) -> None:
    sandbox = sandboxes()
    named = _break(sandbox, env, how, detail)
    before = sandbox.snapshot()
    for args in (["synth"], ["synth", "--check"], ["check"], ["cost"]):
        message = assert_refused(run_cli(sandbox.project, *args), sandbox, before)
        assert message.startswith(named + ": "), message


@FAST
@given(how=st.sampled_from(["empty", "missing", "a file", "symlink outside"]))
def test_a_missing_or_empty_environments_folder_is_refused(sandboxes: SandboxFactory, how: str) -> None:
    sandbox = sandboxes()
    folder = sandbox.project / "environments"
    for f in folder.iterdir():
        f.unlink()
    if how in ("missing", "a file", "symlink outside"):
        folder.rmdir()
    if how == "a file":
        folder.write_text("dev: {}\n")
    if how == "symlink outside":
        folder.symlink_to(sandbox.outside)
    before = sandbox.snapshot()
    message = assert_refused(run_cli(sandbox.project, "synth"), sandbox, before)
    assert "environments" in message


def _set(sandbox: Sandbox, key: str, value: str) -> None:
    pyproject = sandbox.project / "pyproject.toml"
    text = pyproject.read_text()
    text = re.sub(rf'^{key} = ".*"$', f"{key} = {value}", text, flags=re.MULTILINE)
    pyproject.write_text(text)


SEGMENT = st.text(alphabet="abcxyz-_", min_size=1, max_size=8)


@FAST
@given(
    value=st.one_of(
        st.sampled_from(['"."', '"./"', '"environments"', '"xrds"', '"compositions"', '""', "3", "[]"]),
        SEGMENT.map(lambda s: f'"../{s}"'),
        SEGMENT.map(lambda s: f'"environments/{s}"'),
        SEGMENT.map(lambda s: f'"/tmp/{s}"'),
        SEGMENT.map(lambda s: f'"{s}/../../{s}"'),
    )
)
def test_manifests_setting_that_would_write_outside_or_over_inputs_is_refused(
    sandboxes: SandboxFactory, value: str
) -> None:
    sandbox = sandboxes()
    _set(sandbox, "manifests", value)
    inputs_before = {p: p.read_bytes() for p in (sandbox.project / "environments").iterdir()}
    before = sandbox.snapshot()
    message = assert_refused(run_cli(sandbox.project, "synth"), sandbox, before)
    assert message.startswith("pyproject.toml: [tool.aiplane] manifests")  # relative to the project root
    assert {p: p.read_bytes() for p in (sandbox.project / "environments").iterdir()} == inputs_before


@FAST
@given(name=SEGMENT)
def test_an_environments_setting_naming_nothing_is_refused(sandboxes: SandboxFactory, name: str) -> None:
    sandbox = sandboxes()
    _set(sandbox, "environments", f'"missing-{name}"')
    before = sandbox.snapshot()
    message = assert_refused(run_cli(sandbox.project, "synth"), sandbox, before)
    assert f"missing-{name}: the environments folder does not exist" in message


@FAST
@given(first=ENVS, second=ENVS)
def test_two_environments_sharing_a_namespace_are_refused(
    sandboxes: SandboxFactory, first: str, second: str
) -> None:
    if first == second:
        return
    sandbox = sandboxes()
    folder = sandbox.project / "environments"
    namespace = re.search(r"^namespace: (\S+)$", (folder / f"{first}.yaml").read_text(), re.MULTILINE)
    assert namespace
    path = folder / f"{second}.yaml"
    path.write_text(
        re.sub(r"^namespace: .*$", f"namespace: {namespace[1]}", path.read_text(), flags=re.MULTILINE)
    )
    before = sandbox.snapshot()
    message = assert_refused(run_cli(sandbox.project, "synth"), sandbox, before)
    later = max(first, second)  # files load in name order: the later one is reported
    assert re.match(rf"environments/{later}.yaml:\d+:\d+: namespace: ", message), message


@FAST
@given(
    region=st.from_regex(r"\A[a-z]{2}(-[a-z]{3,9})+-[0-9]\Z").filter(
        lambda r: not r.startswith(("us-", "eu-", "ap-", "sa-", "ca-", "me-", "af-", "il-", "mx-", "cn-"))
    ),
    env=ENVS,
)
def test_an_unknown_region_is_refused_where_it_is_written(
    sandboxes: SandboxFactory, region: str, env: str
) -> None:
    sandbox = sandboxes()
    path = sandbox.project / "environments" / f"{env}.yaml"
    path.write_text(re.sub(r"^region: .*$", f"region: {region}", path.read_text(), flags=re.MULTILINE))
    before = sandbox.snapshot()
    message = assert_refused(run_cli(sandbox.project, "synth"), sandbox, before)
    assert re.match(rf"environments/{env}.yaml:\d+:\d+: region: unknown AWS region '{region}'", message), (
        message
    )


def test_a_symlink_outside_the_owned_folders_is_kept_as_a_link_never_followed(
    sandboxes: SandboxFactory,
) -> None:
    sandbox = sandboxes()
    manifests = sandbox.project / "manifests"
    (manifests / "leak.txt").symlink_to(sandbox.outside / "secret.yaml")
    # Force a write: one owned file out of date.
    stale = manifests / "platform" / "kustomization.yaml"
    stale.write_text(stale.read_text() + "# stale\n")
    outcome = run_cli(sandbox.project, "synth")
    assert outcome.code == 0, outcome.stderr
    leak = manifests / "leak.txt"
    assert leak.is_symlink() and os.readlink(leak) == str(sandbox.outside / "secret.yaml")
    copied = [
        p
        for p in manifests.rglob("*")
        if p.is_file() and not p.is_symlink() and b"do-not-copy" in p.read_bytes()
    ]
    assert copied == []


def test_the_shipped_environments_still_load(sandboxes: SandboxFactory) -> None:
    sandbox = sandboxes()
    outcome = run_cli(sandbox.project, "synth", "--check")
    assert outcome.code == 0, outcome.stderr
    assert Path(sandbox.project / "manifests").is_dir()
