"""Property: arbitrary mutations of valid objects never crash validation; they become findings."""

from __future__ import annotations

import copy
import datetime
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from validation_fixtures import all_valid_objects

from aiplane.validation import Finding, SchemaRegistry, validate_documents

VALID_OBJECTS = all_valid_objects()
REGISTRY = SchemaRegistry.default()
XRD = next(o for o in VALID_OBJECTS if o["kind"] == "CompositeResourceDefinition")

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=12),
    st.sampled_from(["*", "Destroy", "v1", "NodeGroup", "Composition", "", "self == oldSelf", "1s", "-5m"]),
    st.dates(),
    st.binary(max_size=4),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, sub in value.items():
            out.extend(paths(sub, (*prefix, key)))
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            out.extend(paths(sub, (*prefix, index)))
    return out


def mutate(obj: Any, path: tuple[Any, ...], op: str, value: Any, key: str) -> Any:
    if not path:
        return value if op == "replace" else obj
    parent = obj
    for seg in path[:-1]:
        parent = parent[seg]
    last = path[-1]
    if op == "delete":
        del parent[last]
    elif op == "replace":
        parent[last] = value
    elif isinstance(parent[last], dict):
        parent[last][key] = value
    elif isinstance(parent[last], list):
        parent[last].append(value)
    else:
        parent[last] = value
    return obj


@st.composite
def mutated_objects(draw: st.DrawFn) -> Any:
    obj = copy.deepcopy(draw(st.sampled_from(VALID_OBJECTS)))
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(paths(obj)))
        obj = mutate(
            obj,
            where,
            draw(st.sampled_from(["replace", "delete", "insert"])),
            draw(values),
            draw(st.text(max_size=10)),
        )
    return obj


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_objects())
def test_mutations_never_crash_the_validator(obj: Any) -> None:
    # The XRD comes along so Compositions and XRs meet their platform API, as in manifests/.
    report = validate_documents([obj, XRD], REGISTRY)
    assert all(isinstance(f, Finding) and isinstance(f.message, str) for f in report.findings)
    assert not [f.message for f in report.findings if f.message.startswith("check failed to run")]
    json.dumps(report.as_json())
    report.as_text()


def test_a_yaml_date_deep_in_an_object_is_a_finding() -> None:
    obj = copy.deepcopy(VALID_OBJECTS[0])
    obj["metadata"]["annotations"] = {"since": datetime.date(2026, 1, 1)}
    report = validate_documents([obj], REGISTRY)
    assert not report.ok
