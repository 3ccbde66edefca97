"""The state store: small records that must outlive one worker, in one configured place.

Which engine claims which topic, what each job was last asked to do (its mode, handle and the
offsets a bounded run must reach), where Flink's last savepoint is: a stop or a status asked on
another Airflow worker must find them. They are JSON files under one directory:
``STREAMSTACK_STATE_STORE`` when set (a path every worker mounts: NFS, a shared volume), else
``<state dir>/store`` (the embedded stack, one machine). Writes are atomic (temporary file, then
rename) and private (0600 files in 0700 directories); a lock file serialises read-modify-write.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from streamstack.files import replace_text

ENV = "STREAMSTACK_STATE_STORE"


class StateStore:
    """JSON documents by key (``"jobs/spark/running_totals"``) under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @classmethod
    def default(cls, state_dir: Path) -> StateStore:
        """``STREAMSTACK_STATE_STORE``, else ``<state_dir>/store``."""
        configured = os.environ.get(ENV)
        return cls(Path(configured).expanduser() if configured else Path(state_dir) / "store")

    def path(self, key: str) -> Path:
        return self.root / f"{key}.json"

    def _dir(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        for d in [path, *path.parents]:
            if d == self.root.parent:
                break
            if d.stat().st_mode & 0o077:
                d.chmod(0o700)

    def get(self, key: str) -> dict[str, Any] | None:
        try:
            return json.loads(self.path(key).read_text())
        except FileNotFoundError:
            return None

    def put(self, key: str, doc: dict[str, Any]) -> None:
        file = self.path(key)
        self._dir(file.parent)
        replace_text(file, json.dumps(doc) + "\n", mode=0o600)

    def delete(self, key: str) -> bool:
        try:
            self.path(key).unlink()
        except FileNotFoundError:
            return False
        return True

    def keys(self, prefix: str) -> list[str]:
        """Keys under ``prefix`` (a folder of keys), sorted."""
        base = self.root / prefix
        if not base.is_dir():
            return []
        return sorted(str(p.relative_to(self.root).with_suffix("")) for p in base.rglob("*.json"))

    @contextlib.contextmanager
    def lock(self, name: str) -> Iterator[None]:
        """An exclusive lock across processes (``flock`` on ``<root>/<name>.lock``)."""
        file = self.root / f"{name}.lock"
        self._dir(file.parent)
        with open(file, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
