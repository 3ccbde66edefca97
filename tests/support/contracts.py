"""Contract files for tests of the contract's own checks: the project's one, edited."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from streamstack import contract as rules


def edited_contract(tmp_path: Path, change: Callable[[dict[str, Any]], Any]) -> Path:
    """``config/contract.yaml`` with ``change`` applied to its data, written under ``tmp_path``."""
    data = yaml.safe_load(Path(rules.default_contract_file()).read_text())
    change(data)
    path = tmp_path / "contract.yaml"
    path.write_text(yaml.safe_dump(data))
    return path
