"""`aiplane audit` never hangs and never shows a traceback: an overall deadline (flag, [tool.aiplane]
setting, default 120 s) stops it against an endpoint that accepts and never answers or answers a byte
at a time; a malformed AWS_CONFIG_FILE, an AWS_ENDPOINT_URL that is not a URL and a 200 answer that is
not XML each give one line and exit 2. The servers are local (127.0.0.1) and every loop is bounded."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto_local import offline_aws

from aiplane.cli import main
from aiplane.project import DEFAULT_AUDIT_DEADLINE, load_settings

ROOT = Path(__file__).resolve().parents[2]
HYPOTHESIS = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(autouse=True)
def offline_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Fake keys, no shared config, no instance metadata: nothing can reach a real account."""
    monkeypatch.chdir(ROOT)
    offline_aws(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")


def audit(*args: str) -> Result:
    return CliRunner().invoke(main, ["audit", "--env", "prod", *args])


def assert_one_line_exit_2(result: Result, *words: str) -> str:
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


class LocalServer:
    """A TCP server on 127.0.0.1 that serves each connection with `serve` until stopped."""

    def __init__(self, serve: Callable[[socket.socket, threading.Event], None]) -> None:
        self.serve = serve
        self.stop = threading.Event()
        self.connections = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.threads = [threading.Thread(target=self._accept, daemon=True)]
        self.threads[0].start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            thread = threading.Thread(target=self._handle, args=(conn,), daemon=True)
            thread.start()
            self.threads.append(thread)

    def _handle(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            self.serve(conn, self.stop)

    def close(self) -> None:
        self.stop.set()
        self.sock.close()
        for thread in self.threads:
            thread.join(timeout=5)


def never_answers(conn: socket.socket, stop: threading.Event) -> None:
    stop.wait(30)  # holds the connection open, says nothing; bounded even if never stopped


def drips(conn: socket.socket, stop: threading.Event) -> None:
    conn.recv(65536)
    conn.sendall(b"HTTP/1.1 200 OK\r\nX-Drip: ")
    for _ in range(600):  # one byte every 50 ms: never a read timeout, never a whole answer
        if stop.wait(0.05):
            return
        conn.sendall(b"a")


def answers(body: bytes) -> Callable[[socket.socket, threading.Event], None]:
    def serve(conn: socket.socket, stop: threading.Event) -> None:
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
                     + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)

    return serve


@pytest.fixture
def server(request: pytest.FixtureRequest) -> Iterator[LocalServer]:
    running = LocalServer(request.param)
    yield running
    running.close()


@pytest.mark.parametrize("server", [never_answers, drips], indirect=True, ids=["never-answers", "drips"])
def test_the_deadline_stops_an_audit_against_an_endpoint_that_does_not_answer(
        server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
    start = time.monotonic()
    result = audit("--deadline", "4")
    elapsed = time.monotonic() - start
    assert_one_line_exit_2(result, "deadline of 4 s", "--deadline")
    assert server.connections >= 1, "the audit must have reached the endpoint before giving up"
    assert elapsed < 15


def test_the_deadline_defaults_to_120_s_and_is_a_project_setting(tmp_path: Path) -> None:
    assert load_settings(ROOT).audit_deadline == DEFAULT_AUDIT_DEADLINE == 120.0
    project = tmp_path / "p"
    project.mkdir()
    (project / "pyproject.toml").write_text('[tool.aiplane]\naudit-deadline = 7.5\n')
    assert load_settings(project).audit_deadline == 7.5


@pytest.mark.parametrize("value", ["0", "-1", "true", '"60"', "nan", "inf"])
def test_a_deadline_setting_that_is_not_a_positive_number_is_refused(value: str, tmp_path: Path) -> None:
    from aiplane.errors import InputError

    (tmp_path / "pyproject.toml").write_text(f"[tool.aiplane]\naudit-deadline = {value}\n")
    with pytest.raises(InputError, match="audit-deadline must be a positive number"):
        load_settings(tmp_path)


@pytest.mark.parametrize("value", ["0", "-5", "abc", "nan"])
def test_a_deadline_flag_that_is_not_a_positive_number_is_refused(value: str) -> None:
    result = audit("--deadline", value)
    assert result.exit_code == 2 and "Traceback" not in result.output


@HYPOTHESIS
@given(body=st.binary(max_size=200).filter(lambda b: not b.lstrip().startswith(b"<")))
def test_a_200_answer_that_is_not_xml_is_one_line_and_exit_2(body: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    running = LocalServer(answers(body))
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL", running.url)
        assert_one_line_exit_2(audit("--deadline", "20"), "AWS")
    finally:
        running.close()


@HYPOTHESIS
@given(url=st.one_of(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789.-_ :/", min_size=1, max_size=30).filter(
        lambda u: not u.startswith(("http://", "https://")) and u.strip()),
    st.sampled_from(["http://", "https://", "ftp://example.com", "http://:80", "http://host:port",
                     "localhost:4566", "127.0.0.1", "//x"]),
))
def test_an_endpoint_url_that_is_not_a_url_is_one_line_and_exit_2(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    assert_one_line_exit_2(audit("--deadline", "20"), "AWS_ENDPOINT_URL is not an http(s) URL")


@HYPOTHESIS
@given(text=st.sampled_from(["[default\nregion = x", "region = us-east-1\n", "[profile a]\n= b\n",
                             "[default]\n  indented = 1\nx"]) | st.text(alphabet="[]=\n ab", max_size=40))
def test_a_malformed_aws_config_file_is_one_line_and_exit_2(text: str, tmp_path_factory: pytest.TempPathFactory,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import configparser

    try:
        configparser.RawConfigParser().read_string(text)
    except configparser.Error:
        pass
    else:
        return  # a file configparser accepts is not malformed
    path = tmp_path_factory.mktemp("aws") / "config"
    path.write_text(text)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(path))
    assert_one_line_exit_2(audit("--deadline", "20"), "AWS")
