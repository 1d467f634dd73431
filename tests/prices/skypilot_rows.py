"""Rows of SkyPilot's AWS catalog, verbatim: skypilot-org/skypilot-catalog `catalogs/v8/aws/vms.csv` at commit
00148f2af3672e2229b4f7bf8157d5a3f36e3c35 (the commit the shipped EC2 price files cite). The tests check the
shipped figures against them and run the extraction script on them."""

from __future__ import annotations

import csv
import io

COMMIT = "00148f2af3672e2229b4f7bf8157d5a3f36e3c35"
HEADER = "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,Region,AvailabilityZone,Arch"


def _a10g(workloads: str) -> str:
    return (
        "\"{'Gpus': [{'Name': 'A10G', 'Manufacturer': 'NVIDIA', 'Count': 1, 'LogicalGpuCount': 1, "
        f"'GpuPartitionSize': 1.0, 'Workloads': [{workloads}], 'MemoryInfo': {{'SizeInMiB': 22888}}}}], "
        "'TotalGpuMemoryInMiB': 22888}\""
    )


_H100 = (
    "\"{'Gpus': [{'Name': 'H100', 'Manufacturer': 'NVIDIA', 'Count': 8, 'LogicalGpuCount': 8, "
    "'GpuPartitionSize': 1.0, 'Workloads': ['ml-ai'], 'MemoryInfo': {'SizeInMiB': 81920}}], "
    "'TotalGpuMemoryInMiB': 655360}\""
)
_A100 = (
    "\"{'Gpus': [{'Name': 'A100', 'Manufacturer': 'NVIDIA', 'Count': 8, 'LogicalGpuCount': 8, "
    "'GpuPartitionSize': 1.0, 'Workloads': ['ml-ai'], 'MemoryInfo': {'SizeInMiB': 40960}}], "
    "'TotalGpuMemoryInMiB': 327680}\""
)


G5_WEST = _a10g("'graphics', 'ml-ai'")
G5_IRELAND = _a10g("'ml-ai', 'graphics'")

ROWS = (
    "\n".join(
        [
            HEADER,
            f"g5.xlarge,A10G,1.0,4.0,16.0,{G5_IRELAND},1.123,0.576500,eu-west-1,euw1-az1,x86_64",
            f"g5.xlarge,A10G,1.0,4.0,16.0,{G5_IRELAND},1.123,0.574600,eu-west-1,euw1-az2,x86_64",
            f"g5.xlarge,A10G,1.0,4.0,16.0,{G5_IRELAND},1.123,0.572700,eu-west-1,euw1-az3,x86_64",
            f"g5.xlarge,A10G,1.0,4.0,16.0,{G5_WEST},1.006,0.485700,us-west-2,usw2-az1,x86_64",
            f"g5.xlarge,A10G,1.0,4.0,16.0,{G5_WEST},1.006,0.513400,us-west-2,usw2-az2,x86_64",
            f"g5.xlarge,A10G,1.0,4.0,16.0,{G5_WEST},1.006,0.482900,us-west-2,usw2-az3,x86_64",
            f"p4d.24xlarge,A100,8.0,96.0,1152.0,{_A100},23.71569,9.759800,eu-west-1,euw1-az2,x86_64",
            f"p4d.24xlarge,A100,8.0,96.0,1152.0,{_A100},21.95764,7.999200,us-west-2,usw2-az1,x86_64",
            f"p4d.24xlarge,A100,8.0,96.0,1152.0,{_A100},21.95764,8.225900,us-west-2,usw2-az2,x86_64",
            f"p4d.24xlarge,A100,8.0,96.0,1152.0,{_A100},21.95764,9.731500,us-west-2,usw2-az3,x86_64",
            f"p4d.24xlarge,A100,8.0,96.0,1152.0,{_A100},21.95764,8.479400,us-west-2,usw2-az4,x86_64",
            f"p5.48xlarge,H100,8.0,192.0,2048.0,{_H100},55.04,10.239700,us-east-1,use1-atl2-az1,x86_64",
            f"p5.48xlarge,H100,8.0,192.0,2048.0,{_H100},55.04,55.040000,us-east-1,use1-az1,x86_64",
            f"p5.48xlarge,H100,8.0,192.0,2048.0,{_H100},55.04,19.253100,us-east-1,use1-az2,x86_64",
            f"p5.48xlarge,H100,8.0,192.0,2048.0,{_H100},55.04,21.154300,us-east-1,use1-az3,x86_64",
            f"p5.48xlarge,H100,8.0,192.0,2048.0,{_H100},55.04,55.040000,us-east-1,use1-az4,x86_64",
            f"p5.48xlarge,H100,8.0,192.0,2048.0,{_H100},55.04,25.752200,us-east-1,use1-az5,x86_64",
            f"p5.48xlarge,H100,8.0,192.0,2048.0,{_H100},55.04,17.628900,us-east-1,use1-az6,x86_64",
            f"p5.48xlarge,H100,8.0,192.0,2048.0,{_H100},55.04,12.693500,us-west-2,usw2-az1,x86_64",
            f"p5.48xlarge,H100,8.0,192.0,2048.0,{_H100},55.04,12.978500,us-west-2,usw2-az2,x86_64",
            f"p5.48xlarge,H100,8.0,192.0,2048.0,{_H100},55.04,12.972700,us-west-2,usw2-az3,x86_64",
            f"p5.48xlarge,H100,8.0,192.0,2048.0,{_H100},55.04,16.130100,us-west-2,usw2-az4,x86_64",
        ]
    )
    + "\n"
)


def rows() -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(ROWS)))


def on_demand(instance_type: str, region: str) -> float:
    """The source's on-demand price of a type in a region (the `Price` column, the same in every AZ row)."""
    prices = {
        float(r["Price"]) for r in rows() if r["InstanceType"] == instance_type and r["Region"] == region
    }
    assert len(prices) == 1, (instance_type, region, prices)
    return prices.pop()


def spot(instance_type: str, region: str) -> dict[str, float]:
    """The source's spot price per AZ ID of a type in a region."""
    return {
        r["AvailabilityZone"]: float(r["SpotPrice"])
        for r in rows()
        if r["InstanceType"] == instance_type and r["Region"] == region
    }
