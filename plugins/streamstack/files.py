"""Files written whole or not at all, by any number of writers at once."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def replace_text(target: Path, text: str, mode: int = 0o644) -> Path:
    """Write ``text`` to ``target`` through a temporary file beside it and a rename.

    The temporary name is unique per writer: with one fixed ``.tmp`` name, two writers of the
    same file (three jobs of one DAG run starting side by side) renamed each other's file away
    and one failed with "No such file or directory". ``mode`` is set before the rename, so a
    secret is never readable by others, even for a moment.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
