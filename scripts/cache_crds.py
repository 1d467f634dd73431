"""Rewrite aiplane/data/crds-json/: the shipped CRDs (aiplane/data/crds/*.yaml) as JSON, with the hash of the
YAML each was made from, and each served version's compiled form with the hash of the compiler that made it
(aiplane.validation.crdcache). Run after adding or changing a shipped CRD or the schema compiler:

    .venv/bin/python scripts/cache_crds.py
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiplane.validation.checker import compiled_form
from aiplane.validation.crdcache import CACHE_DIR, cache_text
from aiplane.validation.registry import crd_kind_schemas, is_crd
from aiplane.yamlio import YAML_SUFFIXES, load_documents_from_text

DATA = Path(__file__).resolve().parents[1] / "src" / "aiplane" / "data"


def compiled_forms(documents: list[Any], source: str) -> dict[str, Any]:
    """"<kind>/<version>" -> compiled form of every served version of the CRDs among `documents`; a version
    whose schema does not compile is left out (it is compiled, and its error reported, at use)."""
    forms: dict[str, Any] = {}
    for obj in documents:
        if not is_crd(obj):
            continue
        for ks in crd_kind_schemas(obj, source):
            try:
                forms[f"{ks.kind}/{ks.version}"] = compiled_form(ks)
            except (ValueError, TypeError, AttributeError):
                continue
    return forms


def main() -> None:
    out = DATA / CACHE_DIR
    out.mkdir(exist_ok=True)
    wanted = set()
    for path in sorted((DATA / "crds").iterdir()):
        if not path.name.endswith(YAML_SUFFIXES):
            continue
        text = path.read_text(encoding="utf-8")
        source = f"aiplane/data/crds/{path.name}"
        documents = [d.obj for d in load_documents_from_text(text, source)]
        target = out / f"{path.name}.json"
        target.write_text(
            cache_text(path.name, text, documents, compiled_forms(documents, source)), encoding="utf-8"
        )
        wanted.add(target.name)
    for stale in out.iterdir():
        if stale.name not in wanted:
            stale.unlink()
    print(f"wrote {len(wanted)} caches to {out.relative_to(DATA.parents[1])}")


if __name__ == "__main__":
    main()
