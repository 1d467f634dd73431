"""The project's files as committed at a git revision: what `plan` compares with (the committed manifests/)
and what `cost --diff` prices against (the committed environments/).

One `git ls-tree` lists a folder and one `git cat-file --batch` reads every file wanted: a `git show` per
file was a process per manifest, a quarter of `plan`. Paths are relative to the project root (git resolves
`REF:./path` from the folder it runs in), so a project that is a folder of a larger repository reads the same.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from aiplane.errors import InputError


def paths_at(root: Path, ref: str, folder: str) -> list[str]:
    """Every file under `folder` (relative to `root`) at git revision `ref`, relative to `root`, sorted; none
    when the folder did not exist there. An unknown revision, or no git repository, is an InputError."""
    listing = subprocess.run(
        ["git", "-C", str(root), "ls-tree", "-r", "-z", "--name-only", ref, "--", folder], capture_output=True
    )
    if listing.returncode != 0:
        stderr = listing.stderr.decode(errors="replace").strip()
        raise InputError.single(ref, f"cannot read {folder}/ at this git revision: {stderr}")
    return sorted(p for p in listing.stdout.decode().split("\0") if p)


def texts_at(root: Path, ref: str, paths: list[str]) -> list[str]:
    """The UTF-8 text of each file (relative to `root`, as paths_at names them) at `ref`, in order; a file
    missing there, or not UTF-8, is an InputError naming `REF:path`."""
    if not paths:
        return []
    if any("\n" in path for path in paths):  # --batch reads one name per line
        raise InputError.single(ref, "a file name has a line break")
    names = "".join(f"{ref}:./{path}\n" for path in paths).encode()
    batch = subprocess.run(["git", "-C", str(root), "cat-file", "--batch"], input=names, capture_output=True)
    if batch.returncode != 0:
        raise InputError.single(ref, batch.stderr.decode(errors="replace").strip())
    out, at, texts = batch.stdout, 0, []
    for path in paths:
        end = out.index(b"\n", at)
        header = out[at:end].split()  # "<object> blob <size>", or "<name> missing"
        if len(header) != 3 or header[1] != b"blob":
            raise InputError.single(f"{ref}:{path}", f"not a file at this git revision: {out[at:end].decode()}")
        size = int(header[2])
        try:
            texts.append(out[end + 1 : end + 1 + size].decode("utf-8"))
        except UnicodeDecodeError as err:
            raise InputError.single(f"{ref}:{path}", f"not UTF-8 text: {err.reason} at byte {err.start}") from None
        at = end + 1 + size + 1  # the blob, then a newline
    return texts
