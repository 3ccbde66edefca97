"""Secrets must never be on a command line: a sampler of every process's ``/proc/<pid>/cmdline``."""

from __future__ import annotations

import threading
from pathlib import Path


class CmdlineSampler:
    """Reads every process's command line every few hundred ms; remembers any holding ``secret``."""

    def __init__(self, secret: str) -> None:
        self.secret = secret.encode()
        self.hits: list[str] = []
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for entry in Path("/proc").iterdir():
                if not entry.name.isdigit():
                    continue
                try:
                    raw = (entry / "cmdline").read_bytes()
                except OSError:
                    continue
                if self.secret in raw:
                    shown = raw.replace(b"\0", b" ")[:200]
                    self.hits.append(f"pid {entry.name}: {shown!r}")
            self.samples += 1
            self._stop.wait(0.3)

    def __enter__(self) -> CmdlineSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
