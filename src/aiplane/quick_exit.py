"""End the `aiplane` process without tearing the interpreter down, once everything it owes is done.

A command is a short process that builds its whole input and keeps it to the end. Python's normal exit then
frees every object and clears every module one by one before the process ends, and that teardown was 15–20 %
of a command's wall time: 38 ms of `aiplane cost`, 72 ms of `aiplane check` (docs/performance.md,
"Leaving without teardown"). The kernel reclaims the memory at once; nothing aiplane keeps needs a
finalizer. So the console script and `python -m aiplane` end with os._exit, after doing what a normal exit
does that matters:

- the atexit handlers run (logging's, weakref.finalize's, which remove temporary directories, and any a
  library registered);
- then the buffered standard output and error are flushed (a flush that fails, on a closed pipe, falls back
  to Python's own exit, which reports it as it always has).

A normal exit is kept whenever the quick one could lose something: another non-daemon thread is running
(Python would wait for it), a profiler or tracer is installed, through sys.setprofile, sys.settrace or, from
Python 3.12, sys.monitoring (cProfile, coverage and pdb report after the program returns), the exit status
is not a number (SystemExit("message") prints the message), or AIPLANE_FULL_EXIT is set to anything but
"" or "0" (for debugging finalizers). Tests that call the click group in-process never come
here: only `console` does.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from collections.abc import Callable

FULL_EXIT_VARIABLE = "AIPLANE_FULL_EXIT"
# atexit has no public "run them now"; _run_exitfuncs is what the interpreter itself calls at exit (every
# CPython 3 has it): each handler once, any exception printed, the list cleared. Without it: a normal exit.
_RUN_EXIT_HANDLERS: Callable[[], None] | None = getattr(atexit, "_run_exitfuncs", None)


def run_and_leave(program: Callable[[], object]) -> None:
    """Run `program` (which ends by raising SystemExit, as click's standalone mode does) and leave quickly."""
    try:
        program()
    except SystemExit as done:
        if not quick_exit_is_safe(done.code):
            raise
        _RUN_EXIT_HANDLERS()  # type: ignore[misc]  # quick_exit_is_safe: it exists
        try:  # after the handlers, which may write too
            for stream in (sys.stdout, sys.stderr):
                if stream is not None:
                    stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: Python's own exit reports it
            raise done from None
        os._exit(done.code or 0)  # type: ignore[arg-type]  # quick_exit_is_safe: int or None


def quick_exit_is_safe(code: object) -> bool:
    """Whether ending with os._exit(code) loses nothing a normal exit would do (see the module docstring)."""
    if os.environ.get(FULL_EXIT_VARIABLE, "") not in ("", "0") or _RUN_EXIT_HANDLERS is None:
        return False
    if code is not None and not isinstance(code, int):
        return False
    if sys.getprofile() is not None or sys.gettrace() is not None or _monitoring_tools_in_use():
        return False
    return all(thread.daemon or thread is threading.main_thread() for thread in threading.enumerate())


def _monitoring_tools_in_use() -> bool:
    # From Python 3.12 cProfile, and coverage or pdb when asked to, watch a program through sys.monitoring
    # instead of a profile or trace function (so sys.getprofile() stays None): any registered tool counts.
    monitoring = getattr(sys, "monitoring", None)
    if monitoring is None:
        return False
    return any(monitoring.get_tool(tool) is not None for tool in range(6))  # tool ids 0-5 (PEP 669)
