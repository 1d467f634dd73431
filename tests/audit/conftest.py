"""Audit fixtures: prod's declared state (synthesized once) and a moto account with prod's identity."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from audit_fixtures import ACCOUNT, REGION
from moto import mock_aws
from moto.sagemaker.models import FakeEndpointConfig
from moto_local import offline_aws

from aiplane.audit.declared import DeclaredState, from_synthesis
from aiplane.catalog.instances import load_catalog
from aiplane.project import load_settings
from aiplane.synthesis.pipeline import synthesize


@pytest.fixture(scope="session")
def declared() -> DeclaredState:
    settings = load_settings()
    return from_synthesis(synthesize(settings, ["prod"]), "prod", settings.group)


@pytest.fixture
def fake_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """Fake keys only, and no shared config or instance metadata that could reach a real account."""
    offline_aws(monkeypatch, tmp_path, ACCOUNT)


@pytest.fixture
def sagemaker_g5(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto 5.2's list of SageMaker hosting types predates ml.g5 (prod's chat-assistant runs on
    ml.g5.2xlarge): accept the types aiplane's catalog knows as well as moto's own."""
    original = FakeEndpointConfig.validate_instance_type

    def validate(self: FakeEndpointConfig, instance_type: str) -> None:
        if instance_type not in load_catalog().sagemaker_instances:
            original(self, instance_type)

    monkeypatch.setattr(FakeEndpointConfig, "validate_instance_type", validate)


@pytest.fixture
def aws(fake_credentials: None, sagemaker_g5: None) -> Iterator[Callable[[str], Any]]:
    """An empty moto account 777788889999 (prod's); yields a client factory for seeding it."""
    with mock_aws():
        yield lambda service: boto3.client(service, region_name=REGION)
