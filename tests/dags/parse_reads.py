"""Print every file a DAG file opens while it is parsed, except Python's own modules, a line each.

Run in a fresh interpreter, with Airflow imported first (the DAG processor has it already). An
audit hook sees each ``open``; module files (``.py``, ``.pyc``, extensions), the interpreter's
and site-packages' data and the DAG file itself are not "configuration read at parse time".
"""

import importlib.util
import sys
import sysconfig
from pathlib import Path

import airflow.sdk  # noqa: F401  - paid once by the DAG processor

path = Path(sys.argv[1]).resolve()
skip_roots = tuple({sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")})
opened: list[str] = []


def audit(event: str, args: tuple) -> None:
    if event == "open" and isinstance(args[0], str | bytes | Path):
        name = str(Path(str(args[0] if not isinstance(args[0], bytes) else args[0].decode())).resolve())
        if name != str(path) and not name.startswith("/dev/") and not name.endswith((".py", ".pyc", ".so", ".pth")) and not name.startswith(skip_roots):
            opened.append(name)


sys.addaudithook(audit)
spec = importlib.util.spec_from_file_location("dag_under_test", path)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
for name in dict.fromkeys(opened):
    print(name)
