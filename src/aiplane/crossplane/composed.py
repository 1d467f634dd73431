"""Reading Pipeline Compositions: each P&T resource's base with its patches (PatchSets expanded), the one
walk the platform packages, the guardrails and the offline renderer share."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiplane.validation.fieldpath import get_path, parse_field_path


@dataclass(frozen=True)
class ComposedView:
    """One composed resource of a Composition: its P&T name, base and effective patches."""

    step: int
    index: int
    name: str
    base: Mapping[str, Any]
    patches: list[Mapping[str, Any]]

    @property
    def field_prefix(self) -> str:
        return f"spec.pipeline[{self.step}].input.resources[{self.index}]"

    @property
    def api_version(self) -> str:
        return str(self.base.get("apiVersion", ""))

    @property
    def kind(self) -> str:
        return str(self.base.get("kind", ""))

    def writes(self, path: str) -> bool:
        """Whether some patch writes exactly `path` (or a parent of it) into this resource."""
        wanted = parse_field_path(path)
        for patch in self.patches:
            if patch.get("type", "FromCompositeFieldPath") in (
                "ToCompositeFieldPath",
                "CombineToComposite",
                "ToEnvironmentFieldPath",
                "CombineToEnvironment",
            ):
                continue
            target = patch.get("toFieldPath")
            if isinstance(target, str):
                segments = parse_field_path(target)
                if segments == wanted[: len(segments)]:
                    return True
        return False

    def base_value(self, path: str) -> Any:
        try:
            return get_path(self.base, parse_field_path(path))
        except (KeyError, IndexError, TypeError, ValueError):
            return None


def expand_patches(
    patches: Sequence[Mapping[str, Any]], patch_sets: Mapping[str, Sequence[Mapping[str, Any]]]
) -> tuple[list[Mapping[str, Any]], list[str]]:
    """Patches in order with each PatchSet reference replaced by that set's patches (sets cannot nest),
    and the names of referenced sets that do not exist."""
    out: list[Mapping[str, Any]] = []
    missing: list[str] = []
    for patch in patches:
        if patch.get("type") != "PatchSet":
            out.append(patch)
        elif str(patch.get("patchSetName")) in patch_sets:
            nested, unknown = expand_patches(patch_sets[str(patch.get("patchSetName"))], {})
            out.extend(nested)
            missing.extend(unknown)
        else:
            missing.append(str(patch.get("patchSetName")))
    return out, missing


def composed_resources(composition: Mapping[str, Any]) -> Iterator[ComposedView]:
    """Every P&T resource with a base, across the pipeline steps."""
    for step_index, step in enumerate((composition.get("spec") or {}).get("pipeline") or []):
        spec_input = step.get("input") or {}
        if spec_input.get("kind") != "Resources":
            continue
        patch_sets = {
            str(ps.get("name")): list(ps.get("patches") or []) for ps in spec_input.get("patchSets") or []
        }
        for index, resource in enumerate(spec_input.get("resources") or []):
            base = resource.get("base")
            if not isinstance(base, Mapping):
                continue
            patches, _ = expand_patches(
                resource.get("patches") or [], patch_sets
            )  # validation reports unknown sets
            yield ComposedView(step_index, index, str(resource.get("name", "")), base, patches)


def composite_kind(composition: Mapping[str, Any]) -> str:
    return str(((composition.get("spec") or {}).get("compositeTypeRef") or {}).get("kind", ""))
