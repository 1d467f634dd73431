"""The console script leaves without the interpreter's teardown, and loses nothing a normal exit does: the
status, buffered output, atexit handlers (temporary directories included); it keeps the normal exit when a
thread is still working, a tracer is installed, the status is a message, or AIPLANE_FULL_EXIT is set.

Each case runs in its own process: a quick exit in pytest's process would end the test run. A module-level
object whose finalizer prints TEARDOWN shows which exit was taken: the interpreter's teardown runs it, a
quick exit does not."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

_PROGRAM = """\
import atexit, os, sys, tempfile, threading, time
from aiplane.quick_exit import run_and_leave

class Teardown:
    def __del__(self):
        os.write(1, b"TEARDOWN\\n")

marker = Teardown()
"""


def _run(body: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    program = _PROGRAM + textwrap.dedent(body)
    environment = {k: v for k, v in os.environ.items() if k != "AIPLANE_FULL_EXIT"}
    return subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          env={**environment, **(env or {})}, timeout=60)


def test_the_quick_exit_skips_teardown_and_keeps_the_status_and_buffered_output() -> None:
    done = _run("""
        def program():
            print("buffered " * 1000)  # a pipe: block-buffered, not yet written when the program ends
            sys.stderr.write("to stderr\\n")
            sys.exit(3)
        run_and_leave(program)
    """)
    assert done.returncode == 3
    assert done.stdout.startswith("buffered buffered") and "TEARDOWN" not in done.stdout
    assert done.stderr == "to stderr\n"


def test_atexit_handlers_run_first_and_temporary_directories_are_removed(tmp_path: Path) -> None:
    record = tmp_path / "made"
    done = _run(f"""
        def program():
            atexit.register(print, "handler ran")
            kept = tempfile.TemporaryDirectory()  # never cleaned up by hand: its weakref.finalize does it at exit
            open({str(record)!r}, "w").write(kept.name)
            globals()["kept"] = kept
            sys.exit(0)
        run_and_leave(program)
    """)
    assert done.returncode == 0
    assert done.stdout == "handler ran\n"
    made = Path(record.read_text())
    assert not made.exists()


def test_a_running_thread_keeps_the_normal_exit_so_its_work_finishes() -> None:
    done = _run("""
        def work():
            time.sleep(0.3)
            print("thread finished", flush=True)
        def program():
            threading.Thread(target=work).start()
            sys.exit(0)
        run_and_leave(program)
    """)
    assert done.returncode == 0
    assert "thread finished" in done.stdout and "TEARDOWN" in done.stdout


def test_a_daemon_thread_does_not_hold_the_process() -> None:
    done = _run("""
        def program():
            threading.Thread(target=time.sleep, args=(30,), daemon=True).start()
            sys.exit(4)
        run_and_leave(program)
    """)
    assert done.returncode == 4 and "TEARDOWN" not in done.stdout


@pytest.mark.parametrize(("value", "full"), [("1", True), ("yes", True), ("0", False), ("", False)])
def test_the_variable_keeps_the_normal_exit_unless_empty_or_0(value: str, full: bool) -> None:
    done = _run("""
        run_and_leave(lambda: sys.exit(5))
    """, {"AIPLANE_FULL_EXIT": value})
    assert done.returncode == 5 and ("TEARDOWN" in done.stdout) is full


@pytest.mark.parametrize(
    "install",
    [
        "sys.settrace(lambda *a: None)",
        "sys.setprofile(lambda *a: None)",
        "import cProfile; cProfile.Profile().enable()",  # from Python 3.12 through sys.monitoring, not setprofile
    ],
    ids=["tracer", "profiler", "cProfile"],
)
def test_a_tracer_or_a_profiler_keeps_the_normal_exit(install: str) -> None:
    # coverage and pdb trace, cProfile profiles; each reports after the program returns, so the process must
    # not end inside it. (With a tracer installed Python's teardown may skip module finalizers, so the
    # decision is shown, not the marker.)
    done = _run(f"""
        from aiplane.quick_exit import quick_exit_is_safe
        print(quick_exit_is_safe(0))
        {install}
        print(quick_exit_is_safe(0))
    """)
    assert done.stdout.split()[:2] == ["True", "False"]


def test_an_exit_with_a_message_is_left_to_python_which_prints_it() -> None:
    done = _run("""
        run_and_leave(lambda: sys.exit("refused: reason"))
    """)
    assert done.returncode == 1 and done.stderr == "refused: reason\n" and "TEARDOWN" in done.stdout


def test_an_output_that_cannot_be_flushed_falls_back_to_the_normal_exit() -> None:
    done = _run("""
        class Unflushable:
            def write(self, text): return len(text)
            def flush(self): raise OSError("the reader went away")
        def program():
            sys.stdout = Unflushable()
            sys.exit(6)
        run_and_leave(program)
    """)
    assert "TEARDOWN" in done.stdout  # the finalizer writes to fd 1 directly
    assert done.returncode in (6, 120)  # 120: Python's own exit could not flush either, and says so


def test_only_integer_or_empty_statuses_are_quick() -> None:
    # In a process of its own: pytest's may hold threads of other tests, which rightly keep the normal exit.
    done = _run("""
        from aiplane.quick_exit import quick_exit_is_safe
        print(quick_exit_is_safe(0), quick_exit_is_safe(None), quick_exit_is_safe(2), quick_exit_is_safe("message"))
    """)
    assert done.stdout.split()[:4] == ["True", "True", "True", "False"]


def test_the_console_script_keeps_each_status(tmp_path: Path) -> None:
    aiplane = Path(sys.executable).with_name("aiplane")
    assert subprocess.run([str(aiplane), "--version"], capture_output=True, text=True).returncode == 0
    usage = subprocess.run([str(aiplane), "cost", "--no-such-option"], capture_output=True, text=True, cwd=tmp_path)
    assert usage.returncode == 2 and "No such option" in usage.stderr
    outside = subprocess.run([str(aiplane), "cost"], capture_output=True, text=True, cwd=tmp_path)
    assert outside.returncode == 2 and outside.stderr.strip()  # no project here: one line, exit 2
