"""A Markdown reference per platform API (docs/apis/<kind>.md), rendered with jinja2 from what synth built:
the XRD (fields, types, defaults, constraints, printer columns), the Compositions of its kind (what each
composes, which XR fields reach which managed resource fields) and one XR an environment declares (the
example). Pure: returns file contents; `aiplane synth` writes and checks them with manifests/.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import jinja2

from aiplane import pycache
from aiplane.authoring.api import IMMUTABLE_RULE
from aiplane.crossplane.composed import composed_resources
from aiplane.yamlio import dump_yaml

# Relative to the project root; synth owns every `<kind>.md` and the index in it.
DOCS_FOLDER = "docs/apis"
INDEX = "README.md"
XR_SOURCES = ("FromCompositeFieldPath", "CombineFromComposite")


@dataclass(frozen=True)
class FieldRow:
    path: str
    type: str
    required: bool
    default: str
    constraints: str
    description: str


def _one_line(text: str) -> str:
    """Table-safe text: one line, `|` escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _type_of(schema: Mapping[str, Any]) -> str:
    kind = str(schema.get("type", "any"))
    if kind == "array":
        return f"array of {_type_of(schema.get('items') or {})}"
    if kind == "object" and "properties" not in schema and isinstance(schema.get("additionalProperties"), dict):
        return f"map of {_type_of(schema['additionalProperties'])}"
    return kind


def _constraints(schema: Mapping[str, Any]) -> str:
    parts = []
    if "enum" in schema:
        parts.append("one of " + ", ".join(f"`{json.dumps(v)}`" for v in schema["enum"]))
    for key, shown in (("minimum", "≥"), ("maximum", "≤")):
        if key in schema:
            exclusive = schema.get(f"exclusive{key[:1].upper()}{key[1:]}") is True
            parts.append(f"{shown.replace('≥', '>').replace('≤', '<') if exclusive else shown} {schema[key]}")
    for key, shown in (
        ("minLength", "length ≥"),
        ("maxLength", "length ≤"),
        ("minItems", "items ≥"),
        ("maxItems", "items ≤"),
    ):
        if key in schema:
            parts.append(f"{shown} {schema[key]}")
    if "pattern" in schema:
        parts.append(f"pattern `{schema['pattern']}`")
    for rule in schema.get("x-kubernetes-validations") or []:
        if rule.get("rule") == IMMUTABLE_RULE:
            parts.append("**immutable**")
        else:
            parts.append(f"rule: {rule.get('message') or rule.get('rule')}")
    return _one_line("; ".join(parts))


def _rows(schema: Mapping[str, Any], prefix: str = "spec") -> Iterator[FieldRow]:
    required = set(schema.get("required") or [])
    for name, sub in (schema.get("properties") or {}).items():
        path = f"{prefix}.{name}"
        default = json.dumps(sub["default"], sort_keys=True) if "default" in sub else ""
        yield FieldRow(
            path,
            _type_of(sub),
            name in required,
            _one_line(f"`{default}`" if default else ""),
            _constraints(sub),
            _one_line(sub.get("description", "")),
        )
        if sub.get("type") == "object" and "properties" in sub:
            yield from _rows(sub, path)
        items = sub.get("items") or {}
        if sub.get("type") == "array" and "properties" in items:
            yield from _rows(items, f"{path}[]")


def _patch_sets(composition: Mapping[str, Any]) -> list[dict[str, str]]:
    """The Composition's patch sets and the fields each writes (P&T steps only)."""
    out = []
    for step in composition["spec"].get("pipeline") or []:
        for patch_set in (step.get("input") or {}).get("patchSets") or []:
            fields = [str(p.get("toFieldPath")) for p in patch_set.get("patches") or [] if p.get("toFieldPath")]
            out.append({"name": str(patch_set["name"]), "fields": _one_line(", ".join(f"`{f}`" for f in fields))})
    return out


def _composed(composition: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each composed resource: what it is, the shared patch sets it uses, and its own fields from the XR."""
    out = []
    for res in composed_resources(composition):
        raw = composition["spec"]["pipeline"][res.step]["input"]["resources"][res.index]
        patches = [p for p in raw.get("patches") or [] if isinstance(p, Mapping)]
        sets = [str(p.get("patchSetName")) for p in patches if p.get("type") == "PatchSet"]
        own = sorted(
            {
                str(p.get("toFieldPath"))
                for p in patches
                if p.get("type", "FromCompositeFieldPath") in XR_SOURCES and p.get("toFieldPath")
            }
        )
        policies = (res.base.get("spec") or {}).get("managementPolicies")
        out.append(
            {
                "name": res.name,
                "api_version": res.api_version,
                "kind": res.kind,
                "policies": ", ".join(policies) if policies else "default (`*`)",
                "patch_sets": ", ".join(f"`{name}`" for name in sets),
                "patched": _one_line(", ".join(f"`{f}`" for f in own)),
            }
        )
    return out


class _BesideThisModule(jinja2.BytecodeCache):
    """The template's compiled code, kept beside this module's bytecode (aiplane.pycache; not among the
    package data, which the wheel carries): compiling it was 7 ms of every `synth --check`. jinja2 refuses
    code compiled from another source (checksum) or by another Python or jinja2 (magic header), and
    compiles afresh."""

    path = pycache.cache_path(__file__, "api-template.jinja2")

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        data = pycache.read(self.path)
        if data is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        pycache.write(self.path, bucket.bytecode_to_string())


TEMPLATE = "api.md.j2"


@cache
def _template() -> jinja2.Template:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("aiplane", "data/templates/docs"),
        autoescape=False,  # Markdown, not HTML
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        bytecode_cache=_BesideThisModule(),
    )
    return environment.get_template(TEMPLATE)


def _example(xr: Mapping[str, Any] | None) -> str:
    if xr is None:
        return ""
    shown = {k: v for k, v in xr.items() if k != "status"}
    return dump_yaml(shown)


def render_api(
    xrd: Mapping[str, Any],
    compositions: Sequence[Mapping[str, Any]],
    example: Mapping[str, Any] | None,
    example_source: str,
    environment_key: str,
) -> str:
    spec = xrd["spec"]
    version = spec["versions"][0]
    root = version["schema"]["openAPIV3Schema"]
    return _template().render(
        kind=spec["names"]["kind"],
        plural=spec["names"]["plural"],
        group=spec["group"],
        version=version["name"],
        scope=spec["scope"],
        description=_one_line(root.get("description", "")),
        environment_key=environment_key,
        default_composition=(spec.get("defaultCompositionRef") or {}).get("name", ""),
        columns=[
            {k: _one_line(str(c.get(k, ""))) for k in ("name", "type", "jsonPath", "description")}
            for c in version.get("additionalPrinterColumns") or []
        ],
        fields=list(_rows(root["properties"]["spec"])),
        status_fields=list(_rows(root["properties"].get("status") or {}, "status")),
        compositions=[
            {
                "name": c["metadata"]["name"],
                "labels": sorted((c["metadata"].get("labels") or {}).items()),
                "steps": [s["step"] for s in c["spec"].get("pipeline") or []],
                "patch_sets": _patch_sets(c),
                "resources": _composed(c),
            }
            for c in sorted(compositions, key=lambda c: str(c["metadata"]["name"]))
        ],
        example=_example(example),
        example_source=example_source,
    )


def render_docs(
    objects: Sequence[tuple[str, Mapping[str, Any]]], environment_keys: Mapping[str, str]
) -> dict[str, str]:
    """`docs/apis/<kind>.md` per XRD among `objects` ((path shown as the example's source, object), in file
    order), and an index; the example is the first XR of the kind in file order."""
    xrds = [o for _, o in objects if o.get("kind") == "CompositeResourceDefinition"]
    files: dict[str, str] = {}
    index = []
    for xrd in sorted(xrds, key=lambda x: str(x["spec"]["names"]["kind"])):
        kind = str(xrd["spec"]["names"]["kind"])
        group = str(xrd["spec"]["group"])
        compositions = [
            o
            for _, o in objects
            if o.get("kind") == "Composition" and (o["spec"].get("compositeTypeRef") or {}).get("kind") == kind
        ]
        example = next(
            (
                (path, o)
                for path, o in objects
                if o.get("kind") == kind and str(o.get("apiVersion", "")).startswith(f"{group}/")
            ),
            None,
        )
        name = f"{kind.lower()}.md"
        files[f"{DOCS_FOLDER}/{name}"] = render_api(
            xrd,
            compositions,
            example[1] if example else None,
            example[0] if example else "",
            environment_keys.get(kind, ""),
        )
        summary = xrd["spec"]["versions"][0]["schema"]["openAPIV3Schema"].get("description", "")
        index.append(f"- [{kind}]({name}): {_one_line(summary)}")
    files[f"{DOCS_FOLDER}/{INDEX}"] = (
        "<!-- Generated by `aiplane synth` (or `aiplane docs`); do not edit. -->\n"
        "# Platform API reference\n\n"
        "One page per platform API, generated from its XRD and Compositions "
        "([docs/authoring.md](../authoring.md)).\n\n" + "\n".join(index) + "\n"
    )
    return dict(sorted(files.items()))
