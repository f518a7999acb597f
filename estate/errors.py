"""The estate's errors: a site file's problems, each with its line and the path of the offending key."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SiteProblem:
    """One thing wrong with a site file: where (line, "devices[3].floor") and what."""

    line: int | None
    path: str
    message: str

    def format(self, filename: str) -> str:
        """Return the problem as `FILE:LINE: path: message` (line and path left out when unknown)."""
        where = f"{filename}:{self.line}" if self.line is not None else filename
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class EstateError(Exception):
    """Base of the errors raised by the estate package."""


def format_problems(problems: Sequence[SiteProblem], filename: str) -> str:
    """Return every problem on its own line, as `FILE:LINE: path: message`, in file order."""
    return "\n".join(problem.format(filename) for problem in problems)


def _file_order(problem: SiteProblem) -> tuple[int, int]:
    # problems without a line (rare: whole-file facts) go last
    return (0, problem.line) if problem.line is not None else (1, 0)


class SiteError(EstateError):
    """A site file that cannot be used; `problems` lists everything wrong with it, in file order."""

    def __init__(self, problems: Sequence[SiteProblem], filename: str = "<site>") -> None:
        self.problems: list[SiteProblem] = sorted(problems, key=_file_order)
        self.filename = filename
        super().__init__(format_problems(self.problems, filename))

    def __reduce__(self):  # crosses from the child that parsed the file (estate/site_cache.py) whole
        return (type(self), (self.problems, self.filename))

    def __str__(self) -> str:
        return format_problems(self.problems, self.filename)
