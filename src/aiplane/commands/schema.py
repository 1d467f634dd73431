"""`aiplane schema environment [-o FILE]`: the JSON Schema (draft 2020-12) of environment files, from the
models the loader validates with, for editor completion and hover help (yaml-language-server)."""

from __future__ import annotations

import sys
from pathlib import Path

from aiplane.errors import SystemFailure
from aiplane.project import load_settings
from aiplane.synthesis.discovery import discover
from aiplane.synthesis.environment_schema import render


def run(output: str | None) -> int:
    settings = load_settings()
    text = render(discover(settings).apis)
    if output is None:
        sys.stdout.write(text)
        return 0
    target = Path(output)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except OSError as err:
        raise SystemFailure.from_os_error(output, "cannot write", err) from None
    print(f"wrote {output}", file=sys.stderr)
    return 0
