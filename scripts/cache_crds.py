"""Rewrite aiplane/data/crds-json/: the shipped CRDs (aiplane/data/crds/*.yaml) as JSON, with the hash of the
YAML each was made from (aiplane.validation.crdcache). Run after adding or changing a shipped CRD:

    .venv/bin/python scripts/cache_crds.py
"""

from __future__ import annotations

from pathlib import Path

from aiplane.validation.crdcache import CACHE_DIR, cache_text
from aiplane.yamlio import YAML_SUFFIXES, load_documents_from_text

DATA = Path(__file__).resolve().parents[1] / "src" / "aiplane" / "data"


def main() -> None:
    out = DATA / CACHE_DIR
    out.mkdir(exist_ok=True)
    wanted = set()
    for path in sorted((DATA / "crds").iterdir()):
        if not path.name.endswith(YAML_SUFFIXES):
            continue
        text = path.read_text(encoding="utf-8")
        documents = [d.obj for d in load_documents_from_text(text, f"aiplane/data/crds/{path.name}")]
        target = out / f"{path.name}.json"
        target.write_text(cache_text(path.name, text, documents), encoding="utf-8")
        wanted.add(target.name)
    for stale in out.iterdir():
        if stale.name not in wanted:
            stale.unlink()
    print(f"wrote {len(wanted)} caches to {out.relative_to(DATA.parents[1])}")


if __name__ == "__main__":
    main()
