"""pydantic field types backed by the instance catalog: the XRD enum and the Python check share one list."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, WithJsonSchema

from aiplane.catalog.instances import load_catalog


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
    AfterValidator(_known_ec2),
    _enum(load_catalog().ec2_instance_names(), "EC2 accelerated instance type from aiplane's catalog."),
]

SageMakerInstanceTypeName = Annotated[
    str,
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
