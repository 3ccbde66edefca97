"""A jar set is resolved once even when two threads ask for it at the same time (the stack's
prefetch and the service's own start)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from streamstack.runtime import maven


@pytest.fixture
def maven_calls(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    calls: list[list[str]] = []

    def fake_maven(args: list[str], what: str) -> None:
        calls.append(args)
        # Both callers are provably inside at once: the second one has entered the call (and so
        # reached the lock, or run Maven itself) before the first one finishes.
        STARTED.wait(timeout=10)
        out = next(a.split("=", 1)[1] for a in args if a.startswith("-DoutputDirectory="))
        (Path(out) / "some.jar").write_text("jar")

    monkeypatch.setattr(maven, "_run_maven", fake_maven)
    return calls


#: Set once both threads are running the call under test.
STARTED = threading.Event()


def both_at_once(fn) -> None:
    """Run ``fn`` in two threads that are both started before Maven's (fake) run may end."""
    STARTED.clear()
    entered = threading.Barrier(2, action=lambda: threading.Timer(0.3, STARTED.set).start())

    def run() -> None:
        entered.wait(timeout=10)
        fn()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert not any(t.is_alive() for t in threads)


def test_copy_dependencies_runs_maven_once_for_two_concurrent_callers(tmp_path: Path, maven_calls) -> None:
    pom = tmp_path / "pom.xml"
    pom.write_text("<project/>")
    dest = tmp_path / "cache" / "libs"
    both_at_once(lambda: maven.copy_dependencies(pom, dest))
    assert len(maven_calls) == 1
    assert (dest / "some.jar").is_file() and (dest / maven.MARKER).is_file()


def test_copy_artifact_runs_maven_once_for_two_concurrent_callers(tmp_path: Path, maven_calls) -> None:
    dest = tmp_path / "lib"
    both_at_once(lambda: maven.copy_artifact("g:a:1", dest))
    assert len(maven_calls) == 1
    maven.copy_artifact("g:a:1", dest)
    assert len(maven_calls) == 1
