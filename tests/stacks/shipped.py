"""The repository's shipped environments and project settings, for parametrising the stack tests."""

from __future__ import annotations

from pathlib import Path

from aiplane.project import load_settings
from aiplane.synthesis.environment import environment_files

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = load_settings(ROOT)
ENVIRONMENTS = [p.stem for p in environment_files(SETTINGS.environments)]
SPOT_MISUSE = Path(__file__).resolve().parent / "fixtures" / "spot-misuse"
