"""Resolve a service's jars from Maven Central once, into the shared cache directory.

Each service has its own pom under ``tools/`` so versions of Kafka, Spark and Pinot never mix.
A marker file holds a digest of the pom and the arguments: an unchanged pom is not resolved
again, a changed one is. The copy goes to a temporary folder first and is renamed into place,
so an interrupted download never leaves a half-filled classpath behind.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

from streamstack.errors import StackError
from streamstack.runtime.java import find_maven

log = logging.getLogger(__name__)
MARKER = ".resolved"
#: Services start side by side (stack.py); Maven 3.8's local repository is not safe for two
#: processes downloading the same plugin jars at once.
_MAVEN = threading.Lock()


def _digest(pom: Path, args: list[str]) -> str:
    h = hashlib.sha256(pom.read_bytes())
    h.update("\0".join(args).encode())
    return h.hexdigest()


def _run_maven(args: list[str], what: str) -> None:
    """Run Maven; the caller holds ``_MAVEN`` and has re-checked its marker under it."""
    proc = subprocess.run([find_maven(), "-B", "-q", *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-25:])
        raise StackError(f"Maven could not resolve {what} (exit {proc.returncode}):\n{tail}")


def copy_dependencies(pom: Path, dest: Path, *, extra_args: list[str] | None = None) -> Path:
    """Copy the runtime dependencies of ``pom`` into ``dest`` unless already there; return ``dest``."""
    args = ["dependency:copy-dependencies", "-DincludeScope=runtime", *(extra_args or [])]
    digest = _digest(pom, args)
    marker = dest / MARKER

    def done() -> bool:
        return marker.exists() and marker.read_text().strip() == digest

    if done():
        return dest
    with _MAVEN:
        if done():  # resolved by another thread (the stack's prefetch) while this one waited
            return dest
        log.info("resolving %s into %s", pom, dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=dest.name + ".", dir=dest.parent))
        try:
            _run_maven(["-f", str(pom), *args, f"-DoutputDirectory={tmp}"], str(pom))
            (tmp / MARKER).write_text(digest + "\n")
            if dest.exists():
                shutil.rmtree(dest)
            tmp.rename(dest)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return dest


def copy_artifact(coordinate: str, dest: Path) -> Path:
    """Copy one artifact (``group:artifact:version[:packaging[:classifier]]``) into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    marker = dest / (MARKER + "-" + hashlib.sha256(coordinate.encode()).hexdigest()[:16])
    if marker.exists():
        return dest
    with _MAVEN:
        if not marker.exists():
            _run_maven(["dependency:copy", f"-Dartifact={coordinate}", f"-DoutputDirectory={dest}"], coordinate)
            marker.write_text(coordinate + "\n")
    return dest
