"""Build the real Crossplane tools the conformance suite runs, from source at pinned versions, into .tools/.

    python conformance/build_tools.py [--tools DIR] [--force]

What is built, and where each pin lives (one place each):
- the Crossplane core, `.tools/bin/crossplane-core`, and `.tools/bin/composition-render` (the client that
  stands in for `crossplane composition render`): the module in conformance/engine/ (its go.mod pins the tag);
- the Crossplane CLI, `.tools/bin/crossplane`, for `crossplane beta validate`: CLI_MODULE/CLI_VERSION below;
- every composition function the Compositions reference: its version is the one the Function package object
  pins (src/aiplane/data/packages.yaml `functions`), its source module is in the same file (`function-sources`);
- function-aiplane, aiplane's own function: a virtual environment, `.tools/function-aiplane/`, with the
  pyproject `function` extra (crossplane-function-sdk-python, pinned there) and this checkout installed
  editable without its dependencies, so it serves the working tree's src/aiplane/function as the image does.

Each tool is rebuilt only when its stamp in `.tools/manifest.json` does not match the pin (or --force). The CLI
is taken from PATH instead of built when its version matches; without Go at all, the Crossplane CLI v2.3.4 on
PATH is used alone and runs the core and the functions through Docker (see realengine.Engine). The manifest lists, per tool, its name (for a function: its Function
object's name in manifests/), version, source and the argv that runs it (`{address}` stands for host:port).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import tomllib
import venv
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
ENGINE_MODULE = ROOT / "conformance" / "engine"
PACKAGES = ROOT / "src" / "aiplane" / "data" / "packages.yaml"

# The Crossplane CLI. github.com/crossplane/cli/v2 (where the CLI lives from v2.3 on) is not served by the
# Go module proxy at any version (403 "This module version is not available", checked 2026-12-01), so the
# newest CLI that is served is built: crossplane/crossplane v2.2.0 `cmd/crank`. Only its
# `beta validate` is used (Kubernetes' own CRD validation code); rendering uses the v2.3 core.
CLI_MODULE = "github.com/crossplane/crossplane/v2"
CLI_PACKAGE = "github.com/crossplane/crossplane/v2/cmd/crank"
CLI_VERSION = "v2.2.0"
# Where each build stamps its version (what `version` prints): the v2.3 core uses crossplane-runtime's package
# (crossplane/cli nix/build.nix), crank v2.2 its own internal/version.
VERSION_LDFLAG = "-X=github.com/crossplane/crossplane-runtime/v2/pkg/version.version={version}"
CLI_VERSION_LDFLAG = "-X=github.com/crossplane/crossplane/v2/internal/version.version={version}"
# Bumped when the way a tool is built changes, so stale builds are redone.
BUILD_RECIPE = 2


@dataclass(frozen=True)
class Tool:
    name: str
    version: str
    source: str
    command: list[str]


def engine_version() -> str:
    """The Crossplane tag conformance/engine/go.mod requires."""
    for line in (ENGINE_MODULE / "go.mod").read_text().splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "github.com/crossplane/crossplane/v2":
            return parts[1]
    raise SystemExit("conformance/engine/go.mod does not require github.com/crossplane/crossplane/v2")


def engine_source_digest() -> str:
    """A digest of conformance/engine/ (go.mod, go.sum, our client's source): a change rebuilds both binaries."""
    digest = hashlib.sha256()
    for path in sorted(p for p in ENGINE_MODULE.rglob("*") if p.is_file()):
        digest.update(path.relative_to(ENGINE_MODULE).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def function_pins() -> dict[str, dict[str, str]]:
    """Per function package: its version, Go module path (as its go.mod names it) and served path."""
    data = yaml.safe_load(PACKAGES.read_text())
    registry = data["registry"].rsplit("/", 1)[-1]
    pins = {}
    for package, version in data["functions"].items():
        source = data["function-sources"][package]
        pins[package] = {
            "object": f"{registry}-{package}",
            "version": version,
            "module": source["module"],
            "served-as": source.get("served-as", source["module"]),
            "package": source.get("package", source["module"]),
        }
    return pins


def go_env() -> dict[str, str]:
    env = dict(os.environ)
    # Release builds are static (crossplane/cli nix/build.nix; function Dockerfiles use CGO_ENABLED=0).
    env.setdefault("CGO_ENABLED", "0")
    # The wrapper modules are generated without go.sum: let the go command record the checksums it verifies
    # (against the checksum database, through the proxy) as it resolves the pinned versions.
    env["GOFLAGS"] = " ".join([*env.get("GOFLAGS", "").split(), "-mod=mod"])
    return env


def run(cmd: list[str], cwd: Path, log: Path) -> None:
    print(f"  $ {' '.join(cmd)}", flush=True)
    with log.open("a") as out:
        done = subprocess.run(cmd, cwd=cwd, env=go_env(), stdout=out, stderr=subprocess.STDOUT, check=False)
    if done.returncode != 0:
        tail = log.read_text().splitlines()[-25:]
        raise SystemExit(f"build failed ({' '.join(cmd)}), last lines of {log}:\n" + "\n".join(tail))


def on_path(binary: str, version: str, version_args: list[str]) -> str | None:
    """A tool on PATH whose version output names `version`, if any."""
    found = shutil.which(binary)
    if not found:
        return None
    try:
        out = subprocess.run([found, *version_args], capture_output=True, text=True, timeout=30, check=False)
    except OSError:
        return None
    return found if version in (out.stdout + out.stderr) else None


def wrapper_module(src: Path, name: str, requires: dict[str, str], replaces: dict[str, str], package: str) -> None:
    """A throwaway module that builds `package` with its own module's dependency versions."""
    src.mkdir(parents=True, exist_ok=True)
    lines = [f"module aiplane.dev/tools/{name}", "", "go 1.25", ""]
    lines += [f"require {mod} {ver}" for mod, ver in requires.items()]
    lines += [f"replace {mod} => {target}" for mod, target in replaces.items()]
    (src / "go.mod").write_text("\n".join(lines) + "\n")
    (src / "tools.go").write_text(f'//go:build tools\n\npackage tools\n\nimport _ "{package}"\n')


def build_engine(tools: Path, log: Path) -> list[Tool]:
    version = engine_version()
    bin_dir = tools / "bin"
    ldflags = f"-s -w {VERSION_LDFLAG.format(version=version)}"
    run(["go", "build", "-trimpath", "-ldflags", ldflags, "-o", str(bin_dir / "crossplane-core"),
         "github.com/crossplane/crossplane/v2/cmd/crossplane"], ENGINE_MODULE, log)
    run(["go", "build", "-trimpath", "-o", str(bin_dir / "composition-render"), "./cmd/composition-render"],
        ENGINE_MODULE, log)
    return [
        Tool("crossplane-core", version, f"github.com/crossplane/crossplane/v2/cmd/crossplane@{version}",
             [".tools/bin/crossplane-core"]),
        Tool("composition-render", version, f"conformance/engine/cmd/composition-render@{engine_source_digest()}",
             [".tools/bin/composition-render"]),
    ]


def build_cli(tools: Path, log: Path) -> Tool:
    src = tools / "src" / "crossplane-cli"
    wrapper_module(src, "crossplane-cli", {CLI_MODULE: CLI_VERSION}, {}, CLI_PACKAGE)
    ldflags = f"-s -w {CLI_VERSION_LDFLAG.format(version=CLI_VERSION)}"
    run(["go", "build", "-trimpath", "-ldflags", ldflags, "-o", str(tools / "bin" / "crossplane"), CLI_PACKAGE],
        src, log)
    return Tool("crossplane", CLI_VERSION, f"{CLI_PACKAGE}@{CLI_VERSION}", [".tools/bin/crossplane"])


def build_function(tools: Path, pin: dict[str, str], log: Path) -> Tool:
    binary = pin["module"].rsplit("/", 1)[-1]
    src = tools / "src" / binary
    replaces = {}
    if pin["served-as"] != pin["module"]:
        # The proxy serves the repository's path; its go.mod declares another one.
        replaces[pin["module"]] = f"{pin['served-as']} {pin['version']}"
    wrapper_module(src, binary, {pin["module"]: pin["version"]}, replaces, pin["package"])
    run(["go", "build", "-trimpath", "-ldflags", "-s -w", "-o", str(tools / "bin" / binary), pin["package"]],
        src, log)
    return Tool(pin["object"], pin["version"], f"{pin['served-as']}@{pin['version']}",
                [f".tools/bin/{binary}", "--insecure", "--address={address}"])


FUNCTION_AIPLANE = "function-aiplane"


def function_extra() -> list[str]:
    """The requirements of the pyproject `function` extra (the image installs the same)."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    requirements: list[str] = data["project"]["optional-dependencies"]["function"]
    return requirements


def build_function_aiplane(tools: Path, log: Path) -> Tool:
    env_dir = tools / FUNCTION_AIPLANE
    shutil.rmtree(env_dir, ignore_errors=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    python = env_dir / "bin" / "python"
    pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--quiet"]
    run([*pip, *function_extra()], ROOT, log)
    run([*pip, "--no-deps", "-e", str(ROOT)], ROOT, log)
    return Tool(FUNCTION_AIPLANE, " ".join(function_extra()), "src/aiplane/function (editable)",
                [str((env_dir / "bin" / "python").relative_to(ROOT)) if env_dir.is_relative_to(ROOT) else str(python),
                 "-m", "aiplane.function", "--insecure", "--address={address}"])


def load_manifest(tools: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads((tools / "manifest.json").read_text())
        return data
    except (OSError, ValueError):
        return {"tools": []}


# The CLI whose `composition render` and `resource validate` the suite calls when it cannot build (no Go).
CLI_V23 = "v2.3.4"


def without_go(tools: Path) -> int:
    """No Go here: use the Crossplane CLI v2.3.4 from PATH, which runs the core and the pinned functions
    through Docker (conformance/realengine.py, cli mode)."""
    found = on_path("crossplane", CLI_V23, ["version", "--client"])
    if not found:
        raise SystemExit(
            "make conformance needs Go (to build the pinned Crossplane tools into .tools/) or the Crossplane CLI "
            f"{CLI_V23} on PATH with Docker (to run the core and the functions); neither was found"
        )
    entry = {**asdict(Tool("crossplane", CLI_V23, f"PATH:{found}", [found])), "recipe": BUILD_RECIPE}
    (tools / "manifest.json").write_text(json.dumps({"tools": [entry]}, indent=2) + "\n")
    print(f"no Go: using the Crossplane CLI {CLI_V23} at {found} (functions and core through Docker)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tools", type=Path, default=ROOT / ".tools", help="where to build (default .tools/)")
    parser.add_argument("--force", action="store_true", help="rebuild even when the stamps match")
    args = parser.parse_args(argv)
    tools: Path = args.tools.resolve()
    (tools / "bin").mkdir(parents=True, exist_ok=True)
    log = tools / "build.log"
    old = {t["name"]: t for t in load_manifest(tools)["tools"]}

    def current(name: str, version: str, source: str) -> dict[str, Any] | None:
        entry = old.get(name)
        if args.force or not entry or entry.get("recipe") != BUILD_RECIPE:
            return None
        if entry.get("version") != version or entry.get("source") != source:
            return None
        exe = entry["command"][0]
        return entry if (ROOT / exe).exists() or (Path(exe).is_absolute() and Path(exe).exists()) else None

    if shutil.which("go") is None:
        return without_go(tools)

    built: list[dict[str, Any]] = []
    timings: dict[str, float] = {}

    def record(tool_list: list[Tool], started: float, label: str) -> None:
        timings[label] = round(time.monotonic() - started, 1)
        built.extend({**asdict(t), "recipe": BUILD_RECIPE, "build_seconds": timings[label]} for t in tool_list)

    version = engine_version()
    core_source = f"github.com/crossplane/crossplane/v2/cmd/crossplane@{version}"
    client_source = f"conformance/engine/cmd/composition-render@{engine_source_digest()}"
    if (entry := current("crossplane-core", version, core_source)) and current("composition-render", version, client_source):
        built += [entry, old["composition-render"]]
        print(f"crossplane-core {version}: up to date")
    else:
        print(f"crossplane-core {version} and composition-render: building (cold: several minutes)", flush=True)
        started = time.monotonic()
        record(build_engine(tools, log), started, "crossplane-core")

    cli_source = f"{CLI_PACKAGE}@{CLI_VERSION}"
    if entry := current("crossplane", CLI_VERSION, cli_source):
        built.append(entry)
        print(f"crossplane CLI {CLI_VERSION}: up to date")
    elif found := on_path("crossplane", CLI_VERSION, ["version", "--client"]):
        built.append({**asdict(Tool("crossplane", CLI_VERSION, f"PATH:{found}", [found])), "recipe": BUILD_RECIPE})
        print(f"crossplane CLI {CLI_VERSION}: using {found}")
    else:
        print(f"crossplane CLI {CLI_VERSION}: building", flush=True)
        started = time.monotonic()
        record([build_cli(tools, log)], started, "crossplane")

    for pin in function_pins().values():
        source = f"{pin['served-as']}@{pin['version']}"
        if entry := current(pin["object"], pin["version"], source):
            built.append(entry)
            print(f"{pin['object']} {pin['version']}: up to date")
            continue
        print(f"{pin['object']} {pin['version']}: building", flush=True)
        started = time.monotonic()
        record([build_function(tools, pin, log)], started, pin["object"])

    requirements = " ".join(function_extra())
    if entry := current(FUNCTION_AIPLANE, requirements, "src/aiplane/function (editable)"):
        built.append(entry)
        print(f"{FUNCTION_AIPLANE} ({requirements}): up to date")
    else:
        print(f"{FUNCTION_AIPLANE} ({requirements}): creating its virtual environment", flush=True)
        started = time.monotonic()
        record([build_function_aiplane(tools, log)], started, FUNCTION_AIPLANE)

    (tools / "manifest.json").write_text(json.dumps({"tools": built}, indent=2) + "\n")
    for label, seconds in timings.items():
        print(f"built {label} in {seconds} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
