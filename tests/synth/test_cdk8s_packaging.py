"""cdk8s packages what `aiplane synth` writes; every read-only path (check, plan, cost, synth --check, audit,
the stacks) takes the same objects without starting Node. The two must be the same tree, byte for byte."""

from __future__ import annotations

import sys

from aiplane.project import Settings
from aiplane.synthesis.cdk8s_app import package_plain, synthesize_charts
from aiplane.synthesis.pipeline import synthesize
from aiplane.yamlio import dump_yaml


def test_the_tree_is_the_same_with_and_without_cdk8s(settings: Settings) -> None:
    packaged = synthesize(settings, cdk8s=True)
    plain = synthesize(settings)
    assert plain.files() == packaged.files()
    assert plain.objects() == packaged.objects()


def test_packaging_plain_is_what_cdk8s_returns_for_awkward_values() -> None:
    obj = {"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": "x", "labels": {"b": "y", "a": "1e3"}},
           "data": {"n": "no", "whole": 2.0, "text": "line\u2028two"}}
    plain, packaged = package_plain({"c": [obj]})["c"], synthesize_charts({"c": [obj]})["c"]
    assert [p.obj for p in plain] == [p.obj for p in packaged]
    assert [dump_yaml(p.obj) for p in plain] == [p.text for p in packaged]


def test_a_read_only_command_never_imports_cdk8s() -> None:
    """The check path, in a fresh interpreter: cdk8s (and with it jsii and Node) is never imported."""
    import subprocess

    code = ("import sys; from aiplane.project import load_settings; from aiplane.synthesis.pipeline import "
            "synthesize; synthesize(load_settings()); print('cdk8s' in sys.modules, 'jsii' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]
