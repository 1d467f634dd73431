"""Version, dependency and entry points of aiplane-apis, derived from the repository (see pyproject.toml):
one entry point per module of ../../xrds (`aiplane.platform_apis`) and ../../compositions
(`aiplane.compositions`), pointing at the copies the aiplane wheel of the same version carries."""

import tomllib
from pathlib import Path

from setuptools import setup

REPO = Path(__file__).resolve().parents[2]


def modules(folder: str) -> list[str]:
    found = sorted(p.stem for p in (REPO / folder).glob("*.py") if not p.name.startswith("_"))
    if not found:
        raise SystemExit(f"aiplane-apis builds from the repository: no modules in {REPO / folder}")
    return found


version = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
setup(
    version=version,
    install_requires=[f"aiplane=={version}"],
    entry_points={
        # Names match aiplane.synthesis.discovery.API_ENTRY_POINTS and COMPOSITION_ENTRY_POINTS.
        "aiplane.platform_apis": [f"{m} = aiplane.shipped.xrds.{m}:API" for m in modules("xrds")],
        "aiplane.compositions": [f"{m} = aiplane.shipped.compositions.{m}" for m in modules("compositions")],
    },
)
