"""Exceptions of streamstack. Each says what is wrong and where, so a user can fix it."""

from __future__ import annotations

from pathlib import Path


class StreamstackError(Exception):
    """Base class: an error the CLI prints without a traceback."""


class ConfigError(StreamstackError):
    """A configuration file or setting is wrong.

    :param message: what is wrong.
    :param file: the file it was read from, if any.
    :param key: the dotted key inside the file, if any.
    """

    def __init__(self, message: str, *, file: Path | str | None = None, key: str | None = None) -> None:
        self.file = str(file) if file is not None else None
        self.key = key
        where = []
        if self.file:
            where.append(self.file)
        if key:
            where.append(f"key '{key}'")
        super().__init__(f"{': '.join(where)}: {message}" if where else message)


class StackError(StreamstackError):
    """A local service could not be resolved, started, reached or stopped."""


class TopicReconcileError(StreamstackError):
    """The broker's topics cannot be brought to the declared state (e.g. partition decrease)."""
