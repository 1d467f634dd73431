"""pydantic field types backed by the instance catalog: the XRD enum and the Python check share one list."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, WithJsonSchema

from aiplane.catalog.instances import load_catalog


def _known_ec2(name: str) -> str:
    load_catalog().ec2_instance(name)  # raises UnknownInstanceType with close matches
    return name


def _known_sagemaker(name: str) -> str:
    load_catalog().sagemaker_instance(name)
    return name


Ec2InstanceTypeName = Annotated[
    str,
    AfterValidator(_known_ec2),
    WithJsonSchema(
        {
            "type": "string",
            "enum": load_catalog().ec2_instance_names(),
            "description": "EC2 accelerated instance type from aiplane's catalog.",
        }
    ),
]

SageMakerInstanceTypeName = Annotated[
    str,
    AfterValidator(_known_sagemaker),
    WithJsonSchema(
        {
            "type": "string",
            "enum": load_catalog().sagemaker_instance_names(),
            "description": "SageMaker hosting instance type from aiplane's catalog.",
        }
    ),
]
