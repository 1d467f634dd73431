"""Field paths for findings: Crossplane syntax (aiplane.validation.fieldpath), never failing.

Findings must name every field, even keys Crossplane's syntax cannot express (empty, or with `[`/`]`);
those are written in brackets as they are, which reads well although it would not parse back.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiplane.validation.fieldpath import Segment, format_field_path


def format_path(segments: Sequence[Segment]) -> str:
    """`["spec", "taint", 0, "effect"]` -> `spec.taint[0].effect`; `["metadata", "labels", "a.io/b"]` ->
    `metadata.labels[a.io/b]`."""
    try:
        return format_field_path(segments)
    except ValueError:
        out = []
        for seg in segments:
            if isinstance(seg, int) or not seg or any(c in seg for c in "./ []"):
                out.append(f"[{seg}]")
            else:
                out.append(f".{seg}" if out else seg)
        return "".join(out)
