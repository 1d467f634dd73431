"""A moto server on 127.0.0.1 in this process, for tests that run aiplane (or its evaluator) as a separate
process against it through AWS_ENDPOINT_URL."""

from __future__ import annotations

import socket
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

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
