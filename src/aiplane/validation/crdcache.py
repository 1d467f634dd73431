"""The shipped CRDs as JSON: `json.loads` reads them in milliseconds where the strict YAML loader takes
50 ms and more per provider CRD (the largest part of `aiplane check` before this cache).

`aiplane/data/crds-json/<file>.json` holds the documents of `aiplane/data/crds/<file>` and the SHA-256 of
that YAML text; a cache whose hash does not match its YAML is ignored (the YAML is parsed instead), so a
stale cache can cost time but never change a result. `scripts/cache_crds.py` rewrites the caches after the
YAML changes; `tests/validation/test_crd_cache.py` fails while any is stale.
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

CACHE_DIR = "crds-json"


def _cache_file(name: str) -> Traversable:
    return resources.files("aiplane").joinpath("data", CACHE_DIR, f"{name}.json")


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def cached_documents(name: str, text: str) -> list[Any] | None:
    """The documents of shipped CRD file `name` (whose YAML is `text`) from its cache, or None when there is
    no cache or it was made from other YAML."""
    try:
        data = json.loads(_cache_file(name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("sourceSha256") != digest(text):
        return None
    documents = data.get("documents")
    return documents if isinstance(documents, list) else None


def cache_text(name: str, text: str, documents: list[Any]) -> str:
    """The cache file for YAML `text` whose parsed documents are `documents` (stable bytes)."""
    return json.dumps(
        {"source": f"aiplane/data/crds/{name}", "sourceSha256": digest(text), "documents": documents},
        separators=(",", ":"),
        ensure_ascii=False,
    ) + "\n"
