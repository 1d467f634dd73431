"""Run the real Crossplane engine built by conformance/build_tools.py: serve the composition functions on
127.0.0.1, render XRs through the core, validate with the Crossplane CLI.

Every process started here is stopped on the way out, also when a render fails or the test is interrupted.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / ".tools"
RUNTIME = "render.crossplane.io/runtime"
RUNTIME_TARGET = "render.crossplane.io/runtime-development-target"
RESOURCE_NAME = "crossplane.io/composition-resource-name"


# Characters go-yaml refuses raw in its input (its is_printable), written as JSON \u escapes instead.
_NOT_PRINTABLE_FOR_GO_YAML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufeff\ufffe\uffff]")


def json_for_go_yaml(obj: Any) -> str:
    """`obj` as a JSON document (YAML's subset) that Go's YAML reader takes: UTF-8 kept (its reader refuses
    the surrogate pairs ensure_ascii would write), the characters it refuses raw escaped."""
    text = json.dumps(obj, ensure_ascii=False)
    return _NOT_PRINTABLE_FOR_GO_YAML.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class EngineError(RuntimeError):
    """The real engine refused the input; the message is the engine's own."""


@dataclass(frozen=True)
class Tools:
    """The tools listed in .tools/manifest.json, by name, with their argv resolved against the repository."""

    entries: Mapping[str, Mapping[str, Any]]

    @classmethod
    def load(cls, tools_dir: Path = TOOLS) -> Tools:
        data = json.loads((tools_dir / "manifest.json").read_text())
        return cls({t["name"]: t for t in data["tools"]})

    def argv(self, name: str, **subst: str) -> list[str]:
        out = []
        for i, arg in enumerate(self.entries[name]["command"]):
            arg = arg.format(**subst) if subst else arg
            out.append(str(ROOT / arg) if i == 0 and not Path(arg).is_absolute() else arg)
        return out

    def functions(self) -> list[str]:
        return [n for n, t in self.entries.items() if "{address}" in " ".join(t["command"])]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_listening(address: str, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    host, port = address.rsplit(":", 1)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise EngineError(f"function server exited with status {proc.returncode} before listening on {address}")
        try:
            with socket.create_connection((host, int(port)), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise EngineError(f"function server did not listen on {address} within {timeout:.0f} s")


@contextmanager
def serve_functions(tools: Tools, names: Sequence[str] | None = None) -> Iterator[dict[str, str]]:
    """Start each function as a local gRPC server (`--insecure --address=127.0.0.1:PORT`); yield name → address."""
    with ExitStack() as stack:
        addresses: dict[str, str] = {}
        for name in names if names is not None else tools.functions():
            address = f"127.0.0.1:{_free_port()}"
            proc = subprocess.Popen(
                tools.argv(name, address=address), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            stack.callback(_stop, proc)
            _wait_listening(address, proc)
            addresses[name] = address
        yield addresses


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def functions_document(addresses: Mapping[str, str]) -> str:
    """The FUNCTIONS file of `composition render`: each Function marked as a Development runtime at its address."""
    docs = [
        {
            "apiVersion": "pkg.crossplane.io/v1",
            "kind": "Function",
            "metadata": {"name": name, "annotations": {RUNTIME: "Development", RUNTIME_TARGET: address}},
            "spec": {"package": f"local/{name}"},
        }
        for name, address in sorted(addresses.items())
    ]
    return yaml.safe_dump_all(docs, sort_keys=False)


@dataclass(frozen=True)
class Rendered:
    xr: dict[str, Any]
    composed: list[dict[str, Any]]

    def by_resource_name(self) -> dict[str, dict[str, Any]]:
        return {((c.get("metadata") or {}).get("annotations") or {}).get(RESOURCE_NAME, ""): c for c in self.composed}


class Engine:
    """`composition render` and `validate` with the tools in .tools/manifest.json, in one scratch folder.

    Two modes, chosen by the manifest:
    - development (built here from source): our `composition-render` client drives `crossplane-core`, the
      functions run as local servers, and the Crossplane CLI v2.2 (the newest the Go module proxy serves)
      validates with `beta validate`;
    - cli (no Go, the Crossplane CLI v2.3.4 on PATH): `crossplane composition render` runs the core and the
      functions pinned in manifests/ through Docker, and `crossplane resource validate` validates. This mode
      cannot run on the machine aiplane is built on (no Docker registry there) and is not exercised in CI.
    """

    def __init__(self, tools: Tools, functions_file: Path, scratch: Path) -> None:
        self.tools = tools
        self.functions_file = functions_file
        self.scratch = scratch
        self.cli_mode = "composition-render" not in tools.entries
        self._n = 0

    def _write(self, stem: str, objs: Sequence[Mapping[str, Any]]) -> Path:
        self._n += 1
        path = self.scratch / f"{self._n:05d}-{stem}.yaml"
        path.write_text("".join(f"---\n{json_for_go_yaml(o)}\n" for o in objs))
        return path

    def render(
        self,
        xr: Mapping[str, Any],
        composition: Mapping[str, Any],
        xrd: Mapping[str, Any],
        observed: Sequence[Mapping[str, Any]] = (),
    ) -> Rendered:
        files = [str(self._write("xr", [xr])), str(self._write("composition", [composition])), str(self.functions_file)]
        flags = ["--xrd", str(self._write("xrd", [xrd])), "--include-full-xr"]
        if observed:
            flags += ["--observed-resources", str(self._write("observed", observed))]
        if self.cli_mode:
            argv = [*self.tools.argv("crossplane"), "composition", "render", *files, *flags]
        else:
            core = self.tools.argv("crossplane-core")[0]
            argv = [*self.tools.argv("composition-render"), "composition", "render", *files, *flags,
                    "--crossplane-binary", core, "--output", "json"]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=180, check=False)
        if done.returncode != 0:
            raise EngineError(done.stderr.strip() or f"render exited with status {done.returncode}")
        docs = list(yaml.load_all(done.stdout, GoYAMLLoader)) if self.cli_mode else json.loads(done.stdout)
        docs = [d for d in docs if d]
        return Rendered(xr=docs[0], composed=docs[1:])

    def validate(
        self, extensions: Sequence[Path], resources: Path, cache_dir: Path, crossplane_image: str
    ) -> subprocess.CompletedProcess[str]:
        """Offline validation: CRDs/XRDs from `extensions`, objects from `resources`; the core CRDs from
        `cache_dir`, pre-seeded for `crossplane_image`."""
        ext_dir = self.scratch / f"extensions-{self._n}"
        ext_dir.mkdir(exist_ok=True)
        for i, path in enumerate(extensions):
            (ext_dir / f"{i:04d}-{path.name}").write_bytes(path.read_bytes())
        command = ["resource", "validate"] if self.cli_mode else ["beta", "validate"]
        argv = [*self.tools.argv("crossplane"), *command, str(ext_dir), str(resources),
                "--cache-dir", str(cache_dir), "--crossplane-image", crossplane_image, "--skip-success-results"]
        return subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)


class GoYAMLLoader(yaml.SafeLoader):
    """Reads what Go's YAML printer (go-yaml v2, via sigs.k8s.io/yaml) writes. It quotes every string it
    would itself read as another type, but YAML 1.1 readers also read `=` as a value tag, `1:20` as
    base 60 and dates as timestamps, which Go writes plain: those stay strings here."""


GoYAMLLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag.rsplit(":", 1)[-1] not in ("value", "timestamp", "int", "float")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
GoYAMLLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"),
)
GoYAMLLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."),
)


def functions_for(tools: Tools, addresses: Mapping[str, str], scratch: Path) -> Path:
    """The FUNCTIONS file: our local servers (development mode) or the pinned packages from manifests/."""
    path = scratch / "functions.yaml"
    if addresses:
        path.write_text(functions_document(addresses))
    else:
        packages = ROOT / "manifests" / "platform" / "packages"
        docs = [d for p in sorted(packages.glob("function-*.yaml")) for d in yaml.safe_load_all(p.read_text()) if d]
        path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return path


@contextmanager
def running_engine(tools_dir: Path = TOOLS) -> Iterator[Engine]:
    """Serve every function in the manifest and yield an Engine wired to them; all stopped on exit."""
    tools = Tools.load(tools_dir)
    with serve_functions(tools) as addresses, tempfile.TemporaryDirectory(prefix="aiplane-conformance-") as tmp:
        scratch = Path(tmp)
        yield Engine(tools, functions_for(tools, addresses, scratch), scratch)
