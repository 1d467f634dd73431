"""A moto server on 127.0.0.1 in this process, for tests that run aiplane (or its evaluator) as a separate
process against it through AWS_ENDPOINT_URL."""

from __future__ import annotations

import socket
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def serving_moto() -> Iterator[str]:
    """The server's URL; its state is reset before and after (moto's state is per process)."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    reset = urllib.request.Request(f"{url}/moto-api/reset", method="POST")
    urllib.request.urlopen(reset).close()
    try:
        yield url
    finally:
        urllib.request.urlopen(reset).close()
        server.stop()


# Variables that could point boto3 at a real account, profile or endpoint.
AWS_VARIABLES = ("AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN",
                 "AWS_SECURITY_TOKEN")


def offline_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, account: str | None = None) -> None:
    """Fake keys only, and no shared config or instance metadata that could reach a real account; moto
    answers as `account` when given."""
    for name in AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    if account is not None:
        monkeypatch.setenv("MOTO_ACCOUNT_ID", account)
