"""The committed manifests/ as parsed objects, for the day-1 tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from aiplane.project import load_settings

REPO = Path(__file__).resolve().parents[2]
MANIFESTS = load_settings(REPO).manifests


def docs(folder: Path = MANIFESTS) -> list[dict[str, Any]]:
    """Every object under `folder` (kustomization.yaml files left out)."""
    return [
        d
        for p in sorted(folder.rglob("*.yaml"))
        if p.name != "kustomization.yaml"
        for d in yaml.safe_load_all(p.read_text())
        if isinstance(d, dict)
    ]
