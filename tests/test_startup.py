"""What the everyday commands load: each runs in a fresh process of its own (what a module import costs is
paid once per process, so only a fresh one shows it) on the shipped project, watched from inside; and the
look at installed distributions that lets them skip `importlib.metadata`.

The costs these guard against are each 5-17 ms of every run (docs/performance.md, "Startup"): pydantic
reading a builtin default factory's signature (Python 3.11 compiles the tokenizer's regular expressions for
it), `importlib.resources`, `tempfile` and `shutil` where nothing is written, `importlib.metadata`
imported for pydantic's plugin loader and for aiplane's entry points when nothing
installed declares any, `check --manifests` importing the synthesis pipeline it never runs, and the CEL
package's command-line tool."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Runs one command in-process and prints what was loaded on the way, as JSON.
WATCH = """
import inspect, json, sys
builtin_signatures = []
_fromstr = inspect._signature_fromstr
def _spy(cls, obj, s, *args, **kwargs):
    builtin_signatures.append(repr(obj))
    return _fromstr(cls, obj, s, *args, **kwargs)
inspect._signature_fromstr = _spy
from aiplane.cli import main
try:
    main(sys.argv[1:], standalone_mode=False)
except SystemExit:
    pass
print(json.dumps({"builtin_signatures": builtin_signatures, "modules": sorted(sys.modules)}))
"""


def _python(code: str, *args: str, env: dict[str, str] | None = None, path: str | None = None) -> str:
    """What `code` prints, run in a fresh interpreter in the shipped project (PYDANTIC_DISABLE_PLUGINS as
    `env` sets it, else unset; `path` first on sys.path)."""
    environ = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"} | (env or {})
    if path is not None:
        environ["PYTHONPATH"] = os.pathsep.join([path, environ.get("PYTHONPATH", "")])
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True,
                          check=True, env=environ)
    return done.stdout.strip()


def _watch(*command: str) -> dict[str, list[str]]:
    report: dict[str, list[str]] = json.loads(_python(WATCH, *command).splitlines()[-1])
    return report


@pytest.mark.parametrize(
    "command", [("check",), ("check", "--manifests"), ("cost",), ("synth", "--check"), ("validate", "manifests")]
)
def test_no_builtin_signature_is_parsed(command: tuple[str, ...]) -> None:
    # A model field `Field(default_factory=list)` makes pydantic ask for list's signature, which Python
    # parses from text with the tokenizer; `default_factory=lambda: []` gives the same model and schema.
    assert _watch(*command)["builtin_signatures"] == []


@pytest.mark.parametrize("command", [("check",), ("check", "--manifests"), ("cost",), ("validate", "manifests")])
def test_what_only_writing_needs_is_not_imported(command: tuple[str, ...]) -> None:
    # importlib.resources (package data is read from the package's folder), tempfile and shutil (used where
    # files are written: synth, ethics gate, cost --diff) cost these read-only commands 5-7 ms.
    modules = set(_watch(*command)["modules"])
    assert not {"importlib.resources", "tempfile", "shutil"} & modules


def test_check_manifests_does_not_import_the_synthesis_pipeline() -> None:
    modules = _watch("check", "--manifests")["modules"]
    assert "aiplane.synthesis.pipeline" not in modules
    assert "aiplane.policy" in modules  # the watch did run the check


def test_the_cel_command_line_tool_is_not_imported() -> None:
    modules = _watch("check")["modules"]
    assert "cel" in modules
    assert not {"typer", "prompt_toolkit", "rich"} & set(modules)


@pytest.mark.parametrize("command", [("check",), ("check", "--manifests"), ("cost",)])
def test_no_distribution_metadata_is_read_when_nothing_installed_extends_aiplane(command: tuple[str, ...]) -> None:
    # Neither pydantic's plugin loader nor aiplane's entry points import importlib.metadata (17 ms) when no
    # installed distribution declares an aiplane group and pydantic plugins are off (aiplane.pydantic_plugins).
    modules = _watch(*command)["modules"]
    assert "importlib.metadata" not in modules
    assert "pydantic.plugin._loader" in modules  # the stand-in pydantic imported in its place


def _distribution(site: Path, declared: str, name: str = "demo_rules") -> None:
    info = site / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(declared, encoding="utf-8")


ENTRY_POINTS = """
import sys
from aiplane.project import entry_points
print([ep.value for ep in entry_points("aiplane.policy_rules")], "importlib.metadata" in sys.modules)
"""


def test_a_distribution_declaring_an_aiplane_group_is_found(tmp_path: Path) -> None:
    _distribution(tmp_path, "[console_scripts]\ndemo = demo:main\n\n[aiplane.policy_rules]\ndemo = demo_rules:RULE\n")
    assert _python(ENTRY_POINTS, path=str(tmp_path)) == "['demo_rules:RULE'] True"


def test_entry_points_of_other_groups_only_leave_importlib_metadata_unread(tmp_path: Path) -> None:
    _distribution(tmp_path, "[console_scripts]\ndemo = demo:main\n")
    assert _python(ENTRY_POINTS, path=str(tmp_path)) == "[] False"


def test_an_egg_folder_on_sys_path_is_read_by_importlib_metadata(tmp_path: Path) -> None:
    # An unzipped egg keeps its metadata in EGG-INFO, which importlib.metadata reads and the quick look does not.
    egg = tmp_path / "egg_rules-1.0-py3.11.egg"
    (egg / "EGG-INFO").mkdir(parents=True)
    (egg / "EGG-INFO" / "PKG-INFO").write_text("Metadata-Version: 1.1\nName: egg-rules\nVersion: 1.0\n", encoding="utf-8")
    (egg / "EGG-INFO" / "entry_points.txt").write_text("[aiplane.policy_rules]\negg = egg_rules:RULE\n", encoding="utf-8")
    assert _python(ENTRY_POINTS, path=str(egg)) == "['egg_rules:RULE'] True"


def test_entry_points_are_read_once_at_the_first_ask(tmp_path: Path) -> None:
    # As before the quick look: what is installed is read when first asked, then kept for the process.
    first, later = tmp_path / "first", tmp_path / "later"
    _distribution(first, "[aiplane.platform_apis]\nfirst = first:API\n", "first_apis")
    _distribution(later, "[aiplane.platform_apis]\nlater = later:API\n", "later_apis")
    code = f"""
import sys
from aiplane.project import entry_points
entry_points("aiplane.policy_rules")
sys.path.append({str(later)!r})
print([ep.value for ep in entry_points("aiplane.platform_apis")])
"""
    assert _python(code, path=str(first)) == "['first:API']"


def test_a_zip_on_sys_path_is_read_by_importlib_metadata(tmp_path: Path) -> None:
    # A zip (or egg) may hold distributions the quick look cannot list: the full reading decides.
    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("zipped_rules-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: zipped-rules\nVersion: 1.0\n")
        bundle.writestr("zipped_rules-1.0.dist-info/entry_points.txt", "[aiplane.policy_rules]\nzipped = z:RULE\n")
    assert _python(ENTRY_POINTS, path=str(archive)) == "['z:RULE'] True"


def test_a_finder_of_distributions_of_its_own_is_asked_too() -> None:
    code = """
import sys
from importlib.metadata import Distribution, EntryPoint
class Dist(Distribution):
    def read_text(self, filename):
        return {"METADATA": "Name: found\\nVersion: 1\\n", "entry_points.txt": "[aiplane.policy_rules]\\nf = f:RULE\\n"}.get(filename)
    def locate_file(self, path):
        return path
class Finder:
    def find_spec(self, *args): return None
    def find_distributions(self, context=None): return [Dist()]
sys.meta_path.append(Finder())
from aiplane.project import entry_points
print([ep.value for ep in entry_points("aiplane.policy_rules")])
"""
    assert _python(code) == "['f:RULE']"


STAND_IN = """
import os, sys
from aiplane.pydantic_plugins import disable_pydantic_plugins
disable_pydantic_plugins()
loader = sys.modules.get("pydantic.plugin._loader")
from pydantic import BaseModel
class M(BaseModel):
    x: int
print(os.environ["PYDANTIC_DISABLE_PLUGINS"] or "''", type(loader).__name__, M(x=1).x)
"""


def test_the_command_line_turns_pydantic_plugins_off_and_stands_in_for_their_loader() -> None:
    assert _python(STAND_IN) == "__all__ _StandInLoader 1"


@pytest.mark.parametrize("value", ["", "logfire"])
def test_a_pydantic_plugins_setting_of_ones_own_keeps_pydantics_loader(value: str) -> None:
    assert _python(STAND_IN, env={"PYDANTIC_DISABLE_PLUGINS": value}) == f"{value or repr('')} NoneType 1"


def test_the_stand_in_reads_the_variable_on_every_call_as_pydantic_does() -> None:
    code = STAND_IN + """
import importlib.util
stand_in = sys.modules["pydantic.plugin._loader"]
os.environ["PYDANTIC_DISABLE_PLUGINS"] = ""
print(list(stand_in.get_plugins()), stand_in._real is not None, importlib.util.find_spec(stand_in.__name__).name)
"""
    assert _python(code).splitlines()[-1] == "[] True pydantic.plugin._loader"


def test_the_stand_in_answers_other_names_from_pydantics_own_loader() -> None:
    code = STAND_IN + """
from pydantic.plugin import _loader
print(_loader.PYDANTIC_ENTRY_POINT_GROUP, list(_loader.get_plugins()), hasattr(_loader, "__file__"))
"""
    assert _python(code).splitlines()[-1] == "pydantic [] False"
