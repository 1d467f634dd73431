"""Writing manifests/ atomically and telling whether it is current.

The one writer of manifests/. The new tree is built in a staging folder next to it
(`.manifests-new-<random>`) and swapped in with two renames: manifests/ → `.manifests-old-<random>`, then
staging → manifests/. A run killed at any point leaves either manifests/ whole (old or new) or, between
the two renames, no manifests/ and a whole old tree under `.manifests-old-*`; `recover` (run by every
synth before it writes, under the lock) puts that back and removes every staging and backup leftover.
Folders the synthesis does not own (other environments under `--env`) are carried over unchanged; a
symlink there is carried over as a symlink, never followed.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from aiplane.errors import InputError, SystemFailure


@dataclass(frozen=True)
class TreeDiff:
    added: list[str]
    changed: list[str]
    removed: list[str]

    @property
    def clean(self) -> bool:
        return not (self.added or self.changed or self.removed)


# `flux bootstrap --path=manifests/clusters/<env>` commits Flux's own manifests into this sub-folder of a
# folder synth owns. It is the one foreign folder kept there, byte for byte; the generated kustomization.yaml
# lists it (Synthesis.files), so Flux and `kubectl kustomize` build Flux's objects and aiplane's together.
FLUX_BOOTSTRAP = "flux-system"


def _is_flux_bootstrap(rel: str) -> bool:
    parts = rel.split("/")
    return len(parts) >= 3 and parts[0] == "clusters" and parts[2] == FLUX_BOOTSTRAP


def bootstrap_folders(root: Path) -> set[str]:
    """The `clusters/<env>/flux-system` folders Flux bootstrap committed (real folders with a
    kustomization.yaml; a symlink is not followed), relative to manifests/."""
    clusters = root / "clusters"
    if not clusters.is_dir() or clusters.is_symlink():
        return set()
    found = set()
    for env in sorted(clusters.iterdir()):
        folder = env / FLUX_BOOTSTRAP
        if (
            env.is_dir()
            and not env.is_symlink()
            and folder.is_dir()
            and not folder.is_symlink()
            and (folder / "kustomization.yaml").is_file()
        ):
            found.add(f"clusters/{env.name}/{FLUX_BOOTSTRAP}")
    return found


def _is_owned(rel: str, owned: list[str]) -> bool:
    return not _is_flux_bootstrap(rel) and any(rel == o or rel.startswith(o + "/") for o in owned)


def _walk(root: Path) -> Iterator[tuple[str, Path, os.stat_result]]:
    """Every entry under `root` except folders, with its lstat: symlinks are reported, never followed."""
    if not root.is_dir() or root.is_symlink():
        return
    for folder, dirs, names in os.walk(root, followlinks=False):
        base = Path(folder)
        for name in sorted(names) + [d for d in sorted(dirs) if (base / d).is_symlink()]:
            path = base / name
            yield path.relative_to(root).as_posix(), path, path.lstat()


def diff_tree(root: Path, files: dict[str, str], owned: list[str]) -> TreeDiff:
    """Compare the files a synthesis produces with what is on disk inside the folders it owns. An owned
    path that is a symlink (even to identical bytes) or not a regular file counts as changed."""
    existing = {rel: (path, st) for rel, path, st in _walk(root) if _is_owned(rel, owned)}
    added = sorted(p for p in files if p not in existing)
    changed = []
    for rel, text in files.items():
        if rel not in existing:
            continue
        path, st = existing[rel]
        if not stat.S_ISREG(st.st_mode) or path.read_bytes() != text.encode("utf-8"):
            changed.append(rel)
    removed = sorted(p for p in existing if p not in files)
    return TreeDiff(added, sorted(changed), removed)


def _leftovers(root: Path) -> tuple[list[Path], list[Path]]:
    """Staging and backup folders of interrupted writes of `root`, backups oldest first."""
    staging: list[Path] = []
    backups: list[Path] = []
    try:
        entries = list(root.parent.iterdir())
    except FileNotFoundError:
        return [], []
    for entry in sorted(entries):
        if entry.is_symlink() or not entry.is_dir():
            continue
        if entry.name.startswith(f".{root.name}-new-"):
            staging.append(entry)
        elif entry.name.startswith(f".{root.name}-old-"):
            backups.append(entry)
    backups.sort(key=lambda p: p.lstat().st_mtime_ns)
    return staging, backups


def recover(root: Path) -> bool:
    """Finish what an interrupted write left (call under `output_lock`): when manifests/ is missing and a
    backup exists, the newest backup becomes manifests/ again; every other leftover is removed.
    Returns whether a tree was restored."""
    staging, backups = _leftovers(root)
    restored = False
    try:
        if backups and not os.path.lexists(root):
            os.rename(backups.pop(), root)
            restored = True
        for leftover in (*staging, *backups):
            _remove_tree(leftover)
    except OSError as err:
        raise SystemFailure.from_os_error(
            _shown(root), "cannot clean up after an interrupted synth", err
        ) from None
    return restored


@contextmanager
def output_lock(root: Path) -> Iterator[None]:
    """Hold the lock on writing `root` (an advisory lock on its parent folder, released when the process
    ends, even by a kill): a second synth is refused at once instead of interleaving its renames."""
    try:
        root.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(root.parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError as err:
        raise SystemFailure.from_os_error(_shown(root), "cannot open its folder to lock it", err) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            if err.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise SystemFailure(
                    _shown(root),
                    "another `aiplane synth` is writing it; run again when that one has finished",
                ) from None
            raise SystemFailure.from_os_error(_shown(root), "cannot lock", err) from None
        yield
    finally:
        os.close(fd)


def write_tree(root: Path, files: dict[str, str], owned: list[str]) -> None:
    """Replace the owned folders of `root` with `files`, keeping everything else, atomically (call under
    `output_lock`, after `recover`). OS failures become one SystemFailure with `root` left as it was."""
    try:
        root.parent.mkdir(parents=True, exist_ok=True)
        staging = root.parent / f".{root.name}-new-{secrets.token_hex(6)}"
        staging.mkdir()
    except OSError as err:
        raise SystemFailure.from_os_error(_shown(root), "cannot create the staging folder", err) from None
    backup: Path | None = None
    try:
        _carry_over(root, staging, owned)
        for rel, text in files.items():
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(text.encode("utf-8"))
        if os.path.lexists(root):
            backup = root.parent / f".{root.name}-old-{secrets.token_hex(6)}"
            os.rename(root, backup)
        os.rename(staging, root)
    except BaseException as err:
        try:
            if backup is not None and os.path.lexists(backup) and not os.path.lexists(root):
                os.rename(backup, root)
            _remove_tree(staging)
        except OSError:
            pass  # the next synth's `recover` finishes this
        if isinstance(err, OSError):
            raise SystemFailure.from_os_error(_shown(root), "cannot write (left as it was)", err) from None
        raise
    if backup is not None:
        with contextlib.suppress(OSError):  # the new tree is in place; the next synth removes the leftover
            _remove_tree(backup)


def _carry_over(root: Path, staging: Path, owned: list[str]) -> None:
    """Copy what this synthesis does not own (other environments, hand-made READMEs) into staging:
    regular files by content, symlinks as symlinks (never followed), anything else refused."""
    import shutil  # here and in _remove_tree: only writing needs it, and check, cost and plan import this module

    for rel, path, st in _walk(root):
        if _is_owned(rel, owned):
            continue
        target = staging / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if stat.S_ISLNK(st.st_mode):
            os.symlink(os.readlink(path), target)
        elif stat.S_ISREG(st.st_mode):
            shutil.copy2(path, target, follow_symlinks=False)
        else:
            raise InputError.single(
                f"{_shown(root)}/{rel}", "not a regular file, folder or symlink; remove it from manifests/"
            )


def _remove_tree(path: Path) -> None:
    """Remove a folder tree, making read-only folders inside it writable first (a leftover must never
    block later runs)."""
    import shutil

    def retry_writable(function: object, failed: str, _exc: object) -> None:
        parent = os.path.dirname(failed)
        os.chmod(parent, stat.S_IRWXU)
        if os.path.isdir(failed) and not os.path.islink(failed):
            os.chmod(failed, stat.S_IRWXU)
            shutil.rmtree(failed)
        else:
            os.unlink(failed)

    if os.path.lexists(path):
        shutil.rmtree(path, onerror=retry_writable)


def _shown(root: Path) -> str:
    try:
        return root.relative_to(Path.cwd()).as_posix() + "/"
    except ValueError:
        return str(root) + "/"
