"""Input errors: what the user must fix, with the file, line, column and field it concerns; and system
failures: what the machine did wrong (disk full, permissions, I/O, a held lock)."""

from __future__ import annotations

from dataclasses import dataclass, field


def located(path: str, line: int | None = None, column: int | None = None) -> str:
    """`path`, `path:line` or `path:line:column`: how every message and finding names a place in a file."""
    if line is None:
        return path
    return f"{path}:{line}" if column is None else f"{path}:{line}:{column}"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, located as precisely as we can."""

    path: str
    message: str
    line: int | None = None
    column: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = located(self.path, self.line, self.column)
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


@dataclass
class InputError(Exception):
    """Bad input (YAML syntax, unknown keys, wrong types...): exit status 2 and nothing written."""

    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)

    @classmethod
    def single(cls, path: str, message: str, **where: object) -> InputError:
        return cls([Problem(path, message, **where)])  # type: ignore[arg-type]


class ItemError(ValueError):
    """A problem with one field of an environment item, raised by a platform API hook.

    The environment loader turns it into a Problem located at that item's field in the YAML file.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class SystemFailure(Exception):
    """The machine, not the input, failed: disk full, permissions, I/O errors, a lock held by another
    run. One line naming what failed, exit status 2, and the files as they were (or restored)."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message

    @classmethod
    def from_os_error(cls, where: str, doing: str, err: OSError) -> SystemFailure:
        return cls(where, f"{doing}: {err.strerror or err}")
