"""Project discovery: the repository root is the nearest folder whose pyproject.toml has [tool.aiplane]."""

from __future__ import annotations

import os
import sys
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib.machinery import PathFinder
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from aiplane import __version__
from aiplane.errors import InputError

if TYPE_CHECKING:
    import importlib.metadata

# The value of the `managed-by` tag and `app.kubernetes.io/managed-by` label on everything aiplane writes.
MANAGER = "aiplane"
MANAGED_BY = {"app.kubernetes.io/managed-by": MANAGER}
# Flux's per-object opt-out of garbage collection (kustomize-controller; reference cdk8s-and-flux.md §7.2): set on
# what must never be deleted because it vanished from Git — XRDs, Providers and Namespaces, whose deletion
# takes every XR (and so every AWS resource) with it. Retiring one is a deliberate step (README, GitOps).
PRUNE_DISABLED = {"kustomize.toolkit.fluxcd.io/prune": "disabled"}
DEFAULT_GROUP = "ai.aiplane.io"
DEFAULT_DOMAIN = "aiplane.io"
DEFAULT_MONITOR_IMAGE = f"ghcr.io/aiplane/ethics-monitor:{__version__}"
# Where the team pushes function-aiplane (function/Dockerfile, `make function-package`); the Function object
# pins `<function-package>:v<aiplane version>`, the release whose Compositions name its resources.
DEFAULT_FUNCTION_PACKAGE = "ghcr.io/aiplane/function-aiplane"
# `aiplane audit` stops after this many seconds overall, whatever AWS (or AWS_ENDPOINT_URL) does.
DEFAULT_AUDIT_DEADLINE = 120.0
# `aiplane catalog status` warns about price files older than this many days.
DEFAULT_PRICE_MAX_AGE_DAYS = 90


@dataclass(frozen=True)
class Settings:
    """[tool.aiplane] with its defaults; paths are absolute."""

    root: Path
    group: str = DEFAULT_GROUP
    domain: str = DEFAULT_DOMAIN
    ethics_monitor_image: str = DEFAULT_MONITOR_IMAGE
    function_package: str = DEFAULT_FUNCTION_PACKAGE
    xrds: Path = Path("xrds")
    compositions: Path = Path("compositions")
    environments: Path = Path("environments")
    manifests: Path = Path("manifests")
    crds: tuple[Path, ...] = field(default_factory=tuple)
    audit_deadline: float = DEFAULT_AUDIT_DEADLINE
    # The project's own price files (`aiplane catalog refresh` writes <prices>/<region>/<service>.yaml).
    prices: Path = Path("prices")
    price_max_age_days: int = DEFAULT_PRICE_MAX_AGE_DAYS

    def label(self, key: str) -> str:
        """A label or annotation key in aiplane's domain, e.g. `aiplane.io/environment`."""
        return f"{self.domain}/{key}"


def entry_points(group: str) -> Iterable[importlib.metadata.EntryPoint]:
    """The installed entry points of one group (platform APIs, Compositions, policy rules). Reading them
    walks every installed distribution's metadata, so it is done once per process for all groups, at the first
    ask; and not at all (nor is `importlib.metadata` imported: about 17 ms) when no distribution declares any
    aiplane group, which is the usual case: aiplane's groups then have no entry points."""
    installed = _installed_entry_points(group.startswith(AIPLANE_GROUP_PREFIX))
    if installed is None:
        return ()
    return cast("importlib.metadata.EntryPoints", installed.select(group=group))


# Every entry point group aiplane reads starts so (aiplane.platform_apis, aiplane.compositions, aiplane.policy_rules).
AIPLANE_GROUP_PREFIX = "aiplane."


def _installed_entry_points(aiplane_group: bool) -> Any | None:
    # Read on the first ask of an aiplane group only when some entry_points.txt opens a section of one; the
    # answer is then kept for the process, as reading everything at the first ask always was.
    if aiplane_group and _first_look() is False:
        return None
    return _all_entry_points()


@cache
def _first_look() -> bool:
    """Whether an installed distribution may declare an aiplane entry point group, decided once: a section
    header `[aiplane.` in an entry_points.txt (or no cheap look possible: _entry_point_texts)."""
    texts = _entry_point_texts()
    return texts is None or any(f"[{AIPLANE_GROUP_PREFIX}" in text for text in texts)


@cache
def _all_entry_points() -> Any:
    # EntryPoints from Python 3.12, SelectableGroups on 3.11: both select by group. Imported here: `--help`
    # and completion read project settings but no entry point.
    import importlib.metadata

    return importlib.metadata.entry_points()


def _entry_point_texts() -> tuple[str, ...] | None:
    """Every entry_points.txt where importlib.metadata finds distributions: the `*.dist-info` and `*.egg-info`
    folders of each sys.path folder. None (read them all properly) where that look could miss one: a zip or
    egg on sys.path (an egg folder keeps its metadata in EGG-INFO), a folder that cannot be listed, or an
    import finder of distributions of its own."""
    if any(hasattr(finder, "find_distributions") and finder is not PathFinder for finder in sys.meta_path):
        return None
    texts: list[str] = []
    for entry in sys.path:
        folder = entry or "."
        if folder.lower().rstrip("/\\").endswith(".egg"):
            return None
        try:
            with os.scandir(folder) as listing:
                names = [e.name for e in listing if e.name.lower().endswith((".dist-info", ".egg-info"))]
        except FileNotFoundError:  # a path entry that does not exist (pythonXY.zip): nothing to find there
            continue
        except OSError:  # a file (zip, egg) or an unreadable folder
            return None
        for name in names:
            try:
                texts.append(Path(folder, name, "entry_points.txt").read_text(encoding="utf-8", errors="replace"))
            except OSError:  # no entry points (or an egg-info file)
                continue
    return tuple(texts)


def find_root(start: Path | None = None) -> Path | None:
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            try:
                data = tomllib.loads(candidate.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError):
                continue
            if "aiplane" in data.get("tool", {}):
                return folder
    return None


def display_path(path: Path, root: Path | None = None) -> str:
    """A path as messages show it: relative to the project root (`root`, else the project around the working
    directory) when inside it, else relative to the working directory, else as given. The folder is resolved,
    the name is not: a symlinked file is shown where it is, not its target."""
    try:
        shown = path.parent.resolve() / path.name
    except (OSError, RuntimeError):
        return str(path)
    for base in (root or find_root(), Path.cwd()):
        if base is None:
            continue
        try:
            return shown.relative_to(base.resolve()).as_posix()
        except (ValueError, OSError, RuntimeError):
            continue
    return str(path)


def load_settings(start: Path | None = None) -> Settings:
    """Settings of the project around `start` (default: the working directory)."""
    root = find_root(start)
    if root is None:
        raise InputError.single(
            str(start or Path.cwd()), "not inside an aiplane project (no pyproject.toml with [tool.aiplane])"
        )
    pyproject = root / "pyproject.toml"
    raw = tomllib.loads(pyproject.read_text(encoding="utf-8"))["tool"]["aiplane"]
    if not isinstance(raw, dict):
        raise InputError.single(display_path(pyproject, root), "[tool.aiplane] must be a table")
    known = {
        "group",
        "domain",
        "ethics-monitor-image",
        "function-package",
        "xrds",
        "compositions",
        "environments",
        "manifests",
        "crds",
        "audit-deadline",
        "prices",
        "price-max-age-days",
    }
    unknown = sorted(set(raw) - known)
    if unknown:
        raise InputError.single(display_path(pyproject, root), f"unknown [tool.aiplane] keys: {', '.join(unknown)}")
    for key in ("group", "domain", "ethics-monitor-image", "function-package"):
        if key in raw and not (isinstance(raw[key], str) and raw[key]):
            raise InputError.single(display_path(pyproject, root), f"[tool.aiplane] {key} must be a non-empty string")
    crds = raw.get("crds", [])
    if not isinstance(crds, list):
        raise InputError.single(display_path(pyproject, root), "[tool.aiplane] crds must be a list of paths")
    # What synth writes (manifests) and the declarations it turns into deletions when they go missing
    # (environments) must be inside the project; code and CRDs are only read and may be shared folders.
    folders = {
        key: inside_project(root, raw.get(key, key), f"[tool.aiplane] {key}", display_path(pyproject, root))
        if key in ("environments", "manifests")
        else _project_relative(root, raw.get(key, key), f"[tool.aiplane] {key}", display_path(pyproject, root))
        for key in ("xrds", "compositions", "environments", "manifests")
    }
    _refuse_overlap(folders, display_path(pyproject, root))
    prices = inside_project(root, raw.get("prices", "prices"), "[tool.aiplane] prices", display_path(pyproject, root))
    return Settings(
        root=root,
        group=raw.get("group", DEFAULT_GROUP),
        domain=raw.get("domain", DEFAULT_DOMAIN),
        ethics_monitor_image=raw.get("ethics-monitor-image", DEFAULT_MONITOR_IMAGE),
        function_package=raw.get("function-package", DEFAULT_FUNCTION_PACKAGE),
        xrds=folders["xrds"],
        compositions=folders["compositions"],
        environments=folders["environments"],
        manifests=folders["manifests"],
        crds=tuple(_project_relative(root, p, "[tool.aiplane] crds", display_path(pyproject, root)) for p in crds),
        audit_deadline=_seconds(raw.get("audit-deadline", DEFAULT_AUDIT_DEADLINE), pyproject),
        prices=prices,
        price_max_age_days=_days(raw.get("price-max-age-days", DEFAULT_PRICE_MAX_AGE_DAYS), pyproject),
    )


def _seconds(value: Any, source: Path) -> float:
    """A positive, finite number of seconds (no booleans, no strings)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < float("inf"):
        return float(value)
    raise InputError.single(
        str(source), f"[tool.aiplane] audit-deadline must be a positive number of seconds, not {value!r}"
    )


def _days(value: Any, source: Path) -> int:
    """A positive whole number of days (no booleans, no strings, no fractions)."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    raise InputError.single(
        str(source), f"[tool.aiplane] price-max-age-days must be a positive whole number of days, not {value!r}"
    )


def inside_project(root: Path, value: object, what: str, source: str) -> Path:
    """`value` as a path inside the project root: relative, no `..`, not the root itself, and not
    leading outside through a symlink (the one path policy for every setting the tool reads or writes)."""
    if not isinstance(value, str) or not value.strip():
        raise InputError.single(source, f"{what} must be a path relative to the project, got {value!r}")
    relative = Path(value)
    if relative.is_absolute() or ".." in relative.parts:
        raise InputError.single(source, f"{what} {value!r} must be a path inside the project (no '..')")
    path = root / relative
    real_root = root.resolve()
    real = path.resolve()
    if real == real_root:
        raise InputError.single(source, f"{what} {value!r} must be a folder inside the project, not its root")
    if not real.is_relative_to(real_root):
        raise InputError.single(
            source, f"{what} {value!r} leads outside the project (to {real}) through a symlink; refused"
        )
    return path


def _project_relative(root: Path, value: object, what: str, source: str) -> Path:
    """A folder that is only read (code, CRDs): relative to the project root, which it may leave."""
    if not isinstance(value, str) or not value.strip():
        raise InputError.single(source, f"{what} must be a path relative to the project, got {value!r}")
    return root / value


def _refuse_overlap(folders: dict[str, Path], source: str) -> None:
    """manifests/ is deleted and rewritten by every synth: it must not be, hold or sit inside an input."""
    written = folders["manifests"].resolve()
    for key in ("xrds", "compositions", "environments"):
        read = folders[key].resolve()
        if written == read or written.is_relative_to(read) or read.is_relative_to(written):
            raise InputError.single(
                source,
                f"[tool.aiplane] manifests ({folders['manifests'].name}) overlaps {key} "
                f"({folders[key].name}): synth rewrites manifests and would overwrite its inputs",
            )
