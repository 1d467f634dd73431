"""Duplicate YAML keys are refused: libraries keep the last value silently, and in a GitOps source that
can drop a whole block of resources that Flux then prunes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

AIPLANE = str(Path(sys.executable).with_name("aiplane"))


def test_validate_refuses_a_duplicate_key_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "cm.yaml"
    path.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n")
    result = subprocess.run([AIPLANE, "validate", str(path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert f"{path}:5:3: YAML error: duplicate key 'name' (first at line 4)" in result.stderr
