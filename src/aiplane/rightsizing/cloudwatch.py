"""Utilization history from CloudWatch (boto3 `GetMetricData`, one sample an hour: the hour's Maximum, or Sum
for invocations), through audit's clients (retries, AWS_ENDPOINT_URL) after audit's account check.

Metrics, dimensions and units (AWS documentation):
- SageMaker endpoints, "Amazon SageMaker AI metrics in Amazon CloudWatch"
  (https://docs.aws.amazon.com/sagemaker/latest/dg/monitoring-cloudwatch.html): `Invocations` in `AWS/SageMaker`
  (count, Sum), dimensions EndpointName, VariantName; `GPUUtilization`, `GPUMemoryUtilization` and
  `CPUUtilization` in `/aws/sagemaker/Endpoints`, same dimensions, percent, each 0-100 *per GPU or core and
  summed*: four GPUs read 0-400 %. They are divided here by the instance type's GPUs or vCPUs (catalog).
- EKS node group size: an EKS managed node group is an EC2 Auto Scaling group (`describe_nodegroup`
  resources.autoScalingGroups), and Auto Scaling publishes `GroupInServiceInstances` in `AWS/AutoScaling`,
  dimension AutoScalingGroupName, once group metrics collection is enabled ("Monitor CloudWatch metrics for
  your Auto Scaling groups and instances", EC2 Auto Scaling User Guide; API EnableMetricsCollection).
  Container Insights' `cluster_node_count` has only ClusterName, so it cannot tell pools apart.
- GPU use of nodes, Container Insights with enhanced observability ("Amazon EKS and Kubernetes Container
  Insights with enhanced observability metrics", CloudWatch User Guide): `node_gpu_utilization` and
  `node_gpu_memory_utilization` in `ContainerInsights`, percent, dimensions ClusterName, InstanceId, NodeName.
  No dimension names the node group, so a node's samples are attributed through its instance's
  `aws:autoscaling:groupName` tag (EC2 Auto Scaling tags every instance it launches). Instances already gone
  from EC2 cannot be attributed: their samples are skipped and counted in the history's notes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiplane.audit.declared import DeclaredState
from aiplane.audit.live import Clients
from aiplane.audit.run import live_revision
from aiplane.catalog.instances import Catalog
from aiplane.rightsizing.history import (
    CPU_UTILIZATION,
    GPU_MEMORY_USED_GIB,
    GPU_UTILIZATION,
    INSTANCES,
    INVOCATIONS,
    SAMPLE_SECONDS,
    History,
    Sample,
    Window,
    Workload,
)

SAGEMAKER = "AWS/SageMaker"
SAGEMAKER_ENDPOINTS = "/aws/sagemaker/Endpoints"
AUTOSCALING = "AWS/AutoScaling"
CONTAINER_INSIGHTS = "ContainerInsights"
ASG_TAG = "aws:autoscaling:groupName"
MAX_QUERIES = 500  # GetMetricData's limit of MetricDataQueries per call


@dataclass(frozen=True)
class _Query:
    workload: Workload
    metric: str  # canonical metric
    namespace: str
    name: str  # CloudWatch metric name
    dimensions: tuple[tuple[str, str], ...]
    stat: str
    scale: float  # canonical value = CloudWatch value * scale


def read_cloudwatch(declared: DeclaredState, clients: Clients, catalog: Catalog, window: Window) -> History:
    """Every declared endpoint's and node pool's history over `window` (the caller has checked the account)."""
    history = History("cloudwatch", window)
    region = declared.region
    queries = list(_endpoint_queries(declared, catalog))
    pools = _pool_groups(declared, clients)
    queries += [
        _Query(pool, INSTANCES, AUTOSCALING, "GroupInServiceInstances", (("AutoScalingGroupName", asg),), "Maximum", 1.0)
        for pool, (_, asgs) in sorted(pools.items())
        for asg in asgs
    ]
    # Node pool instance counts are summed over the pool's Auto Scaling groups (on-demand and spot).
    counts: dict[Workload, dict[datetime, float]] = {}
    for query, samples in _fetch(clients, region, queries, window):
        if query.metric == INSTANCES and query.workload.kind == "GPUNodePool":
            per_hour = counts.setdefault(query.workload, {})
            for s in samples:
                per_hour[s.at] = per_hour.get(s.at, 0.0) + s.value
        else:
            history.add(query.workload, query.metric, samples)
    for pool, per_hour in counts.items():
        history.add(pool, INSTANCES, [Sample(t, v) for t, v in per_hour.items()])
    _read_node_gpus(declared, clients, catalog, window, pools, history)
    return history


def _endpoint_queries(declared: DeclaredState, catalog: Catalog) -> Iterator[_Query]:
    for endpoint in declared.endpoints:
        workload = Workload("ModelEndpoint", endpoint.origin.name)
        for variant in endpoint.variants:
            dims = (("EndpointName", endpoint.name), ("VariantName", variant.name))
            yield _Query(workload, INVOCATIONS, SAGEMAKER, "Invocations", dims, "Sum", 1.0)
            hardware = catalog.sagemaker_instance(str(variant.instance_type))
            yield _Query(workload, CPU_UTILIZATION, SAGEMAKER_ENDPOINTS, "CPUUtilization", dims, "Maximum",
                         1.0 / hardware.vcpus)
            gpus = hardware.accelerator_count
            if gpus and hardware.ec2_equivalent:
                memory = catalog.ec2_instance(hardware.ec2_equivalent).accelerator_memory_gib
                yield _Query(workload, GPU_UTILIZATION, SAGEMAKER_ENDPOINTS, "GPUUtilization", dims, "Maximum",
                             1.0 / gpus)
                yield _Query(workload, GPU_MEMORY_USED_GIB, SAGEMAKER_ENDPOINTS, "GPUMemoryUtilization", dims,
                             "Maximum", memory / 100 / gpus)


def _pool_groups(declared: DeclaredState, clients: Clients) -> dict[Workload, tuple[list[str], list[str]]]:
    """Per node pool: its live EKS node groups (any revision of the declared ones) and their ASGs."""
    out: dict[Workload, tuple[list[str], list[str]]] = {}
    for cluster in sorted({ng.cluster for ng in declared.node_groups}):
        eks = clients.client("eks", declared.region)
        names = [n for page in clients.pages("eks", declared.region, "list_nodegroups", clusterName=cluster)
                 for n in page.get("nodegroups", [])]
        for ng in declared.node_groups:
            live = live_revision(ng.name, names) if ng.cluster == cluster else None
            if live is None:
                continue
            group = eks.describe_nodegroup(clusterName=cluster, nodegroupName=live)["nodegroup"]
            asgs = [a["name"] for a in (group.get("resources") or {}).get("autoScalingGroups") or []]
            groups, known = out.setdefault(Workload("GPUNodePool", ng.origin.name), ([], []))
            groups.append(live)
            known += asgs
    return out


def _read_node_gpus(
    declared: DeclaredState,
    clients: Clients,
    catalog: Catalog,
    window: Window,
    pools: dict[Workload, tuple[list[str], list[str]]],
    history: History,
) -> None:
    pool_of_asg = {asg: pool for pool, (_, asgs) in pools.items() for asg in asgs}
    if not pool_of_asg:
        return
    memory_of = {
        Workload("GPUNodePool", ng.origin.name): max(catalog.ec2_instance(t).accelerator_memory_gib
                                                     for t in ng.instance_types)
        for ng in declared.node_groups if ng.instance_types
    }
    pool_of_instance: dict[str, Workload] = {}
    for page in clients.pages("ec2", declared.region, "describe_instances",
                              Filters=[{"Name": f"tag:{ASG_TAG}", "Values": sorted(pool_of_asg)}]):
        for reservation in page.get("Reservations", []):
            for instance in reservation.get("Instances", []):
                tags = {t["Key"]: t["Value"] for t in instance.get("Tags") or []}
                if tags.get(ASG_TAG) in pool_of_asg:
                    pool_of_instance[instance["InstanceId"]] = pool_of_asg[tags[ASG_TAG]]
    queries: list[_Query] = []
    unattributed = 0
    for cluster in sorted({ng.cluster for ng in declared.node_groups}):
        for metric, name in ((GPU_UTILIZATION, "node_gpu_utilization"),
                             (GPU_MEMORY_USED_GIB, "node_gpu_memory_utilization")):
            for page in clients.pages("cloudwatch", declared.region, "list_metrics", Namespace=CONTAINER_INSIGHTS,
                                      MetricName=name, Dimensions=[{"Name": "ClusterName", "Value": cluster}]):
                for found in page.get("Metrics", []):
                    dims = {d["Name"]: d["Value"] for d in found.get("Dimensions", [])}
                    if set(dims) != {"ClusterName", "InstanceId", "NodeName"}:
                        continue
                    pool = pool_of_instance.get(dims["InstanceId"])
                    if pool is None:
                        unattributed += 1
                        continue
                    scale = 1.0 if metric == GPU_UTILIZATION else memory_of.get(pool, 0.0) / 100
                    queries.append(_Query(pool, metric, CONTAINER_INSIGHTS, name, tuple(sorted(dims.items())),
                                          "Maximum", scale))
    for query, samples in _fetch(clients, declared.region, queries, window):
        history.add(query.workload, query.metric, samples)  # the busiest node's hour
    if unattributed:
        history.notes.append(
            f"{unattributed} Container Insights GPU series belong to instances no longer in EC2 or in no "
            "declared pool; their samples are not counted"
        )


def _fetch(
    clients: Clients, region: str, queries: Sequence[_Query], window: Window
) -> Iterator[tuple[_Query, list[Sample]]]:
    cloudwatch = clients.client("cloudwatch", region)
    for start in range(0, len(queries), MAX_QUERIES):
        batch = queries[start : start + MAX_QUERIES]
        request: dict[str, Any] = {
            "MetricDataQueries": [
                {
                    "Id": f"q{i}",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": q.namespace,
                            "MetricName": q.name,
                            "Dimensions": [{"Name": k, "Value": v} for k, v in q.dimensions],
                        },
                        "Period": SAMPLE_SECONDS,
                        "Stat": q.stat,
                    },
                    "ReturnData": True,
                }
                for i, q in enumerate(batch)
            ],
            "StartTime": window.start,
            "EndTime": window.end,
            "ScanBy": "TimestampAscending",
        }
        found: dict[int, list[Sample]] = {}
        while True:
            answer = cloudwatch.get_metric_data(**request)
            for result in answer.get("MetricDataResults", []):
                index = int(str(result["Id"])[1:])
                scale = batch[index].scale
                found.setdefault(index, []).extend(
                    Sample(t, float(v) * scale) for t, v in zip(result.get("Timestamps", []),
                                                                result.get("Values", []), strict=False)
                )
            token = answer.get("NextToken")
            if not token:
                break
            request["NextToken"] = token
        for index, query in enumerate(batch):
            yield query, found.get(index, [])
