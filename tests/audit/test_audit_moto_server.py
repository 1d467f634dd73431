"""End to end: `aiplane audit` as a separate process against a moto server on 127.0.0.1, reached only
through AWS_ENDPOINT_URL and fake credentials, exactly as a user would run it locally."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from audit_fixtures import ACCOUNT, REGION, prod_account, run_instance, seed
from moto_local import serving_moto

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def moto_server(fake_credentials: None, sagemaker_g5: None) -> Iterator[str]:
    """A moto server in this process (so prod's account id and the ml.g5 workaround apply to it)."""
    with serving_moto() as url:
        yield url


def run_audit_process(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTO_"))}
    env.update(AWS_ENDPOINT_URL=url, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_EC2_METADATA_DISABLED="true")
    return subprocess.run([sys.executable, "-m", "aiplane.cli", "audit", "--env", "prod", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_audit_process_against_a_moto_server(moto_server: str) -> None:
    def client(service: str) -> Any:
        return boto3.client(service, region_name=REGION, endpoint_url=moto_server)

    make: Callable[[str], Any] = client
    seed(prod_account(), make)

    clean = run_audit_process(moto_server, "--format", "json")
    assert clean.returncode == 0, clean.stderr
    report = json.loads(clean.stdout)
    assert (report["account"], report["findings"]) == (ACCOUNT, [])
    assert report["summary"]["unchecked"] == 6  # moto has no EC2 or SageMaker quotas

    [leak] = run_instance(client("ec2"), "g6.12xlarge", {"tier": "batch"})
    client("s3").delete_public_access_block(Bucket=f"prod-artifacts-{ACCOUNT}")
    found = run_audit_process(moto_server)
    assert found.returncode == 1, found.stderr
    text = found.stdout
    assert f"ec2:instance arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{leak}" in text
    assert "missing tags cost-center, owner, environment" in text
    assert sum(line.startswith("  bucket-weak") for line in text.splitlines()) == 4
    assert text.splitlines()[-1].startswith("5 finding(s): 1 cost-leak, 4 bucket-weak; untagged capacity costs $")
