"""The shipped CRDs as JSON: `json.loads` reads them in milliseconds where the strict YAML loader takes
50 ms and more per provider CRD (the largest part of `aiplane check` before this cache).

`aiplane/data/crds-json/<file>.json` holds the documents of `aiplane/data/crds/<file>` and the SHA-256 of
that YAML text; a cache whose hash does not match its YAML is ignored (the YAML is parsed instead), so a
stale cache can cost time but never change a result. `scripts/cache_crds.py` rewrites the caches after the
YAML changes; `tests/validation/test_crd_cache.py` fails while any is stale.

Beside the documents the cache holds each served version's compiled form (aiplane.validation.checker
`compiled_form`: the JSON Schema, the defaults plan and the CEL rule plan), stamped with the SHA-256 of the
compiler's own source files; when either the YAML or the compiler changed, the compiled form is ignored and
compiled afresh, so it too can never change a result.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any

from aiplane import DATA

CACHE_DIR = "crds-json"

# The modules (and schema file) whose code decides the compiled form: change one and every cached compiled
# form is stale until scripts/cache_crds.py runs again.
COMPILER_FILES = (
    ("validation", "openapi.py"),
    ("validation", "defaults.py"),
    ("validation", "celrules.py"),
    ("validation", "celcost.py"),
    ("validation", "checker.py"),
    ("data", "k8s-schemas", "core_v1_namespace.json"),
)


def _cache_file(name: str) -> Path:
    return DATA / CACHE_DIR / f"{name}.json"


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@functools.cache
def compiler_digest() -> str:
    """SHA-256 of the compiler's source files (COMPILER_FILES); "" when one cannot be read (then no compiled
    form is trusted)."""
    sha = hashlib.sha256()
    root = DATA.parent  # COMPILER_FILES are relative to the package's folder
    try:
        for parts in COMPILER_FILES:
            sha.update(root.joinpath(*parts).read_bytes())
    except OSError:
        return ""
    return sha.hexdigest()


def cached_crd(name: str, text: str) -> tuple[list[Any], dict[str, Any]] | None:
    """(documents, compiled forms by "<kind>/<version>") of shipped CRD file `name` from its cache; the
    compiled forms are {} when the compiler changed since the cache was written. None when there is no cache
    or it was made from other YAML."""
    try:
        data = json.loads(_cache_file(name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("sourceSha256") != digest(text):
        return None
    documents = data.get("documents")
    if not isinstance(documents, list):
        return None
    compiled = data.get("compiled")
    current = bool(compiler_digest()) and data.get("compilerSha256") == compiler_digest()
    return documents, compiled if current and isinstance(compiled, dict) else {}


def cache_text(name: str, text: str, documents: list[Any], compiled: dict[str, Any]) -> str:
    """The cache file for YAML `text` whose parsed documents are `documents` and whose served versions
    compile to `compiled` ("<kind>/<version>" -> compiled form); stable bytes."""
    return json.dumps(
        {
            "source": f"aiplane/data/crds/{name}",
            "sourceSha256": digest(text),
            "documents": documents,
            "compilerSha256": compiler_digest(),
            "compiled": compiled,
        },
        separators=(",", ":"),
        ensure_ascii=False,
        sort_keys=False,
    ) + "\n"
