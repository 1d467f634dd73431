"""The CEL engine (common-expression-language), without its command-line tool.

`cel/__init__.py` runs `from . import cli, stdlib`, and `cel.cli` imports prompt_toolkit, typer and rich:
about 150 ms on every aiplane command that validates, for a tool aiplane never runs (the engine itself
imports in a few ms). An empty module registered as `cel.cli` before the first import stands in for it;
`cel.cli` is not used by the engine or the standard library extensions.
"""

from __future__ import annotations

import sys
import types

if "cel" not in sys.modules:
    sys.modules.setdefault("cel.cli", types.ModuleType("cel.cli", "not loaded by aiplane (see celengine)"))

import cel
from cel.stdlib import EXTENSIONS

__all__ = ["EXTENSIONS", "cel"]
