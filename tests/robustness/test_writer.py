"""The one writer of manifests/: a kill at any point leaves a tree the next run restores whole (old or
new), a second synth is refused while one writes, leftovers are cleaned, OS failures are one line and
exit 2, and `synth --check` does not accept a symlink for an owned file."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hostile import SandboxFactory, assert_refused, run_cli, run_subprocess, tree_hash
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aiplane.errors import SystemFailure
from aiplane.synthesis import manifest_tree
from aiplane.synthesis.manifest_tree import output_lock, recover, write_tree

FAST = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
OWNED = ["platform", "environments", "clusters"]

# Runs write_tree in a child that SIGKILLs itself at the Nth call of one of the filesystem operations
# the writer mutates the tree with (only counted once write_tree has started).
KILLER = textwrap.dedent(
    """
    import json, os, pathlib, shutil, signal, sys
    from aiplane.synthesis import manifest_tree
    root, files_json, watched, nth = sys.argv[1], sys.argv[2], sys.argv[3].split(","), int(sys.argv[4])
    calls = {"n": 0}
    def counting(owner, name):
        real = getattr(owner, name)
        def wrapper(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] == nth:
                os.kill(os.getpid(), signal.SIGKILL)
            return real(*args, **kwargs)
        setattr(owner, name, wrapper)
    for spec in watched:
        owner, name = spec.split(".")
        counting({"os": os, "shutil": shutil, "Path": pathlib.Path}[owner], name)
    files = json.loads(pathlib.Path(files_json).read_text())
    with manifest_tree.output_lock(pathlib.Path(root)):
        manifest_tree.recover(pathlib.Path(root))
        manifest_tree.write_tree(pathlib.Path(root), files, ["platform", "environments", "clusters"])
    print("finished", calls["n"])
    """
)
EVERYTHING = "os.rename,os.mkdir,os.symlink,os.unlink,os.rmdir,shutil.copy2,Path.write_bytes,Path.mkdir"


def _new_files(root: Path) -> dict[str, str]:
    files = {p.relative_to(root).as_posix(): p.read_text() for p in root.rglob("*.yaml")}
    files = {k: v for k, v in files.items() if k.split("/")[0] in OWNED}
    files["platform/apis/new.yaml"] = "new: true\n"
    files.pop(sorted(files)[0])
    return {k: v + "# new\n" for k, v in files.items()}


def _kill_at(
    root: Path, files: dict[str, str], watched: str, nth: int, tmp: Path
) -> subprocess.CompletedProcess[str]:
    files_json = tmp / "files.json"
    files_json.write_text(json.dumps(files))
    return subprocess.run(
        [sys.executable, "-c", KILLER, str(root), str(files_json), watched, str(nth)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _expected_new(sandbox_root: Path, files: dict[str, str], tmp: Path) -> str:
    copy = tmp / "expected" / "manifests"
    shutil.copytree(sandbox_root, copy, symlinks=True)
    with output_lock(copy):
        write_tree(copy, files, OWNED)
    return tree_hash(copy)


def test_a_kill_at_every_rename_leaves_a_tree_the_next_run_restores(sandboxes: SandboxFactory) -> None:
    sandbox = sandboxes()
    root = sandbox.project / "manifests"
    files = _new_files(root)
    old = tree_hash(root)
    new = _expected_new(root, files, sandbox.folder)
    nth = 1
    while True:
        attempt = sandboxes()
        aroot = attempt.project / "manifests"
        result = _kill_at(aroot, files, "os.rename", nth, attempt.folder)
        if result.returncode == 0:  # ran past the last rename
            assert nth > 2, result.stderr
            break
        assert result.returncode == -9, result.stderr
        with output_lock(aroot):
            recover(aroot)
        assert tree_hash(aroot) in (old, new), f"kill at rename {nth}"
        assert not [p for p in attempt.project.iterdir() if p.name.startswith(".manifests-")]
        nth += 1


@FAST
@given(nth=st.integers(1, 400))
def test_a_kill_at_any_filesystem_step_leaves_a_tree_the_next_run_restores(
    sandboxes: SandboxFactory, nth: int
) -> None:
    sandbox = sandboxes()
    root = sandbox.project / "manifests"
    files = _new_files(root)
    old = tree_hash(root)
    result = _kill_at(root, files, EVERYTHING, nth, sandbox.folder)
    assert result.returncode in (0, -9), result.stderr
    with output_lock(root):
        recover(root)
    assert tree_hash(root) in (old, _expected_new(sandbox.project / "manifests", files, sandbox.folder / "x"))
    assert not [p for p in sandbox.project.iterdir() if p.name.startswith(".manifests-")]


def test_synth_killed_between_the_renames_is_restored_by_the_next_synth(sandboxes: SandboxFactory) -> None:
    sandbox = sandboxes()
    root = sandbox.project / "manifests"
    expected = tree_hash(root)
    stale = root / "platform" / "kustomization.yaml"
    stale.write_text(stale.read_text() + "# stale\n")
    script = (
        "import os, signal, sys\n"
        "real = os.rename\n"
        "calls = [0]\n"
        "def rename(a, b):\n"
        "    calls[0] += 1\n"
        "    if calls[0] == 2: os.kill(os.getpid(), signal.SIGKILL)\n"
        "    real(a, b)\n"
        "os.rename = rename\n"
        "from aiplane.cli import main\n"
        "sys.argv = ['aiplane', 'synth']\n"
        "main()\n"
    )
    killed = subprocess.run(
        [sys.executable, "-c", script], cwd=sandbox.project, capture_output=True, timeout=300
    )
    assert killed.returncode == -9
    assert not root.exists(), "the kill fell between the two renames"
    again = run_subprocess(sandbox.project, "synth")
    assert again.code == 0, again.stderr
    assert "restored manifests/" in again.stderr
    assert tree_hash(root) == expected
    assert not [p for p in sandbox.project.iterdir() if p.name.startswith(".manifests-")]


def test_a_second_synth_is_refused_while_one_writes(sandboxes: SandboxFactory) -> None:
    sandbox = sandboxes()
    root = sandbox.project / "manifests"
    stale = root / "platform" / "kustomization.yaml"
    stale.write_text(stale.read_text() + "# stale\n")
    before = sandbox.snapshot()
    fd = os.open(sandbox.project, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # what a running synth holds
        outcome = run_subprocess(sandbox.project, "synth")
    finally:
        os.close(fd)
    message = assert_refused(outcome, sandbox, before)
    assert (
        message == "manifests/: another `aiplane synth` is writing it; run again when that one has finished"
    )


@FAST
@given(
    names=st.lists(
        st.one_of(
            st.integers(1, 2**22).map(lambda pid: f".manifests-old-{pid}"),
            st.text(alphabet="abcdef0123456789", min_size=1, max_size=12).map(
                lambda s: f".manifests-new-{s}"
            ),
            st.text(alphabet="abcdef0123456789", min_size=1, max_size=12).map(
                lambda s: f".manifests-old-{s}"
            ),
        ),
        min_size=1,
        max_size=4,
        unique=True,
    ),
    read_only=st.booleans(),
)
def test_leftovers_of_earlier_runs_are_cleaned_and_never_block(
    sandboxes: SandboxFactory, names: list[str], read_only: bool
) -> None:
    sandbox = sandboxes()
    root = sandbox.project / "manifests"
    for name in names:
        leftover = sandbox.project / name / "platform"
        leftover.mkdir(parents=True)
        (leftover / "x.yaml").write_text("junk: true\n")
        if read_only:
            leftover.chmod(0o500)
    files = _new_files(root)
    with output_lock(root):
        recover(root)
        write_tree(root, files, OWNED)
    assert [p.name for p in sandbox.project.iterdir() if p.name.startswith(".manifests-")] == []
    assert (root / "platform/apis/new.yaml").read_text() == "new: true\n# new\n"


def test_a_leftover_backup_with_this_process_id_does_not_block_synth(sandboxes: SandboxFactory) -> None:
    sandbox = sandboxes()
    root = sandbox.project / "manifests"
    stale = root / "platform" / "kustomization.yaml"
    stale.write_text(stale.read_text() + "# stale\n")
    for pid in (os.getpid(), 1, 2**22):
        (sandbox.project / f".manifests-old-{pid}" / "platform").mkdir(parents=True)
    outcome = run_cli(sandbox.project, "synth")
    assert outcome.code == 0, outcome.stderr
    assert [p.name for p in sandbox.project.iterdir() if p.name.startswith(".manifests-")] == []


@FAST
@given(
    code=st.sampled_from([errno.ENOSPC, errno.EIO, errno.EACCES, errno.EPERM, errno.EROFS, errno.EDQUOT]),
    operation=st.sampled_from(["os.rename", "Path.write_bytes", "Path.mkdir", "shutil.copy2", "os.symlink"]),
    nth=st.integers(1, 40),
)
def test_an_os_failure_while_writing_is_one_line_and_leaves_the_tree_as_it_was(
    sandboxes: SandboxFactory, code: int, operation: str, nth: int
) -> None:
    sandbox = sandboxes()
    root = sandbox.project / "manifests"
    (root / "README.md").write_text("kept\n")
    (root / "link").symlink_to("README.md")
    stale = root / "platform" / "kustomization.yaml"
    stale.write_text(stale.read_text() + "# stale\n")
    before = sandbox.snapshot()
    owner_name, attr = operation.split(".")
    owner = {"os": os, "shutil": shutil, "Path": Path}[owner_name]
    real = getattr(owner, attr)
    calls = {"n": 0}

    def failing(*args: object, **kwargs: object) -> object:
        # Only the writer's own operations count (paths in the project); others, such as the jsii cache
        # probe that synth deliberately survives, are left alone so the injected failure lands in the write.
        if any(str(sandbox.project) in str(a) for a in args):
            calls["n"] += 1
            if calls["n"] == nth:
                raise OSError(code, os.strerror(code))
        return real(*args, **kwargs)

    mp = pytest.MonkeyPatch()
    mp.setattr(owner, attr, failing)
    try:
        outcome = run_cli(sandbox.project, "synth")
    finally:
        mp.undo()
    if calls["n"] < nth:  # the write needed fewer calls: it succeeded
        assert outcome.code == 0, outcome.stderr
        return
    message = assert_refused(outcome, sandbox, before)
    assert message.startswith("manifests/: ") and os.strerror(code) in message, message


def test_synth_check_fails_when_an_owned_manifest_is_a_symlink_to_identical_bytes(
    sandboxes: SandboxFactory,
) -> None:
    sandbox = sandboxes()
    owned = sandbox.project / "manifests" / "platform" / "kustomization.yaml"
    copy = sandbox.outside / "kustomization.yaml"
    copy.write_bytes(owned.read_bytes())
    owned.unlink()
    owned.symlink_to(copy)
    outcome = run_cli(sandbox.project, "synth", "--check")
    assert outcome.code == 1 and not outcome.traceback
    assert "changed  manifests/platform/kustomization.yaml" in outcome.stderr
    assert run_cli(sandbox.project, "synth").code == 0
    assert not owned.is_symlink() and copy.read_bytes() == owned.read_bytes()


def test_write_tree_raises_system_failure_not_os_error(
    sandboxes: SandboxFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox = sandboxes()
    root = sandbox.project / "manifests"

    def no_space(*args: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(manifest_tree.os, "rename", no_space)
    with pytest.raises(SystemFailure, match="No space left on device"):
        write_tree(root, {"platform/x.yaml": "a: 1\n"}, OWNED)
