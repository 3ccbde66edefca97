"""Run the generated validation SQL on a local Flink runtime over given values (run by .venv-flink's python).

``python validation_driver.py CONTRACT.json CASES.jsonl OUT.jsonl``: each case line is
``{"partition": int, "offset": int, "value": base64 str|null}`` (the record's value as bytes);
each output line the ``checked`` view's row for it, with the five payload fields its dead letter
would carry (``flinkjob.dead_letter_select``). No Kafka, no cluster: ``from_elements`` into the view.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "jobs" / "flink"))

import flinkjob
import validation
from pyflink.table import DataTypes, EnvironmentSettings, TableEnvironment

PAYLOAD_FIELDS = ["payload", "payload_encoding", "payload_truncated", "payload_bytes", "payload_sha256"]


def _collect(t_env: TableEnvironment, sql: str, names: list[str]) -> dict[int, dict]:
    with t_env.execute_sql(sql).collect() as rows:
        return {r[0]: dict(zip(names, list(r), strict=True)) for r in rows}


def main(contract_file: str, cases_file: str, out_file: str) -> None:
    contract = json.loads(Path(contract_file).read_text())
    cases = [json.loads(line) for line in Path(cases_file).read_text().splitlines() if line.strip()]
    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    conf = t_env.get_config()
    conf.set("parallelism.default", "1")
    conf.set("table.local-time-zone", "UTC")
    row = DataTypes.ROW([DataTypes.FIELD("i", DataTypes.INT()), DataTypes.FIELD("value", DataTypes.BYTES()),
                         DataTypes.FIELD("partition", DataTypes.INT()), DataTypes.FIELD("offset", DataTypes.BIGINT())])
    elements = [(i, None if c["value"] is None else bytearray(base64.b64decode(c["value"])), c["partition"],
                 c["offset"]) for i, c in enumerate(cases)]
    t_env.create_temporary_view("cases", t_env.from_elements(elements, row))
    t_env.execute_sql("CREATE TEMPORARY VIEW src AS SELECT i, `value`, `partition`, `offset`, 'purchases' AS `topic`, "
                      "CAST(NULL AS TIMESTAMP(3)) AS tt FROM cases")
    t_env.execute_sql(validation.checked_view_sql(contract, "src", "checked"))
    names = ["source_offset", "source_partition", *(n for n, _ in validation.CHECKED_FIELDS)]
    checked = _collect(t_env, f"SELECT {', '.join(names)} FROM checked", names)
    letters = _collect(t_env, f"SELECT source_offset, {', '.join(PAYLOAD_FIELDS)} FROM ("
                       f"{flinkjob.dead_letter_select('driver', 'reason', 'checked', contract)})",
                       ["source_offset", *PAYLOAD_FIELDS])
    with open(out_file, "w") as out:
        for offset, r in checked.items():
            out.write(json.dumps({**r, **letters[offset]}, default=str) + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:4])
