"""Writing manifests/ atomically and telling whether it is current.

The new tree is built in a temporary sibling folder and swapped in with two renames, so a failure at
any point leaves manifests/ exactly as it was; folders the synthesis does not own (other environments
under `--env`) are carried over unchanged.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TreeDiff:
    added: list[str]
    changed: list[str]
    removed: list[str]

    @property
    def clean(self) -> bool:
        return not (self.added or self.changed or self.removed)


def _existing(root: Path, owned: list[str]) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for folder in owned:
        base = root / folder
        if base.is_dir():
            for p in base.rglob("*"):
                if p.is_file():
                    found[p.relative_to(root).as_posix()] = p
    return found


def diff_tree(root: Path, files: dict[str, str], owned: list[str]) -> TreeDiff:
    """Compare the files a synthesis produces with what is on disk inside the folders it owns."""
    existing = _existing(root, owned)
    added = sorted(p for p in files if p not in existing)
    changed = sorted(
        p for p in files if p in existing and existing[p].read_bytes() != files[p].encode("utf-8")
    )
    removed = sorted(p for p in existing if p not in files)
    return TreeDiff(added, changed, removed)


def write_tree(root: Path, files: dict[str, str], owned: list[str]) -> None:
    """Replace the owned folders of `root` with `files`, keeping everything else, atomically."""
    root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{root.name}-new-", dir=root.parent))
    backup: Path | None = None
    try:
        if root.is_dir():
            # Carry over what this synthesis does not own (other environments, hand-made READMEs).
            for item in root.rglob("*"):
                rel = item.relative_to(root).as_posix()
                if item.is_file() and not any(rel == o or rel.startswith(o + "/") for o in owned):
                    target = staging / rel
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(item, target)
        for rel, text in files.items():
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(text.encode("utf-8"))
        if root.exists():
            backup = root.parent / f".{root.name}-old-{os.getpid()}"
            os.rename(root, backup)
        os.rename(staging, root)
    except BaseException:
        if backup is not None and backup.exists() and not root.exists():
            os.rename(backup, root)
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if backup is not None:
        shutil.rmtree(backup, ignore_errors=True)
