"""`aiplane new api KIND [--group G] [--from-crd CRD_FILE]...`: scaffold a platform API that synthesizes,
validates and passes the guardrails at once — `xrds/<kind>.py` (a spec with the fields every aiplane API shares,
plus one field per field the managed resources require), `compositions/<kind>_<service>.py` (one composed
managed resource per CRD, its required fields patched from the spec, FinOps tags through the shared patch set),
`tests/test_<kind>_api.py`, and an example environment entry (printed, or appended to one environment file with
`--env`). Files are rendered with jinja2 from templates shipped as package data (data/templates/newapi/).

A required field is one `forProvider.required` lists or one the CRD's CEL rules demand
(`has(self.forProvider.X)`, the shape provider-upjet-aws v2 gives required arguments); `region` comes from the
common `region` patch set. A field the provider cannot update in place (ForceNew data) becomes an immutable
spec field, so the forcenew-safe guardrail holds.
"""

from __future__ import annotations

import json
import pprint
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from aiplane.crossplane.forcenew import forcenew_hit, forcenew_paths
from aiplane.errors import InputError, Problem
from aiplane.project import Settings, load_settings
from aiplane.synthesis.discovery import discover
from aiplane.synthesis.environment import EnvironmentSettings, environment_files
from aiplane.validation import SchemaRegistry
from aiplane.yamlio import load_documents_from_text

# Kubernetes kinds are UpperCamelCase; the module and file names derive from it.
KIND_PATTERN = re.compile(r"[A-Z][A-Za-z0-9]{1,62}")
# Compositions compose provider-upjet-aws v2 namespaced managed resources only (DESIGN.md, principle 1).
MR_GROUP_SUFFIX = ".aws.m.upbound.io"
# provider-upjet-aws v2 states a required argument as a CEL rule with this message (and
# `has(self.forProvider.X) || (has(self.initProvider) && has(self.initProvider.X))` as the rule).
_REQUIRED_RULE_MESSAGE = re.compile(r"spec\.forProvider\.([A-Za-z0-9_]+) is a required parameter")
SCALARS = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}
# Item and spec keys aiplane itself uses: a required MR field of that name gets the resource's name in front.
RESERVED = {"name", "region", "providerConfigRef", "finops", "crossplane"}
EXAMPLE_TIER = "experimental"


@dataclass(frozen=True)
class SpecField:
    name: str  # in the XR spec
    crd_name: str  # in spec.forProvider of the managed resource
    annotation: str
    description: str
    forcenew: bool
    example: Any = None  # a value the CRD itself gives (enum, default), else None: the user fills it
    # An object (or list of objects): the CRD's own schema of it, which the XRD then carries unchanged, so an XR
    # is checked as the provider checks the managed resource (rendered as a Python literal in xrds/).
    crd_schema: dict[str, Any] | None = None
    origin: str = ""  # `<apiVersion> <kind>` of the managed resource whose CRD it comes from

    @property
    def schema_constant(self) -> str:
        """The module constant holding `crd_schema`: `vpcConfig` → VPC_CONFIG_SCHEMA."""
        return re.sub(r"(?<!^)(?=[A-Z])", "_", self.name).upper() + "_SCHEMA"

    @property
    def schema_literal(self) -> str:
        return pprint.pformat(self.crd_schema, width=100, sort_dicts=False)


@dataclass
class ManagedKind:
    """One provider MR CRD given with --from-crd, as the scaffold uses it."""

    source: str
    group: str
    version: str
    kind: str
    taggable: bool
    has_arn: bool
    required: list[SpecField] = field(default_factory=list)
    # Fields that may come from a reference (`xRef`/`xSelector`): the CRD never marks them required, even
    # where AWS needs them (a subscription's topicArn), so the scaffold names them for the author to wire.
    references: list[str] = field(default_factory=list)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}"

    @property
    def service(self) -> str:
        return self.group.split(".", 1)[0]

    @property
    def part(self) -> str:
        """The prefix of its status and renamed spec fields: the kind in lowerCamelCase."""
        return self.kind[:1].lower() + self.kind[1:]

    @property
    def resource_name(self) -> str:
        """Its P&T resource name and `aiplane.io/part` label: the kind in kebab-case (BucketPolicy → bucket-policy)."""
        return re.sub(r"(?<!^)(?=[A-Z])", "-", self.kind).lower()

    @property
    def function_name(self) -> str:
        return self.resource_name.replace("-", "_")


def _first_sentence(text: str) -> str:
    one = " ".join(str(text).split())
    end = one.find(". ")
    sentence = one if end < 0 else one[: end + 1]
    return sentence.replace('"""', "'''").replace("\\", "\\\\")


def _annotation(schema: Mapping[str, Any]) -> tuple[str, dict[str, Any] | None]:
    """The Python type of a forProvider field, and for an object (or list of them) the CRD schema it keeps."""
    kind = schema.get("type")
    if kind in SCALARS:
        return SCALARS[str(kind)], None
    items = schema.get("items") or {}
    if kind == "array" and items.get("type") in SCALARS:
        return f"list[{SCALARS[str(items['type'])]}]", None
    python = "list[dict[str, Any]]" if kind == "array" else "dict[str, Any]"
    return python, dict(schema)


def _example(schema: Mapping[str, Any]) -> Any:
    if schema.get("enum"):
        return schema["enum"][0]
    return schema.get("default")


def read_managed_kind(path: Path) -> ManagedKind:
    """The MR kind a CRD file defines; anything but one provider-upjet-aws v2 namespaced MR CRD is refused."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise InputError.single(source, f"cannot read the CRD file: {err}") from None
    docs = [d.obj for d in load_documents_from_text(text, source)]
    crds = [d for d in docs if isinstance(d, dict) and d.get("kind") == "CustomResourceDefinition"]
    if len(crds) != 1 or crds[0].get("apiVersion") != "apiextensions.k8s.io/v1":
        raise InputError.single(
            source, f"expected one apiextensions.k8s.io/v1 CustomResourceDefinition, found {len(crds)}"
        )
    spec = crds[0].get("spec") or {}
    group = str(spec.get("group", ""))
    kind = str((spec.get("names") or {}).get("kind", ""))
    storage = next((v for v in spec.get("versions") or [] if v.get("storage")), None)
    root = (((storage or {}).get("schema") or {}).get("openAPIV3Schema") or {}).get("properties") or {}
    mr_spec = (root.get("spec") or {}).get("properties") or {}
    if (
        not group.endswith(MR_GROUP_SUFFIX)
        or spec.get("scope") != "Namespaced"
        or "forProvider" not in mr_spec
        or "managementPolicies" not in mr_spec
    ):
        raise InputError.single(
            source,
            f"{kind or 'this CRD'} ({group or 'no group'}) is not a provider managed resource CRD: aiplane composes "
            f"provider-upjet-aws v2 namespaced managed resources (group *{MR_GROUP_SUFFIX}, spec.forProvider, "
            "spec.managementPolicies)",
        )
    assert storage is not None
    for_provider = mr_spec["forProvider"]
    properties = for_provider.get("properties") or {}
    by_rule = [
        match[1]
        for rule in (root.get("spec") or {}).get("x-kubernetes-validations") or []
        if (match := _REQUIRED_RULE_MESSAGE.fullmatch(str(rule.get("message", ""))))
    ]
    required = sorted({*for_provider.get("required", []), *by_rule} - {"region"})
    at_provider = ((root.get("status") or {}).get("properties") or {}).get("atProvider") or {}
    managed = ManagedKind(
        source,
        group,
        str(storage["name"]),
        kind,
        taggable="tags" in properties,
        has_arn="arn" in (at_provider.get("properties") or {}),
        references=sorted(n for n in properties if f"{n}Ref" in properties and f"{n}Selector" in properties),
    )
    for name in required:
        schema = properties.get(name) or {}
        annotation, crd_schema = _annotation(schema)
        managed.required.append(
            SpecField(
                name=f"{managed.part}{name[:1].upper()}{name[1:]}" if name in RESERVED else name,
                crd_name=name,
                annotation=annotation,
                crd_schema=crd_schema,
                origin=f"{managed.api_version} {kind}",
                description=_first_sentence(schema.get("description", "")) or f"{kind} {name}.",
                forcenew=forcenew_hit(managed.api_version, kind, f"spec.forProvider.{name}") is not None,
                example=_example(schema),
            )
        )
    return managed


def _pluralize(word: str) -> str:
    """English plural of a kind's last word (Topic → Topics, Policy → Policies, Index → Indexes)."""
    if word.lower().endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    if word.lower().endswith("y") and word[-2:-1].lower() not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def _plural(kind: str) -> str:
    """The XRD's plural: lowercase, as Kubernetes resource names are."""
    return _pluralize(kind).lower()


def _environment_key(kind: str) -> str:
    """The key of its items in environment files: lowerCamelCase plural, like `nodePools`."""
    plural = _pluralize(kind)
    return plural[:1].lower() + plural[1:]


@cache
def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("aiplane", "data/templates/newapi"),
        autoescape=False,  # Python and YAML, not HTML
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


def _merge_fields(kinds: list[ManagedKind]) -> list[SpecField]:
    """One spec field per required MR field name; two MRs that require the same field share it."""
    merged: dict[str, SpecField] = {}
    for mr in kinds:
        for f in mr.required:
            known = merged.get(f.name)
            if known is None:
                merged[f.name] = f
            elif known.annotation != f.annotation or known.crd_schema != f.crd_schema:
                raise InputError.single(
                    mr.source, f"{f.crd_name} has another schema here than in another CRD; scaffold them as two APIs"
                )
            elif f.forcenew and not known.forcenew:
                merged[f.name] = f
    return list(merged.values())


def _example_entry(kind: str, key: str, fields: list[SpecField]) -> tuple[str, list[str]]:
    """The YAML block adding one item of the new kind to an environment, and the fields it cannot fill."""
    lines = [f"# {kind} XRs (scaffolded by `aiplane new api`).", f"{key}:", "- name: example"]
    missing = []
    for f in fields:
        if f.example is None:
            missing.append(f.name)
            lines.append(f"  # {f.name}: required, fill in (see xrds/{kind.lower()}.py)")
        else:
            lines.append(f"  {f.name}: {json.dumps(f.example)}")  # JSON scalars are YAML flow scalars
    lines += ["  finops:", f"    tier: {EXAMPLE_TIER}"]
    return "\n" + "\n".join(lines) + "\n", missing


def _refusals(settings: Settings, kind: str, group: str | None, plural: str, key: str) -> list[Problem]:
    problems = []
    if not KIND_PATTERN.fullmatch(kind):
        problems.append(Problem(kind, "a kind is UpperCamelCase: a capital letter, then letters and digits (2-63)"))
        return problems
    if group is not None and group != settings.group:
        problems.append(
            Problem(
                "--group",
                f"{group!r}: every platform API of this project is served in {settings.group!r} "
                "([tool.aiplane] group in pyproject.toml); change it there for all of them",
            )
        )
    project = discover(settings)
    for api in project.apis.values():
        if api.kind.lower() == kind.lower():
            problems.append(Problem(kind, f"platform API {api.kind} already exists"))
        elif api.plural == plural or api.environment_key == key:
            problems.append(Problem(kind, f"{api.kind} already uses the plural {plural!r} or the environment key {key!r}"))
    if key in EnvironmentSettings.model_fields:
        problems.append(Problem(kind, f"environment files already have a field {key!r}"))
    return problems


def run(kind: str, group: str | None, crd_files: list[str], env: str | None) -> int:
    settings = load_settings()
    plural, key = _plural(kind), _environment_key(kind)
    problems = _refusals(settings, kind, group, plural, key)
    if problems:
        raise InputError(problems)
    if not crd_files:
        raise InputError.single("--from-crd", "name at least one provider managed resource CRD for the Composition to compose")
    kinds = [read_managed_kind(Path(f)) for f in crd_files]
    parts = [mr.resource_name for mr in kinds]
    if len(set(parts)) != len(parts):
        raise InputError.single("--from-crd", "two CRDs of the same kind: each kind is composed once")
    fields = _merge_fields(kinds)
    module = kind.lower()
    service = kinds[0].service
    context = {
        "kind": kind,
        "plural": plural,
        "environment_key": key,
        "module": module,
        "service": service,
        "managed": kinds,
        "fields": fields,
        "forcenew_known": {mr.kind: (mr.api_version, mr.kind) in forcenew_paths() for mr in kinds},
        "tier": EXAMPLE_TIER,
    }
    targets = {
        settings.xrds / f"{module}.py": "xrd.py.j2",
        settings.compositions / f"{module}_{service}.py": "composition.py.j2",
        settings.root / "tests" / f"test_{module}_api.py": "test.py.j2",
    }
    existing = [str(p.relative_to(settings.root)) for p in targets if p.exists()]
    if existing:
        raise InputError([Problem(p, "already exists; aiplane new api never overwrites a file") for p in existing])
    entry, missing = _example_entry(kind, key, fields)
    env_file = _environment_file(settings, env) if env else None
    if env_file is not None and missing:
        raise InputError.single(
            str(env_file.relative_to(settings.root)),
            f"the example entry cannot be added: {', '.join(missing)} need values the CRD does not give; "
            "run without --env and add the printed entry by hand",
        )
    rendered = {path: _templates().get_template(name).render(**context) for path, name in targets.items()}
    for path, text in rendered.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"created {path.relative_to(settings.root)}")
    registry = SchemaRegistry.default(extra=list(settings.crds))
    for mr in kinds:
        if not registry.versions(mr.group, mr.kind):
            print(
                f"note: validation does not know {mr.kind}.{mr.group}: add the folder of {mr.source} to "
                "`crds` in [tool.aiplane]",
                file=sys.stderr,
            )
    if env_file is not None:
        text = env_file.read_text(encoding="utf-8")
        env_file.write_text(text + ("" if text.endswith("\n") else "\n") + entry, encoding="utf-8")
        print(f"added an example {kind} to {env_file.relative_to(settings.root)}")
    else:
        print(f"\nAdd {kind} items to an environment file (environments/<env>.yaml), for example:\n{entry}")
    print("Then run `aiplane synth` and `aiplane check`.")
    return 0


def _environment_file(settings: Settings, env: str) -> Path:
    for path in environment_files(settings.environments, settings.root):
        if path.stem == env:
            return path
    raise InputError.single("--env", f"no environment {env!r} in {settings.environments.relative_to(settings.root)}/")
