"""What a rule pack check reports: ``Problem(line, col, message)``, and ``PackError`` for all."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, order=True)
class Problem:
    line: int
    col: int
    message: str

    def format(self, filename: str) -> str:
        return f"{filename}:{self.line}:{self.col}: {self.message}"


class PackError(ValueError):
    """The pack has problems; ``problems`` lists them in file order."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.line}:{p.col}: {p.message}" for p in problems))
        self.problems = problems
