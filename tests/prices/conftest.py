"""The price tests share the throwaway project copy of tests/synth (project_copy) and SkyPilot's rows."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "synth"))
