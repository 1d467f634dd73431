"""KindSchema: the schema of one served version of one kind, wherever it came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(eq=False)
class KindSchema:
    """One served `group/version` `kind`: its raw openAPIV3Schema (for field-path resolution too), whether
    the version is deprecated, its scope and the file it was read from.

    `builtin` marks Kubernetes' own kinds (their names need not be DNS subdomains). `compiled` caches the
    validator built from it (aiplane.validation.checker), so a kind is compiled at most once per process
    when the KindSchema comes from the shipped set.
    """

    group: str
    version: str
    kind: str
    schema: dict[str, Any]
    deprecated: bool = False
    deprecation_warning: str | None = None
    namespaced: bool = True
    source: str = ""
    builtin: bool = False
    compiled: Any = field(default=None, repr=False)
    # The compiled form as JSON data, read from the cache beside a shipped CRD (aiplane.validation.crdcache)
    # when it was made from the same YAML by the same compiler; compile_kind then skips the schema walks.
    precompiled: Any = field(default=None, repr=False, compare=False)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


def split_api_version(api_version: str) -> tuple[str, str]:
    """`eks.aws.m.upbound.io/v1beta1` -> (`eks.aws.m.upbound.io`, `v1beta1`); `v1` -> (``, `v1`)."""
    group, _, version = api_version.rpartition("/")
    return group, version


def served_versions(
    definition: dict[str, Any], what: str
) -> tuple[dict[str, Any], str, str, list[dict[str, Any]]]:
    """(spec, group, kind, served versions) of a CRD or XRD; ValueError naming `what` when the
    definition lacks what is needed to know the kind (spec, group, names.kind, versions)."""
    spec = definition.get("spec")
    if not isinstance(spec, dict):
        raise ValueError(f"{what} has no spec")
    group, names, versions = spec.get("group"), spec.get("names"), spec.get("versions")
    if not isinstance(group, str) or not isinstance(names, dict) or not isinstance(names.get("kind"), str):
        raise ValueError(f"{what} needs spec.group and spec.names.kind")
    if not isinstance(versions, list):
        raise ValueError(f"{what} needs spec.versions")
    served = [
        v for v in versions if isinstance(v, dict) and v.get("served") and isinstance(v.get("name"), str)
    ]
    return spec, group, names["kind"], served
