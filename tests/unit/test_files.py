"""Files written by several writers at once: each write lands whole, none fails on another's rename."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

from streamstack.contract import load_contract, write_contract
from streamstack.files import replace_text


def test_writers_of_one_file_at_once_never_collide(tmp_path: Path) -> None:
    """What the three Flink submissions of one DAG run did with the contract file (one failed)."""
    target, contract = tmp_path / "flink" / "contract.json", load_contract()
    barrier, errors = threading.Barrier(6), []

    def write() -> None:
        barrier.wait()
        try:
            for _ in range(60):
                write_contract(target, contract)
        except OSError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert target.read_text().startswith("{") and [p.name for p in target.parent.iterdir()] == ["contract.json"]


def test_a_private_file_is_private_from_the_start(tmp_path: Path) -> None:
    target = replace_text(tmp_path / "secret.properties", "password=x\n", mode=0o600)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600 and target.read_text() == "password=x\n"
