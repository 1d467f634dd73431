"""A command whose optional extra is missing says which extra to install, exit 2, instead of a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest

from aiplane import cli
from aiplane.extras import COMMAND_EXTRAS, extras_by_distribution, missing_extra_message

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("module", "command", "extra"),
    [
        ("boto3", "audit", "audit"),
        ("botocore.exceptions", "audit", "audit"),
        ("boto3", "rightsize", "finops"),
        ("ruamel", "rightsize", "finops"),
        ("statsmodels.tsa.holtwinters", "rightsize", "finops"),
        ("matplotlib", "rightsize", "finops"),
        ("numpy", "rightsize", "finops"),
        ("boto3", "catalog refresh", "finops"),
        ("boto3", "ethics evaluate", "monitor"),
        ("fairlearn", "ethics gate", "monitor"),
        # The command's own extra lacks it: the extra that has it.
        ("pyarrow", "ethics gate", "parquet"),
        ("pulumi_policy", "check", "pulumi"),
    ],
)
def test_the_extra_named_is_the_one_that_brings_the_missing_module(module: str, command: str, extra: str) -> None:
    message = missing_extra_message(module, command)
    assert message is not None and f"pip install 'aiplane[{extra}]'" in message
    assert f"`aiplane {command}`" in message


def test_a_module_no_extra_brings_is_not_blamed_on_extras() -> None:
    # A base dependency gone missing is a broken installation: the traceback stays.
    assert missing_extra_message("yaml", "synth") is None
    assert missing_extra_message("no_such_module_anywhere", "audit") is None


def test_dev_is_never_suggested_although_it_holds_everything() -> None:
    assert all("dev" not in extras for extras in extras_by_distribution().values())
    assert missing_extra_message("pytest", "check") is None


def test_every_command_listed_exists_and_its_extra_is_declared() -> None:
    declared = {extra for extras in extras_by_distribution().values() for extra in extras}
    for path, extra in COMMAND_EXTRAS.items():
        command: click.Command = cli.main
        for name in path.split():
            assert isinstance(command, click.Group)
            found = command.get_command(click.Context(command), name)
            assert found is not None, f"aiplane {path}: no such command"
            command = found
        assert extra in declared, f"aiplane {path}: extra {extra!r} is not in pyproject.toml"


def _cli_without(modules: list[str], args: list[str]) -> subprocess.CompletedProcess[str]:
    """The CLI in a fresh interpreter where `modules` cannot be imported (None in sys.modules), as after
    `pip install aiplane`; a fresh process, since re-importing aiplane's modules here would leave two copies."""
    code = (
        "import sys\n"
        f"sys.modules.update(dict.fromkeys({modules!r}))\n"
        "from aiplane.cli import main\n"
        f"main({args!r})\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)


def test_a_missing_sdk_gives_one_line_naming_the_extra_and_exit_2() -> None:
    done = _cli_without(["boto3", "botocore"], ["audit", "--env", "dev"])
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "`aiplane audit` needs boto3 (module 'boto3' is not installed), which the `audit` extra brings: "
        "pip install 'aiplane[audit]'"
    ]


def test_a_missing_module_inside_a_nested_command_names_its_extra() -> None:
    done = _cli_without(["fairlearn", "pandas"], ["ethics", "gate", "--env", "dev", "--endpoint", "x", "--data", "x"])
    assert done.returncode == 2
    assert "`aiplane ethics gate` needs" in done.stderr
    assert "pip install 'aiplane[monitor]'" in done.stderr
    assert "Traceback" not in done.stderr
