"""The ForceNew data (src/aiplane/data/forcenew.yaml): per managed resource kind, the spec paths whose change
the provider refuses to apply in place. Paths are index-free (`spec.forProvider.rule.bucketKeyEnabled` means
that field in any element)."""

from __future__ import annotations

import re
from functools import cache

import yaml

from aiplane import DATA

_INDEX = re.compile(r"\[[^\]]*\]")


@cache
def forcenew_paths() -> dict[tuple[str, str], tuple[str, ...]]:
    """(apiVersion, kind) → the ForceNew spec paths of that kind."""
    text = (DATA / "forcenew.yaml").read_text(encoding="utf-8")
    data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return {
        (str(k["apiVersion"]), str(k["kind"])): tuple(str(e["path"]) for e in k.get("forceNew") or [])
        for k in data["kinds"]
    }


def index_free(path: str) -> str:
    """A field path without list indexes or map keys in brackets: `a.b[0].c` → `a.b.c`, `tags[x]` → `tags`."""
    return _INDEX.sub("", path)


def forcenew_hit(api_version: str, kind: str, path: str) -> str | None:
    """The ForceNew path a change at `path` changes: the same path, one inside it, or a parent of one."""
    changed = index_free(path)
    for forcenew in forcenew_paths().get((api_version, kind), ()):
        if changed == forcenew or changed.startswith(f"{forcenew}.") or forcenew.startswith(f"{changed}."):
            return forcenew
    return None
