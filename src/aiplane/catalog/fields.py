"""pydantic field types backed by the instance catalog: the XRD enum and the Python check share one list.
The EC2 and SageMaker instance type fields also carry a marker, so the engine finds every instance type a
spec names (`instance_types_in`) and checks it against the catalog of the spec's region, for any API."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Annotated, Any, get_args, get_origin

from pydantic import AfterValidator, BaseModel, WithJsonSchema

from aiplane.catalog.instances import load_catalog


@dataclass(frozen=True)
class InstanceTypeField:
    """Marks a field whose value is an instance type of `service` (ec2 or sagemaker) priced per region."""

    service: str


FieldPath = tuple[str | int, ...]


def instance_types_in(model: BaseModel) -> list[tuple[FieldPath, str, str]]:
    """(path by field alias, service, instance type) of every marked field value in a validated model."""
    found: list[tuple[FieldPath, str, str]] = []
    for name, key, annotation, marker in _fields_to_walk(type(model)):
        found += _walk(getattr(model, name), annotation, marker, (key,))
    return found


@functools.cache
def _fields_to_walk(model: type[BaseModel]) -> tuple[tuple[str, str, Any, InstanceTypeField | None], ...]:
    """(attribute, alias, annotation, marker) of the fields of `model` that can hold a marked value: the
    others (names, tags, thresholds...) are never walked, which was most of the cost of loading a large
    environment. Once per model class."""
    out = []
    for name, info in model.model_fields.items():
        marker = next((m for m in info.metadata if isinstance(m, InstanceTypeField)), None)
        if marker is not None or _may_hold_marked(info.annotation, set()):
            out.append((name, info.alias or name, info.annotation, marker))
    return tuple(out)


def _may_hold_marked(annotation: Any, seen: set[int]) -> bool:
    """Whether a value of this annotation can contain a marked field: it is marked, a model with such a
    field, untyped (Any, or no annotation), or a container or union of one of those."""
    if annotation is None or annotation is Any or _marker(annotation) is not None:
        return True
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if id(annotation) in seen:  # a model inside itself: its outer occurrence decides
            return False
        seen.add(id(annotation))
        try:
            return any(
                any(isinstance(m, InstanceTypeField) for m in info.metadata)
                or _may_hold_marked(info.annotation, seen)
                for info in annotation.model_fields.values()
            )
        finally:
            seen.discard(id(annotation))
    return any(_may_hold_marked(arg, seen) for arg in get_args(annotation) if not isinstance(arg, (str, int)))


def _walk(value: Any, annotation: Any, marker: InstanceTypeField | None, path: FieldPath) -> list[Any]:
    if isinstance(value, BaseModel):
        return [((*path, *sub), service, name) for sub, service, name in instance_types_in(value)]
    marker = marker or _marker(annotation)
    if isinstance(value, str):
        return [(path, marker.service, value)] if marker else []
    if isinstance(value, (list, tuple)):
        inner = _item_annotation(annotation)
        return [hit for i, item in enumerate(value) for hit in _walk(item, inner, marker, (*path, i))]
    if isinstance(value, dict):
        return [hit for k, item in value.items() for hit in _walk(item, None, None, (*path, str(k)))]
    return []


def _marker(annotation: Any) -> InstanceTypeField | None:
    return next((m for m in getattr(annotation, "__metadata__", ()) if isinstance(m, InstanceTypeField)), None)


def _item_annotation(annotation: Any) -> Any:
    if get_origin(annotation) in (list, tuple):
        args = get_args(annotation)
        return args[0] if args else None
    return annotation


def _enum(names: list[str], description: str) -> WithJsonSchema:
    """The XRD side of a catalog-backed field: a string enum of the catalog's names."""
    return WithJsonSchema({"type": "string", "enum": names, "description": description})


def _known_ec2(name: str) -> str:
    load_catalog().ec2_instance(name)  # raises UnknownInstanceType with close matches
    return name


def _known_sagemaker(name: str) -> str:
    load_catalog().sagemaker_instance(name)
    return name


Ec2InstanceTypeName = Annotated[
    str,
    InstanceTypeField("ec2"),
    AfterValidator(_known_ec2),
    _enum(load_catalog().ec2_instance_names(), "EC2 accelerated instance type from aiplane's catalog."),
]

SageMakerInstanceTypeName = Annotated[
    str,
    InstanceTypeField("sagemaker"),
    AfterValidator(_known_sagemaker),
    _enum(load_catalog().sagemaker_instance_names(), "SageMaker hosting instance type from aiplane's catalog."),
]


def _endpoint_quota_type(name: str) -> str:
    if load_catalog().endpoint_quota(name) is None:
        known = ", ".join(load_catalog().endpoint_quota_types())
        raise ValueError(f"no confirmed SageMaker endpoint quota code for {name}; confirmed: {known}")
    return name


# A SageMaker instance type whose "for endpoint usage" quota code the catalog has from a cited source: only
# these can be requested (a code that cannot be confirmed is never composed).
EndpointQuotaInstanceTypeName = Annotated[
    str,
    AfterValidator(_endpoint_quota_type),
    _enum(load_catalog().endpoint_quota_types(), "SageMaker hosting instance type with a confirmed endpoint-usage quota code."),
]
