"""Input that is invalid is refused at synth/check time, with one message at its line in the environment
file: S3 bucket names (AWS's general purpose bucket naming rules), Kubernetes label keys and values,
CronJob schedules (five fields, each in range) and image references (the distribution/reference
grammar). Each checker is compared with an independent reference on generated strings, and values
generated from the valid grammar are still accepted."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from aiplane.authoring.formats import (
    bucket_name_problem,
    cron_problem,
    image_reference_problem,
    label_key_problem,
    label_value_problem,
)
from aiplane.errors import InputError
from aiplane.project import Settings
from aiplane.synthesis.discovery import Project, discover
from aiplane.synthesis.environment import load_environment

REPO = Path(__file__).resolve().parents[2]
DEV = (REPO / "environments" / "dev.yaml").read_text(encoding="utf-8")
ENV_SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def project(settings: Settings) -> Project:
    return discover(settings)


def load_problems(tmp_path: Path, project: Project, text: str) -> list[Any]:
    path = tmp_path / "dev.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        load_environment(path, project)
    except InputError as err:
        return err.problems
    return []


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def yaml_quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# S3 bucket names -----------------------------------------------------------------------------------

def reference_bucket_name_ok(name: str) -> bool:
    """The AWS rules, written independently (Amazon S3 User Guide, General purpose bucket naming rules)."""
    return bool(
        re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", name)
        and not re.search(r"\.\.|\.-|-\.", name)
        and not re.fullmatch(r"(\d+\.){3}\d+", name)
        and not name.startswith(("xn--", "sthree-", "amzn-s3-demo-"))
        and not name.endswith(("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"))
    )


bucket_like = st.one_of(
    st.text(alphabet="ab9.-", min_size=0, max_size=70),
    st.text(alphabet="abcxyz019.-A_ ", min_size=1, max_size=20),
    st.builds(lambda p, b: p + b, st.sampled_from(["xn--", "sthree-", "amzn-s3-demo-", ""]),
              st.from_regex(r"[a-z0-9]{1,10}", fullmatch=True)),
    st.builds(lambda b, s: b + s, st.from_regex(r"[a-z0-9]{1,10}", fullmatch=True),
              st.sampled_from(["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3", ""])),
    st.builds(lambda a, b, c, d: f"{a}.{b}.{c}.{d}", *[st.integers(0, 999)] * 4),
)


@settings(max_examples=400)
@given(name=bucket_like)
def test_bucket_names_are_judged_as_aws_documents(name: str) -> None:
    assert (bucket_name_problem(name) is None) == reference_bucket_name_ok(name), name


@ENV_SETTINGS
@given(name=bucket_like.filter(lambda n: not reference_bucket_name_ok(n) and "\n" not in n))
def test_an_invalid_bucket_name_in_an_environment_is_one_located_problem(name: str, tmp_path: Path,
                                                                         project: Project) -> None:
    anchor = "  - name: artifacts\n"
    text = DEV.replace(anchor, anchor + f"    bucketName: {yaml_quoted(name)}\n", 1)
    problems = load_problems(tmp_path, project, text)
    assert len(problems) == 1, problems
    assert problems[0].line == line_of(text, "bucketName:"), problems[0]
    assert "bucketName" in str(problems[0])


# Label keys and values ------------------------------------------------------------------------------

def reference_label_key_ok(key: str) -> bool:
    prefix, _, name = key.rpartition("/") if "/" in key else ("", "", key)
    name_ok = len(name) <= 63 and re.fullmatch(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]", name) is not None
    prefix_ok = "/" not in key or (
        0 < len(prefix) <= 253
        and re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*", prefix) is not None)
    return name_ok and prefix_ok


label_like = st.one_of(
    st.text(alphabet="aZ9-_./ ", min_size=0, max_size=70),
    st.builds(lambda p, n: f"{p}/{n}", st.text(alphabet="ab.-A", max_size=12), st.text(alphabet="aB9-_.", max_size=12)),
)


@settings(max_examples=400)
@given(key=label_like)
def test_label_keys_are_judged_as_kubernetes_does(key: str) -> None:
    assert (label_key_problem(key) is None) == reference_label_key_ok(key), key


@settings(max_examples=300)
@given(value=st.text(alphabet="aZ9-_. /", max_size=70))
def test_label_values_are_judged_as_kubernetes_does(value: str) -> None:
    ok = value == "" or (len(value) <= 63 and re.fullmatch(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]", value))
    assert (label_value_problem(value) is None) == bool(ok), value


@ENV_SETTINGS
@given(key=label_like.filter(lambda k: not reference_label_key_ok(k)), value=st.sampled_from(["x", "-bad-", "a" * 64]))
def test_an_invalid_node_label_is_one_located_problem(key: str, value: str, tmp_path: Path, project: Project) -> None:
    anchor = "    capacity: spot\n"
    text = DEV.replace(anchor, anchor + f"    labels: {{{yaml_quoted(key)}: {yaml_quoted(value)}}}\n", 1)
    problems = load_problems(tmp_path, project, text)
    assert problems and all(p.line == line_of(text, "labels:") for p in problems), problems
    assert "label key" in str(problems[0])


# Cron schedules -------------------------------------------------------------------------------------

RANGES = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 6)]


@st.composite
def cron_field(draw: Any, low: int, high: int) -> str:
    kind = draw(st.sampled_from(["star", "value", "range", "step", "list"]))
    value = st.integers(low, high)
    if kind == "star":
        return "*"
    if kind == "value":
        return str(draw(value))
    if kind == "range":
        a, b = sorted((draw(value), draw(value)))
        return f"{a}-{b}"
    if kind == "step":
        return f"*/{draw(st.integers(1, high + 1))}"
    return ",".join(str(draw(value)) for _ in range(draw(st.integers(2, 4))))


valid_cron = st.tuples(*[cron_field(lo, hi) for lo, hi in RANGES]).map(" ".join)


@settings(max_examples=200)
@given(schedule=valid_cron)
def test_every_schedule_of_the_cronjob_grammar_is_accepted(schedule: str) -> None:
    assert cron_problem(schedule) is None, schedule


@st.composite
def out_of_range_cron(draw: Any) -> str:
    fields = list(draw(valid_cron).split())
    index = draw(st.integers(0, 4))
    low, high = RANGES[index]
    bad = draw(st.one_of(st.integers(high + 1, 10**6), st.integers(-99, low - 1) if low > 0 else st.nothing()))
    form = draw(st.sampled_from(["{}", "{}-{}", "*/0", "{}/0", "1,{}", "{}-1"]))
    fields[index] = form.format(bad, high) if form != "{}-1" else f"{high}-{low}"
    if fields[index] in (f"{high}-{low}",) and high == low:
        fields[index] = str(bad)
    return " ".join(fields)


@settings(max_examples=200)
@given(schedule=out_of_range_cron())
def test_a_schedule_that_cannot_fire_is_refused(schedule: str) -> None:
    assert cron_problem(schedule) is not None, schedule


@settings(max_examples=100)
@given(fields=st.lists(st.sampled_from(["*", "0", "5"]), max_size=8).filter(lambda f: len(f) != 5))
def test_a_schedule_without_five_fields_is_refused(fields: list[str]) -> None:
    assert cron_problem(" ".join(fields)) is not None


@ENV_SETTINGS
@given(schedule=out_of_range_cron())
def test_an_invalid_schedule_in_an_environment_is_one_located_problem(schedule: str, tmp_path: Path,
                                                                     project: Project) -> None:
    text = DEV.replace('schedule: "0 */6 * * *"', f"schedule: {yaml_quoted(schedule)}", 1)
    problems = load_problems(tmp_path, project, text)
    assert len(problems) == 1, problems
    assert problems[0].line == line_of(text, "schedule:"), problems[0]
    assert "schedule" in str(problems[0])


# Image references -----------------------------------------------------------------------------------

component = st.from_regex(r"[a-z0-9]+([._]|__|-+)?[a-z0-9]+|[a-z0-9]+", fullmatch=True)
registry = st.one_of(st.just(""), st.sampled_from(["111122223333.dkr.ecr.us-east-1.amazonaws.com/", "ghcr.io/",
                                                    "localhost:5000/", "registry.example.com:443/", "[::1]:5000/"]))
tag = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}", fullmatch=True)
valid_image = st.builds(
    lambda reg, path, t, d: reg + "/".join(path) + (f":{t}" if t else "") + (f"@sha256:{d}" if d else ""),
    registry, st.lists(component, min_size=1, max_size=3), st.one_of(st.just(""), tag),
    st.one_of(st.just(""), st.from_regex(r"[0-9a-f]{64}", fullmatch=True)),
)


@settings(max_examples=200)
@given(image=valid_image)
def test_every_reference_of_the_distribution_grammar_is_accepted(image: str) -> None:
    assert image_reference_problem(image) is None, image


@settings(max_examples=200)
@given(image=valid_image, breakage=st.sampled_from(["upper-path", "space", "empty-tag", "double-colon",
                                                    "bad-digest", "trailing-slash", "leading-dash"]))
def test_a_string_that_is_no_reference_is_refused(image: str, breakage: str) -> None:
    name = image.split("@")[0]
    broken = {
        "upper-path": image.replace("/", "/X", 1) if "/" in image else "X" + image,
        "space": image + " latest",
        "empty-tag": name.rsplit(":", 1)[0] + ":" if not name.endswith("]") else name + ":",
        "double-colon": name + "::1",
        "bad-digest": name + "@sha256:xyz",
        "trailing-slash": name + "/",
        "leading-dash": "-" + image,
    }[breakage]
    assume(broken != image)
    assert image_reference_problem(broken) is not None, broken


@ENV_SETTINGS
@given(image=st.sampled_from(["Sentiment:0.4.0", "ecr uri", "sentiment:", "a//b", "x@sha256:12", "UPPER/CASE",
                              "111122223333.dkr.ecr.us-east-1.amazonaws.com/sentiment:0.4.0:extra"]))
def test_an_invalid_image_in_an_environment_is_one_located_problem(image: str, tmp_path: Path,
                                                                  project: Project) -> None:
    old = "image: 111122223333.dkr.ecr.us-east-1.amazonaws.com/sentiment:0.4.0"
    text = DEV.replace(old, f"image: {yaml_quoted(image)}", 1)
    problems = load_problems(tmp_path, project, text)
    assert len(problems) == 1, problems
    assert problems[0].line == line_of(text, "image:"), problems[0]


# Through the CLI --------------------------------------------------------------------------------------

def tree_hash(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


@pytest.mark.parametrize(("old", "new", "words"), [
    ('schedule: "0 */6 * * *"', 'schedule: "61 99 * * *"', "minute 61 is outside 0-59"),
    ("  - name: artifacts\n", "  - name: artifacts\n    bucketName: xn--artifacts\n", "reserved prefix 'xn--'"),
    ("image: 111122223333.dkr.ecr.us-east-1.amazonaws.com/sentiment:0.4.0", "image: 'not an image'",
     "is not an image reference"),
    ("    capacity: spot\n", "    capacity: spot\n    labels: {'-x': y}\n", "label key '-x'"),
])
def test_synth_and_check_refuse_with_one_located_line_and_leave_manifests_alone(
        old: str, new: str, words: str, tmp_path: Path) -> None:
    project = tmp_path / "p"
    project.mkdir()
    shutil.copy2(REPO / "pyproject.toml", project / "pyproject.toml")
    for folder in ("xrds", "compositions", "environments", "manifests"):
        shutil.copytree(REPO / folder, project / folder, ignore=shutil.ignore_patterns("__pycache__"))
    env = project / "environments" / "dev.yaml"
    text = env.read_text(encoding="utf-8").replace(old, new, 1)
    env.write_text(text, encoding="utf-8")
    line = line_of(text, new.strip().splitlines()[-1].split(":")[0].strip())
    before = tree_hash(project / "manifests")
    aiplane = str(Path(sys.executable).with_name("aiplane"))
    for command in (["synth"], ["check", "--env", "dev"]):
        result = subprocess.run([aiplane, *command], cwd=project, capture_output=True, text=True, timeout=300,
                                check=False)
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
        assert lines[0].startswith(f"environments/dev.yaml:{line}:"), lines[0]
        assert words in lines[0]
    assert tree_hash(project / "manifests") == before

