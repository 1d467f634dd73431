"""`python -m aiplane` is the same CLI as the console script; every command's --help states its exit codes;
--env completes environment names; messages name paths relative to the project root; colour only on a
terminal and never under NO_COLOR."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import click
import pytest

from aiplane.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parent / "synth"))
from project_copy import AIPLANE, copy_project, run_aiplane


def test_python_dash_m_runs_the_cli() -> None:
    done = subprocess.run([sys.executable, "-m", "aiplane", "--help"], capture_output=True, text=True, check=True)
    assert "synth" in done.stdout and "check" in done.stdout


def _every_command(group: click.Group = main, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found += _every_command(command, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


def test_every_command_and_group_states_its_exit_codes_in_help() -> None:
    commands = _every_command()
    assert ("catalog", "status") in commands and ("ethics", "gate") in commands and () in commands
    for words in commands:
        done = subprocess.run([sys.executable, "-m", "aiplane", *words, "--help"], capture_output=True, text=True,
                              check=True)
        assert "Exit 0" in " ".join(done.stdout.split()), words


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_project(tmp_path_factory.mktemp("cli"))


def _complete(project: Path, line: str) -> list[str]:
    """What bash completion offers for `line` (click's bash protocol: one `type,value` per line)."""
    words = line.split(" ")
    env = {**os.environ, "_AIPLANE_COMPLETE": "bash_complete", "COMP_WORDS": line, "COMP_CWORD": str(len(words) - 1)}
    done = subprocess.run([AIPLANE], cwd=project, env=env, capture_output=True, text=True, check=True)
    assert done.stderr == ""
    return [row.split(",", 1)[1] for row in done.stdout.splitlines() if row]


@pytest.mark.parametrize("command", ["synth", "check", "cost", "plan", "audit", "rightsize", "ethics gate"])
def test_env_options_complete_the_projects_environment_names(project: Path, command: str) -> None:
    assert _complete(project, f"aiplane {command} --env ") == ["dev", "prod", "staging"]
    assert _complete(project, f"aiplane {command} --env st") == ["staging"]


def test_completion_outside_a_project_offers_nothing_and_prints_no_error(tmp_path: Path) -> None:
    assert _complete(tmp_path, "aiplane cost --env ") == []


@pytest.mark.parametrize(
    "args",
    [("cost", "--env", "nope"), ("synth", "--env", "nope"), ("rightsize", "--env", "nope", "--source", "x.csv")],
)
def test_messages_name_paths_relative_to_the_project_root_even_from_a_subfolder(project: Path, args: tuple[str, ...]) -> None:
    subfolder = project / "xrds"
    done = run_aiplane(subfolder, *args)
    assert done.returncode == 2
    assert done.stderr.startswith("environments: no environment"), done.stderr
    assert str(project) not in done.stderr


def test_a_broken_platform_module_is_named_relative_to_the_project_root(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    (project / "xrds" / "broken.py").write_text("x = (\n")
    done = run_aiplane(project / "environments", "cost")
    assert done.returncode == 2 and done.stderr.startswith("xrds/broken.py: importing failed: SyntaxError")


def _read_terminal(leader: int) -> str:
    """Everything written to a pseudo-terminal until the child closes it; closes our end."""
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # Linux reports the closed terminal as EIO
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return b"".join(chunks).decode()


def _on_a_terminal(project: Path, *args: str, **env: str) -> str:
    """stdout of `aiplane args` when stdout is a pseudo-terminal, as a user's shell would run it."""
    leader, follower = pty.openpty()
    environ = {k: v for k, v in os.environ.items() if k != "NO_COLOR"} | env
    child = subprocess.Popen([AIPLANE, *args], cwd=project, env=environ, stdout=follower,
                             stderr=subprocess.DEVNULL)
    os.close(follower)
    output = _read_terminal(leader)
    child.wait(timeout=300)
    return output


def test_colour_on_a_terminal_and_never_with_no_color_or_in_a_pipe(project: Path) -> None:
    prod = project / "environments" / "prod.yaml"
    original = prod.read_text()
    prod.write_text(original.replace("budgetPerHour: 150", "budgetPerHour: 100"))  # flagged in red
    try:
        coloured = _on_a_terminal(project, "cost", "--env", "prod")
        plain = _on_a_terminal(project, "cost", "--env", "prod", NO_COLOR="1")
        piped = run_aiplane(project, "cost", "--env", "prod").stdout
    finally:
        prod.write_text(original)
    assert "\x1b[" in coloured and "over budget" in coloured
    assert "\x1b[" not in plain and "over budget" in plain
    assert "\x1b[" not in piped


def test_cost_diff_shows_progress_on_a_terminal_stderr_only(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    git = ["git", "-C", str(project), "-c", "user.email=t@example.org", "-c", "user.name=t"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "base"]):
        subprocess.run([*git, *args], check=True)
    leader, follower = pty.openpty()
    child = subprocess.Popen([AIPLANE, "cost", "--diff", "HEAD"], cwd=project, stdout=subprocess.PIPE,
                             stderr=follower, env={k: v for k, v in os.environ.items() if k != "NO_COLOR"})
    os.close(follower)
    stderr = _read_terminal(leader)
    stdout = child.communicate(timeout=300)[0].decode()
    assert "Pricing the environments at HEAD" in stderr
    assert "Pricing" not in stdout and stdout.startswith("cost against HEAD")
    piped = run_aiplane(project, "cost", "--diff", "HEAD")
    assert piped.stderr == ""
