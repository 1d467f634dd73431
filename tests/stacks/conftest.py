"""Both stack folders on sys.path, as the Pulumi language host puts a program's own folder there."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
for folder in (ROOT / "stacks" / "platform", ROOT / "stacks" / "aws-foundation", Path(__file__).parent):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
