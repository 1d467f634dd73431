"""EKS AMI types for accelerated node groups (AWS CDK `aws_eks.NodegroupAmiType`; reference
finops-and-ethics.md §7): the one list the GPUNodePool schema and the gpu-ami-supported rule share.

Amazon Linux 2 (`AL2_x86_64_GPU`) is absent on purpose: EKS AL2 AMIs reached end of support on
2025-11-26 and Kubernetes 1.32 is the last version with AL2 AMIs.
"""

from __future__ import annotations

NVIDIA_AMI_TYPES = (
    "AL2023_x86_64_NVIDIA",
    "AL2023_ARM_64_NVIDIA",
    "BOTTLEROCKET_x86_64_NVIDIA",
    "BOTTLEROCKET_ARM_64_NVIDIA",
)
NEURON_AMI_TYPES = ("AL2023_x86_64_NEURON",)
GPU_AMI_TYPES = NVIDIA_AMI_TYPES + NEURON_AMI_TYPES
AL2_END_OF_SUPPORT = "2025-11-26"

# Accelerator makers in the catalog → the AMI types whose drivers they need.
AMI_TYPES_BY_MAKER = {"nvidia": NVIDIA_AMI_TYPES, "aws": NEURON_AMI_TYPES}


def is_al2(ami_type: str) -> bool:
    return ami_type.startswith("AL2_")


def ami_architecture(ami_type: str) -> str:
    """The CPU architecture an AMI type is built for (EKS names carry it: `_x86_64_` or `_ARM_64_`)."""
    return "arm64" if "_ARM_64_" in ami_type else "x86_64"


def ami_problem(
    ami_type: str, makers: set[str], architectures: frozenset[str] | set[str] = frozenset()
) -> str | None:
    """Why an AMI type cannot run nodes with accelerators of these makers and CPU architectures
    (catalog values; None: it can)."""
    if is_al2(ami_type):
        return (
            f"amiType {ami_type}: Amazon Linux 2 EKS AMIs reached end of support on {AL2_END_OF_SUPPORT}; "
            "use AL2023_x86_64_NVIDIA (p/g) or AL2023_x86_64_NEURON (inf/trn)"
        )
    for maker in sorted(makers):
        allowed = AMI_TYPES_BY_MAKER.get(maker, ())
        if ami_type not in allowed:
            driver = "Neuron" if maker == "aws" else "NVIDIA"
            return (
                f"amiType {ami_type} has no {driver} driver; these instances need one of {', '.join(allowed)}"
            )
    wrong = sorted(a for a in architectures if a != ami_architecture(ami_type))
    if wrong:
        return f"amiType {ami_type} is built for {ami_architecture(ami_type)}, the instances are {', '.join(wrong)}"
    return None
