"""GPUNodePool: a pool of GPU or accelerator nodes in an EKS cluster, on-demand, spot or mixed."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from aiplane.authoring.api import (
    SUBNET_ID_PATTERN,
    CommonSpec,
    HourlyCost,
    PlatformAPI,
    PrinterColumn,
    QuotaAmount,
    Spec,
    immutable,
    labels_match,
)
from aiplane.authoring.formats import LabelKey, LabelValue
from aiplane.catalog.eks_amis import GPU_AMI_TYPES, ami_problem, is_al2
from aiplane.catalog.fields import Ec2InstanceTypeName
from aiplane.catalog.instances import Catalog, load_catalog
from aiplane.errors import ItemError

Capacity = Literal["onDemand", "spot", "mixed"]
GpuAmiType = Annotated[
    str,
    AfterValidator(lambda v: _known_ami(v)),
    WithJsonSchema({"type": "string", "enum": list(GPU_AMI_TYPES)}),
]


def _known_ami(value: str) -> str:
    if value not in GPU_AMI_TYPES:
        raise ValueError(f"amiType {value!r} is not one of {', '.join(GPU_AMI_TYPES)}")
    return value


class Scaling(Spec):
    """Node count bounds; for `mixed` they bound the spot node group on top of the on-demand base."""

    maxSize: int = Field(ge=1, le=1000)
    """Most nodes; cost and quota are checked at this size."""
    minSize: int = Field(ge=0, le=1000)
    """Fewest nodes."""
    desiredSize: int | None = Field(default=None, ge=0, le=1000)
    """Initial node count (set once at creation, so autoscalers own it afterwards)."""

    # The API server enforces the same bounds on XRs applied without aiplane.
    model_config = Spec.model_config | {
        "json_schema_extra": {
            "x-kubernetes-validations": [
                {"rule": "self.minSize <= self.maxSize", "message": "minSize must not exceed maxSize"},
                {
                    "rule": "!has(self.desiredSize) || (self.desiredSize >= self.minSize && self.desiredSize <= self.maxSize)",
                    "message": "desiredSize must lie between minSize and maxSize",
                },
            ]
        }
    }

    # maxSize is declared first so these validators can compare against it (pydantic validates in order).
    @field_validator("minSize")
    @classmethod
    def _min_within_max(cls, value: int, info: ValidationInfo) -> int:
        maximum = info.data.get("maxSize")
        if maximum is not None and value > maximum:
            raise ValueError(f"minSize ({value}) must not exceed maxSize ({maximum})")
        return value

    @field_validator("desiredSize")
    @classmethod
    def _desired_within_bounds(cls, value: int | None, info: ValidationInfo) -> int | None:
        low, high = info.data.get("minSize"), info.data.get("maxSize")
        if value is not None and low is not None and high is not None and not low <= value <= high:
            raise ValueError(f"desiredSize ({value}) must lie between minSize ({low}) and maxSize ({high})")
        return value


class Taint(Spec):
    """A Kubernetes taint on every node of the pool (EKS effect names)."""

    key: LabelKey = Field(min_length=1, max_length=63)
    value: LabelValue = Field(default="true", max_length=63)
    effect: Literal["NO_SCHEDULE", "NO_EXECUTE", "PREFER_NO_SCHEDULE"] = "NO_SCHEDULE"


def _xrd_rules(schema: dict[str, Any]) -> None:
    """What the XRD enforces beyond the fields: the mixed-capacity rules, and amiType as required. The
    model fills amiType from the instance family, but an XR applied without aiplane gets no such default
    (an XRD default cannot depend on another field), and the composition will not create a node group
    without one."""
    schema["x-kubernetes-validations"] = [
        {
            "rule": "self.capacity == 'mixed' || !has(self.onDemandBaseSize)",
            "message": "onDemandBaseSize is only meaningful with capacity mixed",
        },
        {
            "rule": "self.capacity != 'mixed' || has(self.onDemandBaseSize)",
            "message": "capacity mixed needs onDemandBaseSize",
        },
        {
            "rule": "has(self.subnetIds) != has(self.subnetSelector)",
            "message": "set exactly one of subnetIds and subnetSelector",
        },
    ]
    schema["required"] = sorted({*schema.get("required", []), "amiType"})


class GPUNodePoolSpec(CommonSpec):
    """GPU or accelerator nodes for AI workloads, as EKS managed node groups."""

    clusterName: str = Field(min_length=1, max_length=100, json_schema_extra=immutable("node groups belong to one cluster"))
    """EKS cluster the node groups join."""
    instanceTypes: list[Ec2InstanceTypeName] = Field(min_length=1, max_length=20)
    """Accelerated instance types (catalog types only); all of one accelerator maker."""
    capacity: Capacity = "onDemand"
    """onDemand, spot, or mixed (an on-demand base plus a spot node group)."""
    scaling: Scaling
    """Node count bounds."""
    onDemandBaseSize: int | None = Field(default=None, ge=1, le=1000)
    """mixed only: on-demand nodes always running beside the spot node group."""
    amiType: GpuAmiType | None = None
    """EKS AMI type; default NVIDIA AL2023 for p/g instances, Neuron AL2023 for inf/trn. AL2 is rejected."""
    labels: dict[LabelKey, LabelValue] = Field(default_factory=dict)
    """Kubernetes node labels (the accelerator's conventional label is added by default)."""
    taints: list[Taint] | None = Field(default=None, max_length=50)
    """Node taints; default taints the nodes for the accelerator's device plugin resource."""
    diskSizeGiB: int = Field(default=200, ge=20, le=16384)
    """Root volume size of each node."""
    kubernetesVersion: str | None = Field(default=None, pattern=r"^1\.[0-9]{2}$")
    """Kubernetes version of the nodes (e.g. 1.32); default: the cluster's. An in-place update."""
    releaseVersion: str | None = Field(default=None, pattern=r"^[0-9]+\.[0-9]+\.[0-9]+-[0-9]{8}$")
    """EKS-optimized AMI release (e.g. 1.32.3-20250519); default: the latest at creation. Patching the AMI is
    a Git change of this field (an in-place update of the node group)."""
    subnetIds: list[Annotated[str, Field(pattern=SUBNET_ID_PATTERN)]] | None = Field(
        default=None, min_length=1, max_length=16
    )
    """Subnet IDs of the node groups, literally (instead of subnetSelector)."""
    subnetSelector: dict[LabelKey, LabelValue] | None = Field(default=None, min_length=1)
    """Labels of the Subnet objects (ec2.aws.m.upbound.io, in the XR's namespace) the node groups use;
    aiplane writes them, observe-only, from the environment's `subnets`."""

    model_config = CommonSpec.model_config | {"json_schema_extra": lambda schema: _xrd_rules(schema)}

    @model_validator(mode="before")
    @classmethod
    def _reject_al2(cls, data: Any) -> Any:
        # Checked before the enum so the message says why AL2 is gone, not just that it is not listed.
        if isinstance(data, dict) and is_al2(str(data.get("amiType", ""))):
            raise ValueError(ami_problem(str(data["amiType"]), set()))
        return data

    @model_validator(mode="after")
    def _complete(self) -> GPUNodePoolSpec:
        catalog = load_catalog()
        makers = {catalog.ec2_instance(t).manufacturer for t in self.instanceTypes}
        if len(makers) > 1:
            raise ValueError(
                f"instanceTypes mix accelerator makers ({', '.join(sorted(makers))}); "
                "one pool needs one AMI type, so split them into two pools"
            )
        if self.capacity == "mixed" and self.onDemandBaseSize is None:
            raise ValueError(
                "capacity mixed needs onDemandBaseSize (the on-demand nodes under the spot burst)"
            )
        if self.capacity != "mixed" and self.onDemandBaseSize is not None:
            raise ValueError("onDemandBaseSize is only meaningful with capacity mixed")
        if (self.subnetIds is None) == (self.subnetSelector is None):
            raise ValueError("set exactly one of subnetIds and subnetSelector (the node groups' subnets)")
        neuron = makers == {"aws"}
        if self.amiType is None:
            self.amiType = catalog.ec2_instance(self.instanceTypes[0]).default_ami_type  # type: ignore[assignment]
        elif problem := ami_problem(
            self.amiType, makers, {catalog.ec2_instance(t).architecture for t in self.instanceTypes}
        ):
            raise ValueError(problem)
        if self.taints is None:
            # The device plugins advertise nvidia.com/gpu and aws.amazon.com/neuron; tainting on those keys
            # keeps non-accelerated pods off expensive nodes (reference crossplane.md §8, GPU conventions).
            self.taints = [Taint(key="aws.amazon.com/neuron" if neuron else "nvidia.com/gpu")]
        if not neuron:
            self.labels = {"nvidia.com/gpu.present": "true", **self.labels}
        return self


class NodeGroupStatus(BaseModel):
    """Observed state of one EKS node group."""

    status: str | None = None
    """EKS node group status (ACTIVE, CREATING, DEGRADED...)."""
    desiredSize: int | None = None
    """Current desired size, as the autoscaler left it."""


class GPUNodePoolStatus(BaseModel):
    """What the composed node groups report."""

    onDemand: NodeGroupStatus | None = None
    spot: NodeGroupStatus | None = None


def node_counts(spec: GPUNodePoolSpec) -> tuple[int, int]:
    """(on-demand nodes, spot nodes) at maximum scale."""
    if spec.capacity == "onDemand":
        return spec.scaling.maxSize, 0
    if spec.capacity == "spot":
        return 0, spec.scaling.maxSize
    return spec.onDemandBaseSize or 0, spec.scaling.maxSize


def _priciest(spec: GPUNodePoolSpec, catalog: Catalog) -> Any:
    return max((catalog.ec2_instance(t) for t in spec.instanceTypes), key=lambda i: i.on_demand_usd_per_hour)


def hourly_cost(spec: GPUNodePoolSpec, catalog: Catalog, spot_discount: float) -> HourlyCost:
    """Worst case: every node at max scale on-demand at the priciest listed type (spot can fall back
    to on-demand, and an autoscaler may pick any listed type). Expected: spot nodes at the discount."""
    price = _priciest(spec, catalog).on_demand_usd_per_hour
    on_demand, spot = node_counts(spec)
    return HourlyCost(
        worst_case=(on_demand + spot) * price, expected=on_demand * price + spot * price * (1 - spot_discount)
    )


def quota_demand(spec: GPUNodePoolSpec, catalog: Catalog) -> list[QuotaAmount]:
    """vCPUs the pool needs at max scale, per quota class and purchase option."""
    widest = max((catalog.ec2_instance(t) for t in spec.instanceTypes), key=lambda i: i.vcpus)
    on_demand, spot = node_counts(spec)
    out = []
    for purchase, nodes in (("onDemand", on_demand), ("spot", spot)):
        if nodes:
            out.append(QuotaAmount(spec.region, widest.quota_class, purchase, nodes * widest.vcpus))
    return out


def complete(item: dict[str, Any], env: Any) -> dict[str, Any]:
    """The environment supplies the cluster and the subnets unless the pool names its own. A selector must
    find at least one of the environment's observe-only subnets, or the node groups could never resolve
    their subnets (the provider looks only in the XR's namespace)."""
    item.setdefault("clusterName", env.clusterName)
    if "subnetIds" in item:
        return item
    if env.subnetSelector is not None:
        item.setdefault("subnetSelector", dict(env.subnetSelector))
    selector = item.get("subnetSelector")
    if isinstance(selector, dict) and selector:
        declared = env.subnet_labels()
        if not any(labels_match(selector, labels) for _, labels in declared):
            raise ItemError(
                "subnetSelector",
                f"no subnet of this environment matches {selector}: list the cluster's subnets under "
                "`subnets:` (aiplane observes them, in the namespace where the selector looks), or give "
                f"the pool `subnetIds` ({len(declared)} subnets declared)",
            )
    elif "subnetSelector" not in item:
        raise ItemError("subnetSelector", "the node groups need subnets: set `subnetIds`, or `subnetSelector` "
                        "and the environment's `subnets`")
    return item


API = PlatformAPI(
    kind="GPUNodePool",
    plural="gpunodepools",
    spec=GPUNodePoolSpec,
    status=GPUNodePoolStatus,
    description="A pool of GPU or accelerator nodes in an EKS cluster (on-demand, spot or mixed), "
    "with FinOps tags on every AWS resource.",
    environment_key="nodePools",
    # NodeGroup names `<env>-<name>-ondemand-<4 hex>` (EKS: at most 63; the revision hash of
    # aiplane.function.gpunodepool) with an environment name of at most 20.
    max_name_length=28,
    name_limit="its node groups are named <environment>-<name>-ondemand-<4 hex>, at most 63",
    printer_columns=(
        PrinterColumn("INSTANCE", ".spec.instanceTypes[0]"),
        PrinterColumn("CAPACITY", ".spec.capacity"),
        PrinterColumn("MAX", ".spec.scaling.maxSize", "integer"),
        PrinterColumn(
            "USD/H",
            ".metadata.annotations.{domain}/worst-case-usd-per-hour",
            description="Worst-case USD per hour at max scale, on-demand prices",
        ),
    ),
    complete=complete,
    optional_in_environment=("clusterName", "amiType"),
    hourly_cost=hourly_cost,
    quota_demand=quota_demand,
)
