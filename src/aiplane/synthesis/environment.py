"""environments/<env>.yaml → a validated Environment: its settings and, per platform API, the specs
of its composite resources.

Items are validated by the very spec models that define the XRDs (one source). Environment-level
values fill what items leave out (region, providerConfigRef, finops cost center and owner, and what
each API's `complete` hook supplies); an item's own value always wins. Every problem is collected and
reported as `file:line:col: field: message`.
"""

from __future__ import annotations

import difflib
import os
import re
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from aiplane import DATA
from aiplane.authoring.api import (
    ENVIRONMENT_NAME_MAX,
    NAME_PATTERN,
    REGION_PATTERN,
    SUBNET_ID_PATTERN,
    CommonSpec,
    HourlyCost,
    PlatformAPI,
    ProviderConfigRef,
    QuotaAmount,
    Spec,
    Tier,
    priced_hourly_cost,
)
from aiplane.authoring.formats import LabelKey, LabelValue
from aiplane.catalog.fields import instance_types_in
from aiplane.catalog.instances import Catalog, RegionNotCatalogued, load_catalog
from aiplane.errors import InputError, ItemError, Problem
from aiplane.ethics.spec import MonitorThresholds
from aiplane.project import display_path
from aiplane.synthesis.discovery import Project
from aiplane.synthesis.positions import Path_, Positions
from aiplane.synthesis.waivers import WAIVERS_KEY, Waiver
from aiplane.validation.pathfmt import format_path
from aiplane.yamlio import load_yaml, safe_load

ENVIRONMENT_SUFFIXES = (".yaml", ".yml")


DEFAULT_SPOT_TIERS: tuple[Tier, ...] = ("batch", "experimental")
# Expected spot discount when an environment names none (reference finops-and-ethics.md §8: g5/g6 ~50–72 %).
DEFAULT_SPOT_DISCOUNT = 0.6


class SpotPolicy(Spec):
    """Which tiers may run on spot, and the discount the cost estimate expects there."""

    allowedTiers: list[Tier] = Field(default_factory=lambda: list(DEFAULT_SPOT_TIERS))
    """Tiers allowed on spot or mixed capacity."""
    expectedDiscount: float = Field(default=DEFAULT_SPOT_DISCOUNT, ge=0, lt=1)
    """Expected spot discount off on-demand (0.6 = 60 % cheaper) for the expected-cost figure."""


class EnvironmentFinOps(Spec):
    """The environment's cost owner, budget and spot policy."""

    costCenter: LabelValue = Field(min_length=1, max_length=63)
    owner: LabelValue = Field(min_length=1, max_length=63)
    budgetPerHour: float = Field(gt=0)
    """Ceiling of the environment's total worst-case cost, USD per hour."""
    spot: SpotPolicy = Field(default_factory=SpotPolicy)


class Ethics(Spec):
    """Organisation defaults for every endpoint's ethics monitor."""

    thresholds: MonitorThresholds
    """Bounds per severity (critical, and optionally stricter warning ones) every endpoint's monitor starts
    from; an endpoint's own thresholds override them field by field."""


class ObservedSubnet(Spec):
    """A subnet the cluster's node groups may use; aiplane observes it, never changes it."""

    id: str = Field(pattern=SUBNET_ID_PATTERN)
    """The subnet ID (subnet-...)."""
    labels: dict[LabelKey, LabelValue] | None = None
    """Labels of its Subnet object; default: the environment's subnetSelector."""


class EnvironmentSettings(Spec):
    """The environment-level fields of environments/<env>.yaml."""

    # Part of AWS names (node groups `<env>-<pool>-ondemand`, buckets `<env>-<name>-<account>`, endpoints):
    # the items' name bounds assume at most ENVIRONMENT_NAME_MAX characters here.
    name: str = Field(pattern=NAME_PATTERN, max_length=ENVIRONMENT_NAME_MAX)
    accountId: str = Field(pattern=r"^[0-9]{12}$")
    region: str = Field(pattern=REGION_PATTERN)
    clusterName: str = Field(min_length=1, max_length=100)
    namespace: str = Field(pattern=NAME_PATTERN, max_length=63)
    providerConfigRef: ProviderConfigRef = Field(default_factory=ProviderConfigRef)
    finops: EnvironmentFinOps
    ethics: Ethics | None = None
    subnetSelector: dict[str, str] | None = None
    """Labels of the Subnet MRs node pools use unless a pool names its own."""
    # `lambda: []`, not `list`: see catalog.prices.PriceFile.not_offered.
    subnets: list[ObservedSubnet] = Field(default_factory=lambda: [], max_length=200)
    """Existing subnets, written as observe-only Subnet objects in the namespace so that node pools'
    `subnetSelector` resolves them (the provider resolves selectors only in the MR's own namespace)."""


@dataclass(frozen=True)
class Item:
    """One composite resource of the environment: its API, name and validated spec."""

    api: PlatformAPI
    name: str
    spec: CommonSpec
    derived: bool = False
    # Where the item is in its environment file (`("nodePools", 0)`; `("quotas",)` for derived items), so
    # findings on its XR can point at the line a person edits.
    source: tuple[str | int, ...] = ()
    waivers: tuple[Waiver, ...] = ()


@dataclass
class Environment:
    """A loaded environment: settings, items per API kind, and where it came from."""

    settings: EnvironmentSettings
    source: str
    project: Project
    items: list[Item] = field(default_factory=list)
    # Each item's hourly cost at this environment's spot discount, by (kind, name), with the catalog that priced
    # it, once cost_of has (for the XR's annotations, or `aiplane cost`); the rules reuse it (Synthesis.known_costs).
    costs: dict[tuple[str, str], tuple[Catalog, HourlyCost | None]] = field(default_factory=dict, repr=False)
    _raw: dict[str, list[dict[str, Any]]] = field(default_factory=dict, repr=False)
    _raw_index: dict[str, dict[Any, dict[str, Any]]] = field(default_factory=dict, repr=False)
    _positions: Positions = field(default_factory=lambda: Positions(""), repr=False)

    # The API hooks read these attributes directly (env.clusterName, env.ethics...).
    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.settings, name)

    def cost_of(self, item: Item, catalog: Catalog) -> HourlyCost | None:
        """An item's worst-case and expected USD/h at its region's prices and this environment's spot discount
        (with the uncertain prices it rests on), or None for APIs that cost nothing by themselves; priced once
        per item and catalog."""
        key = (item.api.kind, item.name)
        known = self.costs.get(key)
        if known is not None and known[0] is catalog:
            return known[1]
        cost = priced_hourly_cost(item.api, item.spec, catalog, self.settings.finops.spot.expectedDiscount)
        self.costs[key] = (catalog, cost)
        return cost

    def subnet_labels(self) -> list[tuple[str, dict[str, str]]]:
        """(subnet ID, labels of its observe-only Subnet object) for every declared subnet."""
        default = dict(self.settings.subnetSelector or {})
        return [(s.id, dict(s.labels) if s.labels is not None else default) for s in self.settings.subnets]

    def items_of(self, kind: str) -> list[Item]:
        return [i for i in self.items if i.api.kind == kind]

    def find_item(self, key: str, name: str) -> dict[str, Any] | None:
        """Another item of this environment, completed with its defaults (for references)."""
        api = next((a for a in self.project.apis.values() if a.environment_key == key), None)
        raw = self._raw_by_name(key).get(name) if isinstance(name, str) else None
        if raw is None or api is None:
            return None
        # Waivers are the item's, not its spec's (aiplane.synthesis.waivers).
        return _complete(api, {k: v for k, v in raw.items() if k != WAIVERS_KEY}, self)

    def _raw_by_name(self, key: str) -> dict[Any, dict[str, Any]]:
        """The raw items under `key` by name, the first of a repeated name winning (a list scan per reference
        made an environment of n endpoints cost n² lookups)."""
        index = self._raw_index.get(key)
        if index is None:
            index = {}
            for raw in self._raw.get(key, []):
                if isinstance(raw, dict) and isinstance(raw.get("name"), str):
                    index.setdefault(raw["name"], raw)
            self._raw_index[key] = index
        return index

    def quota_demand(self) -> list[tuple[QuotaAmount, Tier]]:
        """EC2 accelerator vCPUs every item needs at max scale, with the item's tier."""
        catalog = load_catalog()
        return [
            (amount, item.spec.finops.tier)
            for item in self.items
            if item.api.quota_demand is not None
            for amount in item.api.quota_demand(item.spec, catalog)
        ]


def _deep_fill(target: dict[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """Fill keys missing from `target` with `defaults`, recursing into mappings; target wins."""
    for key, value in defaults.items():
        if key not in target:
            target[key] = value
        elif isinstance(target[key], dict) and isinstance(value, Mapping):
            _deep_fill(target[key], value)
    return target


def _complete(api: PlatformAPI, item: dict[str, Any], env: Environment) -> dict[str, Any]:
    s = env.settings
    _deep_fill(
        item,
        {
            "region": s.region,
            "providerConfigRef": s.providerConfigRef.model_dump(),
            "finops": {"costCenter": s.finops.costCenter, "owner": s.finops.owner},
        },
    )
    return api.complete(item, env) if api.complete else item


def _fields_at(model: type[BaseModel], loc: Iterable[str | int]) -> list[str]:
    """Field names (by alias) of the model found at `loc`, for "did you mean" suggestions."""
    current: Any = model
    for part in loc:
        if isinstance(part, int) or not (isinstance(current, type) and issubclass(current, BaseModel)):
            continue
        info = next((f for n, f in current.model_fields.items() if (f.alias or n) == part), None)
        if info is None:
            return []
        current = _model_in(info.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or n for n, f in current.model_fields.items()]
    return []


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _problems(
    err: ValidationError,
    model: type[BaseModel],
    prefix: Path_,
    source: str,
    positions: Positions,
) -> list[Problem]:
    out = []
    for e in err.errors():
        loc: Path_ = tuple(p for p in e["loc"] if isinstance(p, (str, int)))
        message = str(e["msg"]).removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            known = _fields_at(model, loc[:-1])
            close = difflib.get_close_matches(str(loc[-1]), known, n=1)
            message = f"unknown field {loc[-1]!r}" + (f"; did you mean {close[0]!r}?" if close else "")
        path = (*prefix, *loc)
        out.append(_at(source, message, positions.locate(path), format_path(path)))
    return out


def load_environment(path: Path, project: Project) -> Environment:
    """Read and validate one environment file; InputError lists every problem found."""
    source = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise InputError.single(source, f"cannot read: {err}") from None
    data = load_yaml(text, source)
    if not isinstance(data, dict):
        raise InputError.single(source, "an environment file must be a YAML mapping", line=1, column=1)
    positions = Positions(text)
    substitutions = [
        _at(
            source,
            "`${` is refused: Flux post-build substitution would rewrite it in the manifests",
            positions.locate(at),
            format_path(at),
        )
        # The walk only when the text could hold one: as written, or made by a double-quoted escape.
        for at in (_paths_with(data, "${") if "${" in text or "\\" in text else ())
    ]
    if substitutions:
        raise InputError(substitutions)

    keys = {api.environment_key: api for api in project.apis.values()}
    env_fields = {k: v for k, v in data.items() if k not in keys}
    try:
        # strict: no coercion (`"4"` is not 4, `true` is not 1), as the XRD schema the spec becomes.
        settings = EnvironmentSettings.model_validate(env_fields, strict=True)
    except ValidationError as err:
        raise InputError(_problems(err, EnvironmentSettings, (), source, positions)) from None
    if settings.name != path.stem:
        message = f"name {settings.name!r} must match the file name {path.stem!r}"
        raise InputError([_at(source, message, positions.locate(("name",)), "name")])
    if settings.region not in aws_regions():
        raise InputError(
            [_at(source, _unknown_region(settings.region), positions.locate(("region",)), "region")]
        )
    if settings.region not in project.catalog.regions():
        # No silent fallback: costs and availability here would be another region's.
        message = str(RegionNotCatalogued(settings.region, project.catalog.regions()))
        raise InputError([_at(source, message, positions.locate(("region",)), "region")])

    env = Environment(settings, source, project)
    env._positions = positions
    env._raw = {k: v for k, v in data.items() if k in keys and isinstance(v, list)}
    problems: list[Problem] = []
    auto: list[PlatformAPI] = []
    for key, api in sorted(keys.items(), key=lambda kv: kv[1].derive_auto is not None):
        value = data.get(key, [])
        if value == "auto" and api.derive_auto is not None:
            auto.append(api)
            continue
        if not isinstance(value, list):
            where = positions.locate((key,))
            allowed = "a list or `auto`" if api.derive_auto else "a list"
            problems.append(_at(source, f"must be {allowed}", where, key))
            continue
        problems += _load_items(env, api, value, (key,), positions)
    if not problems:
        for api in auto:
            assert api.derive_auto is not None
            problems += _load_items(
                env, api, api.derive_auto(env), (api.environment_key,), positions, derived=True
            )
    if problems:
        raise InputError(problems)
    return env


def _paths_with(value: Any, needle: str, path: Path_ = ()) -> list[Path_]:
    """Paths of every string (key or value) under `value` that contains `needle`."""
    found: list[Path_] = []
    if isinstance(value, str):
        return [path] if needle in value else []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and needle in key:
                found.append((*path, key))
            found += _paths_with(item, needle, (*path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths_with(item, needle, (*path, index))
    return found


@cache
def aws_regions() -> frozenset[str]:
    """Every AWS region code (data/aws-regions.yaml, from the endpoint data the AWS SDKs ship)."""
    text = (DATA / "aws-regions.yaml").read_text(encoding="utf-8")
    partitions = safe_load(text)["partitions"]
    return frozenset(region for regions in partitions.values() for region in regions)


def _unknown_region(region: str) -> str:
    close = difflib.get_close_matches(region, sorted(aws_regions()), n=1)
    return f"unknown AWS region {region!r}" + (f"; did you mean {close[0]!r}?" if close else "")


def _at(source: str, message: str, where: tuple[int, int] | None, field: str) -> Problem:
    return Problem(
        source,
        message,
        line=where[0] if where else None,
        column=where[1] if where else None,
        field=field or None,
    )


_WAIVER_LIST: TypeAdapter[list[Waiver]] = TypeAdapter(list[Waiver])


def _load_items(
    env: Environment,
    api: PlatformAPI,
    raw_items: list[Any],
    prefix: Path_,
    positions: Positions,
    derived: bool = False,
) -> list[Problem]:
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    identities: dict[tuple[str, ...], int] = {}
    for index, raw in enumerate(raw_items):
        item_path = (*prefix, index)
        if not isinstance(raw, dict):
            problems.append(
                _at(env.source, "must be a mapping", positions.locate(item_path), format_path(item_path))
            )
            continue
        item = dict(raw)
        name = item.pop("name", None)
        if not isinstance(name, str) or not re.fullmatch(NAME_PATTERN, name):
            problems.append(
                _at(
                    env.source,
                    "needs a `name` of lowercase letters, digits and '-'",
                    positions.locate(item_path),
                    format_path((*item_path, "name")),
                )
            )
            continue
        if len(name) > api.max_name_length:
            problems.append(
                _at(
                    env.source,
                    f"name {name!r} is {len(name)} characters; at most {api.max_name_length} for a "
                    f"{api.kind} ({api.name_limit})",
                    positions.locate((*item_path, "name")),
                    format_path((*item_path, "name")),
                )
            )
            continue
        if name in seen:
            problems.append(
                _at(
                    env.source,
                    f"duplicate name {name!r} (also {prefix[0]}[{seen[name]}])",
                    positions.locate((*item_path, "name")),
                    format_path((*item_path, "name")),
                )
            )
            continue
        seen[name] = index
        try:
            waivers = (
                _WAIVER_LIST.validate_python(item.pop(WAIVERS_KEY), strict=True) if WAIVERS_KEY in item else []
            )
        except ValidationError as err:
            problems += _problems(err, Waiver, (*item_path, WAIVERS_KEY), env.source, positions)
            continue
        try:
            completed = _complete(api, {"name": name, **item}, env)
            completed.pop("name", None)
            spec = api.spec.model_validate(completed, strict=True)
        except ItemError as err:
            field_path = (*item_path, *err.field.split("."))
            problems.append(
                _at(env.source, err.message, positions.locate(field_path), format_path(field_path))
            )
            continue
        except ValidationError as err:
            problems += _problems(err, api.spec, item_path, env.source, positions)
            continue
        region = getattr(spec, "region", None)
        if isinstance(region, str) and region not in aws_regions():
            where = (*item_path, "region")
            problems.append(
                _at(env.source, _unknown_region(region), positions.locate(where), format_path(where))
            )
            continue
        refused = _not_offered(env, spec, item_path, positions)
        if refused:
            problems += refused
            continue
        if api.identity is not None:
            identity = api.identity(spec)
            if identity in identities:
                problems.append(
                    _at(
                        env.source,
                        f"manages the same AWS object ({', '.join(identity)}) as "
                        f"{prefix[0]}[{identities[identity]}]",
                        positions.locate(item_path),
                        format_path(item_path),
                    )
                )
                continue
            identities[identity] = index
        env.items.append(Item(api, name, spec, derived, prefix if derived else item_path, tuple(waivers)))
    return problems


def _not_offered(env: Environment, spec: CommonSpec, item_path: Path_, positions: Positions) -> list[Problem]:
    """Every instance type the item names that its region does not offer, or has no price for, at its line:
    an item in a region whose prices the catalog lacks would be priced as another region's, so it is refused."""
    catalog = env.project.catalog
    region = spec.region
    if region not in catalog.regions():
        where = (*item_path, "region")
        message = str(RegionNotCatalogued(region, catalog.regions()))
        return [_at(env.source, message, positions.locate(where), format_path(where))]
    regional = catalog.in_region(region)
    problems = []
    for path, service, name in instance_types_in(spec):
        refusal = regional.refusal(service, name)
        if refusal is not None:
            where = (*item_path, *path)
            problems.append(_at(env.source, refusal, positions.locate(where), format_path(where)))
    return problems


def environment_files(folder: Path, root: Path | None = None, *, allow_empty: bool = False) -> list[Path]:
    """The environment files of `folder`, refusing anything that would make an environment silently
    disappear (and its manifests with it): a missing or empty folder, a file that cannot be read as a
    regular file (broken symlink, loop, FIFO, folder), `dev.YAML`, `dev.yaml` next to `dev.yml`, or
    (with `root`) a symlink leading outside the project."""
    shown = display_path(folder)
    try:
        folder_stat = os.stat(folder)
    except FileNotFoundError:
        raise InputError.single(shown, "the environments folder does not exist") from None
    except OSError as err:
        raise InputError.single(shown, f"cannot read the environments folder: {err.strerror}") from None
    if not stat.S_ISDIR(folder_stat.st_mode):
        raise InputError.single(shown, "the environments setting must name a folder")
    real_root = root.resolve() if root is not None else None
    try:
        names = sorted(os.listdir(folder))
    except OSError as err:
        raise InputError.single(shown, f"cannot read the environments folder: {err.strerror}") from None
    problems: list[Problem] = []
    files: dict[str, Path] = {}
    for name in names:
        suffix = Path(name).suffix
        if name.startswith(".") or suffix.lower() not in ENVIRONMENT_SUFFIXES:
            continue
        path = folder / name
        where = display_path(path)
        if suffix not in ENVIRONMENT_SUFFIXES:
            problems.append(Problem(where, "environment files end in lowercase .yaml or .yml; rename it"))
            continue
        problem = _unreadable(path, real_root)
        if problem:
            problems.append(Problem(where, problem))
            continue
        stem = path.stem
        if stem in files:
            problems.append(
                Problem(where, f"{files[stem].name} and {name} both declare environment {stem!r}; keep one")
            )
            continue
        files[stem] = path
    if problems:
        raise InputError(problems)
    if not files and not allow_empty:
        raise InputError.single(
            shown, "no environment files (*.yaml): synth would remove every environment's manifests; refused"
        )
    return sorted(files.values())


def _unreadable(path: Path, real_root: Path | None) -> str | None:
    """Why `path` cannot be an environment file, or None (checked without opening it: a FIFO blocks)."""
    if path.is_symlink():
        try:
            target = path.resolve(strict=True)
        except (OSError, RuntimeError):
            return "a symlink to a missing file (or a symlink loop); refused"
        if real_root is not None and not target.is_relative_to(real_root):
            return f"a symlink leading outside the project (to {target}); refused"
    try:
        mode = os.stat(path).st_mode
    except OSError as err:
        return f"cannot read: {err.strerror}"
    if not stat.S_ISREG(mode):
        return "not a regular file (a folder, FIFO or device); refused"
    return None


def load_environments(
    folder: Path,
    project: Project,
    names: Iterable[str] = (),
    *,
    root: Path | None = None,
    allow_empty: bool = False,
) -> list[Environment]:
    """Load the environments of a project (all, or the named ones), collecting every file's problems;
    `root`: the project root no file may lead outside of."""
    files = environment_files(folder, root, allow_empty=allow_empty)
    wanted = list(names)
    if wanted:
        known = {p.stem: p for p in files}
        missing = [n for n in wanted if n not in known]
        if missing:
            raise InputError.single(
                display_path(folder),
                f"no environment named {', '.join(missing)} (have: {', '.join(sorted(known)) or 'none'})",
            )
        files = [known[n] for n in dict.fromkeys(wanted)]
    envs: list[Environment] = []
    problems: list[Problem] = []
    for path in files:
        try:
            envs.append(load_environment(path, project))
        except InputError as err:
            problems += err.problems
    if problems:
        raise InputError(problems)
    _refuse_shared_namespaces(envs)
    return envs


def _refuse_shared_namespaces(envs: list[Environment]) -> None:
    """Two environments in one namespace would own the same XRs: each synth and Flux prune the other's."""
    first: dict[str, Environment] = {}
    problems = []
    for env in envs:
        namespace = env.settings.namespace
        if namespace in first:
            problems.append(
                _at(
                    env.source,
                    f"namespace {namespace!r} is already environment {first[namespace].settings.name!r}'s "
                    f"({first[namespace].source}); each environment needs its own",
                    env._positions.locate(("namespace",)),
                    "namespace",
                )
            )
        else:
            first[namespace] = env
    if problems:
        raise InputError(problems)
