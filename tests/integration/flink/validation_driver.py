"""Run the generated validation SQL on a local Flink runtime over given payloads (run by .venv-flink's python).

``python validation_driver.py CONTRACT.json CASES.jsonl OUT.jsonl``: each case line is
``{"partition": int, "offset": int, "payload": str|null}``; each output line the ``checked`` view's
row for it (plus ``i``, the case's index). No Kafka, no cluster: ``from_elements`` into the view.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "jobs" / "flink"))

import validation
from pyflink.table import DataTypes, EnvironmentSettings, TableEnvironment


def main(contract_file: str, cases_file: str, out_file: str) -> None:
    contract = json.loads(Path(contract_file).read_text())
    cases = [json.loads(line) for line in Path(cases_file).read_text().splitlines() if line.strip()]
    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    conf = t_env.get_config()
    conf.set("parallelism.default", "1")
    conf.set("table.local-time-zone", "UTC")
    row = DataTypes.ROW([DataTypes.FIELD("i", DataTypes.INT()), DataTypes.FIELD("payload", DataTypes.STRING()),
                         DataTypes.FIELD("partition", DataTypes.INT()), DataTypes.FIELD("offset", DataTypes.BIGINT())])
    elements = [(i, c["payload"], c["partition"], c["offset"]) for i, c in enumerate(cases)]
    t_env.create_temporary_view("cases", t_env.from_elements(elements, row))
    t_env.execute_sql("CREATE TEMPORARY VIEW src AS SELECT i, payload, `partition`, `offset`, 'purchases' AS `topic`, "
                      "CAST(NULL AS TIMESTAMP(3)) AS tt FROM cases")
    t_env.execute_sql(validation.checked_view_sql(contract, "src", "checked"))
    names = [n for n, _ in validation.CHECKED_FIELDS]
    result = t_env.execute_sql(f"SELECT source_partition, source_offset, {', '.join(names)} FROM checked")
    with result.collect() as rows, open(out_file, "w") as out:
        for r in rows:
            out.write(json.dumps(dict(zip(["source_partition", "source_offset", *names], list(r), strict=True)),
                                 default=str) + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:4])
