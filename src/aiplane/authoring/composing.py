"""What every aiplane Composition shares: naming, selection labels, and the FinOps/provider patch sets.

FinOps tags reach every taggable managed resource through one patch set, so a composition module only
says which of its resources are AWS resources; it cannot forget a tag key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiplane.authoring.api import PlatformAPI
from aiplane.authoring.pt import (
    ComposedResource,
    PatchSet,
    combine_from_xr,
    from_xr,
    pipeline_composition,
    use_patch_set,
)
from aiplane.catalog.instances import Catalog
from aiplane.project import MANAGED_BY, MANAGER, Settings

# AWS tag keys every taggable managed resource carries (FinOps cost allocation; reference
# finops-and-ethics.md §4: lowercase kebab-case keys). `managed-by` is a constant in the base.
# The keys cost is allocated by (activated as cost-allocation tags; missing ones make capacity a cost leak).
COST_ALLOCATION_TAG_KEYS = ("cost-center", "owner", "environment", "tier")
FINOPS_TAG_KEYS = (*COST_ALLOCATION_TAG_KEYS, "managed-by", "xr-name")

PATCH_SET_PROVIDER = "provider-config"
PATCH_SET_REGION = "region"
PATCH_SET_TAGS = "finops-tags"
PATCH_SET_LABELS = "finops-labels"


@dataclass(frozen=True)
class CompositionContext:
    """Everything a composition module needs: project settings, platform APIs and the catalog."""

    settings: Settings
    apis: Mapping[str, PlatformAPI]
    catalog: Catalog

    def label(self, key: str) -> str:
        return self.settings.label(key)

    def api(self, kind: str) -> PlatformAPI:
        return self.apis[kind]

    def xr_api_version(self, kind: str) -> str:
        return f"{self.settings.group}/{self.apis[kind].version}"

    def part_labels(self, part: str) -> dict[str, str]:
        """Labels that let siblings select this composed resource."""
        return {self.label("part"): part}

    def sibling(self, part: str) -> dict[str, Any]:
        """A `*Selector` picking the sibling composed by the same XR with that part label."""
        return {"matchControllerRef": True, "matchLabels": self.part_labels(part)}

    def aws_tags(self) -> dict[str, str]:
        """Base tags of a taggable MR; the finops-tags patch set fills the rest."""
        return {"managed-by": MANAGER}

    def patch_sets(self) -> list[PatchSet]:
        env_label = f"metadata.labels[{self.label('environment')}]"
        tags = "spec.forProvider.tags"
        return [
            PatchSet(PATCH_SET_PROVIDER, [from_xr("spec.providerConfigRef", "spec.providerConfigRef")]),
            PatchSet(PATCH_SET_REGION, [from_xr("spec.region", "spec.forProvider.region")]),
            PatchSet(
                PATCH_SET_TAGS,
                [
                    from_xr("spec.finops.costCenter", f"{tags}[cost-center]"),
                    from_xr("spec.finops.owner", f"{tags}[owner]"),
                    from_xr(env_label, f"{tags}[environment]"),
                    from_xr("spec.finops.tier", f"{tags}[tier]"),
                    from_xr("metadata.name", f"{tags}[xr-name]"),
                ],
            ),
            PatchSet(
                PATCH_SET_LABELS,
                [
                    from_xr("spec.finops.costCenter", f"metadata.labels[{self.label('cost-center')}]"),
                    from_xr("spec.finops.owner", f"metadata.labels[{self.label('owner')}]"),
                    from_xr(env_label, f"metadata.labels[{self.label('environment')}]"),
                    from_xr("spec.finops.tier", f"metadata.labels[{self.label('tier')}]"),
                ],
            ),
        ]

    def aws_resource(
        self, name: str, base: dict[str, Any], *patches: dict[str, Any], regional: bool = True
    ) -> ComposedResource:
        """A composed provider-upjet-aws MR: provider config, region, FinOps tags and labels, then its own patches."""
        common = [use_patch_set(PATCH_SET_PROVIDER)]
        if regional:
            common.append(use_patch_set(PATCH_SET_REGION))
        if "tags" in base["spec"]["forProvider"]:
            common.append(use_patch_set(PATCH_SET_TAGS))
        common.append(use_patch_set(PATCH_SET_LABELS))
        return ComposedResource(name, base, [*common, *patches])

    def kubernetes_resource(
        self, name: str, base: dict[str, Any], *patches: dict[str, Any]
    ) -> ComposedResource:
        """A composed plain Kubernetes object (ConfigMap, CronJob): FinOps labels for OpenCost allocation.

        Readiness `None`: function-auto-ready waits for a Ready condition, which a CronJob, ConfigMap or
        ServiceAccount never reports; without this the XR (and Flux's health check on it) would never
        become ready."""
        return ComposedResource(
            name, base, [use_patch_set(PATCH_SET_LABELS), *patches], readiness_checks=[{"type": "None"}]
        )

    def external_name(self, fmt: str, *from_paths: str) -> dict[str, Any]:
        """Patch the AWS name (crossplane.io/external-name) from XR fields."""
        return combine_from_xr(fmt, from_paths, "metadata.annotations[crossplane.io/external-name]")

    def environment_name_path(self) -> str:
        return f"metadata.labels[{self.label('environment')}]"

    def composition(
        self,
        kind: str,
        variant: str,
        resources: Sequence[ComposedResource],
        selector: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """A Pipeline Composition named `<plural>-<variant>`, labelled so XRs can select it."""
        api = self.apis[kind]
        labels = {**MANAGED_BY, self.label("provider"): "aws"}
        labels.update({self.label(k): v for k, v in (selector or {}).items()})
        return pipeline_composition(
            f"{api.plural}-{variant}", self.xr_api_version(kind), kind, resources, self.patch_sets(), labels
        )
