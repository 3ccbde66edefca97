"""Find the Java and Maven executables the local services need, with a clear error when absent."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path

from streamstack.errors import StackError

MIN_JAVA = 17
#: JVM options of short-lived clients (a small Spark run's driver, the ``flink run`` client): C1
#: only and the serial collector. Such a JVM ends before C2's compilations pay back; measured
#: here, a Spark run of 734 rows took 45 s instead of 73 s and a ``flink run`` client 9.4 CPU-s
#: instead of 17 (docs/README.md, Timings).
QUICK_JIT = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"


def _java_version(java: str) -> int:
    out = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not match:
        raise StackError(f"cannot tell the version of {java}: {out.stderr.strip()[:200]}")
    major = int(match.group(1))
    return int(match.group(2)) if major == 1 and match.group(2) else major


@cache
def find_java() -> str:
    """The ``java`` to run services with: ``$JAVA_HOME/bin/java``, else the one on PATH (>= 17)."""
    candidates = []
    if os.environ.get("JAVA_HOME"):
        candidates.append(str(Path(os.environ["JAVA_HOME"]) / "bin" / "java"))
    on_path = shutil.which("java")
    if on_path:
        candidates.append(on_path)
    for java in candidates:
        if Path(java).exists() and _java_version(java) >= MIN_JAVA:
            return java
    raise StackError(
        f"Java {MIN_JAVA} or newer not found (looked at JAVA_HOME and PATH: {candidates or 'none'}). "
        "Install it, e.g. `apt-get install openjdk-17-jre-headless`, or set JAVA_HOME."
    )


@cache
def find_maven() -> str:
    """The ``mvn`` executable; Maven resolves the Java services' jars from Maven Central."""
    mvn = shutil.which("mvn")
    if not mvn:
        raise StackError("Maven (mvn) not found on PATH: install it, e.g. `apt-get install maven`.")
    return mvn
