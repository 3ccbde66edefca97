"""Build the Kafka Streams apps (``jobs/kstreams``, Maven) into the state directory, once per source.

The build output is ``<state>/kstreams/build/<digest>/``: the thin jar and ``lib/`` with its
runtime dependencies. The digest covers the pom and every source file, so an unchanged tree is
never rebuilt and a changed one always is; a running app keeps the jar of its own build. The
Surefire tests (TopologyTestDriver) run through :func:`maven_test` with the resolved contract.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from streamstack.errors import StackError
from streamstack.runtime.java import find_maven
from streamstack.settings import Settings

log = logging.getLogger(__name__)
JAR_NAME = "streamstack-kstreams.jar"
MAIN_CLASS = "streamstack.kstreams.Main"


@dataclass(frozen=True)
class Build:
    """A built app: its jar and dependency folder."""

    directory: Path

    @property
    def jar(self) -> Path:
        return self.directory / JAR_NAME

    @property
    def classpath(self) -> str:
        return f"{self.jar}:{self.directory / 'lib'}/*"


def project_dir(settings: Settings) -> Path:
    return settings.project_dir / "jobs" / "kstreams"


def source_digest(project: Path) -> str:
    """sha256 over the pom and ``src/main`` (path and content of each file), 16 hex digits."""
    h = hashlib.sha256()
    files = [project / "pom.xml", *sorted(p for p in (project / "src" / "main").rglob("*") if p.is_file())]
    for path in files:
        h.update(str(path.relative_to(project)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def _maven(args: list[str], project: Path, what: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([find_maven(), "-B", "-q", "-f", str(project / "pom.xml"), *args],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-40:])
        raise StackError(f"Maven failed to {what} jobs/kstreams (exit {proc.returncode}):\n{tail}")
    return proc


def build(settings: Settings | None = None, *, force: bool = False) -> Build:
    """Build the apps unless this source tree was built already; return the build."""
    settings = settings or Settings.from_env()
    project = project_dir(settings)
    root = settings.state_dir / "kstreams" / "build"
    target = root / source_digest(project)
    done = Build(target)
    if done.jar.exists() and (target / "lib").is_dir() and not force:
        return done
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="maven.", dir=root))
    try:
        log.info("building %s into %s", project, target)
        _maven([f"-Dkstreams.build.dir={work}", "-DskipTests", "package", "dependency:copy-dependencies",
                "-DincludeScope=runtime", f"-DoutputDirectory={work / 'out' / 'lib'}"], project, "build")
        out = work / "out"
        shutil.copy2(work / "streamstack-kstreams.jar", out / JAR_NAME)
        if not target.exists():  # else a concurrent build of the same tree won: use it
            out.rename(target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return done


def maven_test(settings: Settings, contract_file: Path, vectors_file: Path) -> str:
    """Run the Surefire tests (``mvn test``) against a resolved contract; returns Maven's output.

    :raises StackError: with the failing tests' output when a test fails.
    """
    project = project_dir(settings)
    work = settings.state_dir / "kstreams" / "test-build"
    proc = subprocess.run(
        [find_maven(), "-B", "-f", str(project / "pom.xml"), f"-Dkstreams.build.dir={work}",
         f"-Dstreamstack.contract={contract_file}", f"-Dstreamstack.vectors={vectors_file}", "test"],
        capture_output=True, text=True, check=False,
    )
    output = proc.stdout + proc.stderr
    if proc.returncode != 0:
        lines = [line for line in output.splitlines() if "ERROR" in line or "FAIL" in line or "Tests run" in line]
        raise StackError("Kafka Streams tests failed (mvn test):\n" + "\n".join(lines[-60:]))
    return output
