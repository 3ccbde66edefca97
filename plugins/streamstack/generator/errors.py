"""Errors of the sales generator: each says what failed and where, so nothing fails silently."""

from __future__ import annotations

from dataclasses import dataclass

from streamstack.errors import StreamstackError


class GeneratorError(StreamstackError):
    """The generator could not do what it was asked (bad options, unreachable topic...)."""


class DeliveryError(GeneratorError):
    """Kafka did not acknowledge every produced record: the run is incomplete, never silently."""


@dataclass(frozen=True)
class RecordProblem:
    """A rejected input record: its 1-based position in the file, its line, the reason, the raw text."""

    position: int
    line: int
    reason: str
    payload: str

    def __str__(self) -> str:
        return f"record {self.position} (line {self.line}): {self.reason}"


class ReplayError(GeneratorError):
    """A recorded file cannot be replayed as it is; lists the bad records (nothing was produced)."""

    def __init__(self, file: str, problems: list[RecordProblem], *, limit: int = 20) -> None:
        self.file = file
        self.problems = problems
        shown = "\n  ".join(str(p) for p in problems[:limit])
        more = f"\n  ... and {len(problems) - limit} more" if len(problems) > limit else ""
        super().__init__(
            f"{file}: {len(problems)} bad record(s), nothing was produced "
            f"(use --dead-letter to send them to the dead-letter topic instead):\n  {shown}{more}"
        )
