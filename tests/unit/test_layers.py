"""The dependency arrows of DEVELOPERS.md for the files that are no package (import-linter checks the package).

DAG files import only the Airflow layer (``streamstack.providers``), the Task SDK and the standard
library; a job imports only its engine, the standard library and the modules beside it (the
shared contract reaches a job as a file, ``--contract``, never as an import of the platform).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENGINES = {"spark": ("pyspark",), "flink": ("pyflink",)}


def imports(path: Path) -> set[str]:
    """The top-level package of every import in ``path`` (at any depth of the module)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def _outside(found: set[str], allowed: tuple[str, ...]) -> list[str]:
    def ok(name: str) -> bool:
        top = name.split(".")[0]
        return top in sys.stdlib_module_names or top == "__future__" or any(
            name == a or name.startswith(a + ".") for a in allowed)
    return sorted(n for n in found if not ok(n))


@pytest.mark.parametrize("dag_file", sorted((ROOT / "dags").glob("*.py")), ids=lambda p: p.name)
def test_dag_files_import_only_the_airflow_layer(dag_file: Path) -> None:
    assert _outside(imports(dag_file), ("airflow.sdk", "streamstack.providers")) == []


@pytest.mark.parametrize(("engine", "job"), [(e, p) for e in ENGINES for p in sorted((ROOT / "jobs" / e).glob("*.py"))],
                         ids=lambda v: v.name if isinstance(v, Path) else v)
def test_jobs_import_only_their_engine_and_their_siblings(engine: str, job: Path) -> None:
    siblings = tuple(p.stem for p in job.parent.glob("*.py"))
    assert _outside(imports(job), ENGINES[engine] + siblings) == []


def test_the_check_sees_a_wrong_arrow(tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.py"
    wrong.write_text("import json\nfrom streamstack.stack import Stack\ndef f():\n    import pyspark\n")
    assert _outside(imports(wrong), ("airflow.sdk", "streamstack.providers")) == ["pyspark", "streamstack.stack"]
