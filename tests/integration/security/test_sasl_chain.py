"""Finding #12: the whole chain against a SASL_SSL (SCRAM-SHA-512) broker, no secret on a command line.

A second real broker (``kafka-sasl``, its only client listener SASL_SSL) runs beside the
session's plain one. Everything talks to it through the ``kafka_default`` connection, as the
DAG tasks do: the generator's task function, the Spark enrichment's submission (bounded,
available-now), Pinot's stream configs (``stream_security_configs``, as ``PinotApplyOperator`` adds them) and the
quality reader. Counts are exact. A sampler reads every process's ``/proc/<pid>/cmdline``
throughout and fails on the password; Pinot's stored table config must not hold it either.
A wrong password fails fast with one line.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from support.cmdline import CmdlineSampler
from support.services import created_topics
from support.spark_testkit import LIGHT_CONF

from streamstack.flink.jobs import submission as flink_submission
from streamstack.kstreams.control import KStreamsControl
from streamstack.pinot import PinotClient
from streamstack.pinot.client import PinotError
from streamstack.pinot.ingestion import wait_caught_up
from streamstack.pinot.stream_security import secrets_dir, stream_security_configs
from streamstack.pinot.tables import TableSpec, apply_specs, load_specs
from streamstack.quality import OffsetRange, read_kafka_range
from streamstack.quality.readers import SourceError
from streamstack.settings import Settings
from streamstack.spark.jobs import submission
from streamstack.stack.kafka_sasl import PASSWORD_ENV, SaslKafkaService
from streamstack.topics import TopicAdmin, TopicSpecs
from streamstack.topics.offsets import end_offsets, read_to_end

if TYPE_CHECKING:
    from streamstack.flink.config import FlinkConfig
    from streamstack.flink.rest import FlinkRest

pytestmark = pytest.mark.integration

TRANSACTIONS = 150


@pytest.fixture
def sasl_topics(sasl_broker: SaslKafkaService, kafka: Settings) -> Iterator[TopicSpecs]:
    yield from created_topics(kafka, "s", sasl_broker.client_config())


def _renamed(spec: TableSpec, suffix: str) -> TableSpec:
    name = f"{spec.name}_{suffix}"
    table = {**spec.table, "tableName": name, "segmentsConfig": {**spec.table["segmentsConfig"], "schemaName": name}}
    return replace(spec, name=name, schema={**spec.schema, "schemaName": name}, table=table)


def _run_bounded(command: list[str], env: dict[str, str], timeout: float) -> tuple[int, str]:
    """Run in a session of its own; on timeout kill the whole group (spark-submit's JVM too)."""
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        _, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        _, stderr = proc.communicate()
        pytest.fail(f"enrichment did not finish within {timeout:.0f}s:\n{stderr[-3000:]}")
    return proc.returncode, stderr


def _count(pinot: PinotClient, table: str, timeout: float = 120) -> int:
    """``COUNT(*)``, asked again while a loaded server answers "servers not responded" (a timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            (row,) = pinot.query(f"SELECT COUNT(*) AS n FROM {table}")
            return int(row["n"])
        except PinotError as exc:
            if "not responded" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(1)


def test_chain_over_sasl_ssl_and_no_secret_on_a_command_line(
    sasl_broker: SaslKafkaService, sasl_topics: TopicSpecs, kafka: Settings, pinot: PinotClient,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    started = time.monotonic()
    sasl = sasl_broker.client_config()
    password = sasl["sasl.password"]
    # The connection every task reads (an Airflow connection from the environment, as in CI).
    monkeypatch.setenv("AIRFLOW_CONN_KAFKA_DEFAULT",
                       json.dumps({"conn_type": "kafka", "extra": {**sasl, "group.id": "streamstack"}}))
    monkeypatch.setenv("STREAMSTACK_PINOT_SECRETS_DIR", str(tmp_path / "pinot-secrets"))
    from streamstack.providers.generator.operators import generate_sales
    from streamstack.providers.kafka.hooks import KafkaConfigHook

    connection = KafkaConfigHook().client_config()
    assert connection["security.protocol"] == "SASL_SSL"
    t = sasl_topics
    table: TableSpec | None = None
    with CmdlineSampler(password) as sampler:
        try:
            # 1. Generator (the DAG task's function) through kafka_default.
            summary = generate_sales(transactions=TRANSACTIONS, mode="load", seed=12, topics=t)
            purchases = summary["purchases"]
            assert summary["transactions"] == TRANSACTIONS and purchases >= TRANSACTIONS
            assert sum(end_offsets(sasl, t["purchases"].name).values()) == purchases

            # 2. Spark enrichment, bounded (available-now), with the connection's settings.
            steps = {"generator": time.monotonic() - started}
            sub = submission("purchases_enrichment", kafka, topics=t, checkpoint_dir=tmp_path / "checkpoints",
                             conf=LIGHT_CONF, kafka_config=connection)
            command = sub.command("local[2]")
            assert password not in " ".join(command)
            (config_file,) = [command[i + 1] for i, a in enumerate(command) if a == "--kafka-config-file"]
            assert os.stat(config_file).st_mode & 0o777 == 0o600
            returncode, stderr = _run_bounded(command, {**os.environ, **sub.env}, timeout=420)
            assert returncode == 0, f"enrichment exited {returncode}:\n{stderr[-4000:]}"
            steps["spark"] = time.monotonic() - started - sum(steps.values())
            enriched = sum(end_offsets(sasl, t["purchases_enriched"].name).values())
            invalid = sum(end_offsets(sasl, t["purchases_invalid"].name).values())
            assert enriched == purchases and invalid == 0, (enriched, invalid, purchases)

            # 3. Pinot ingests from the SASL_SSL broker; the stored config has a file reference only.
            security = stream_security_configs(connection, secrets_dir(kafka))  # as PinotApplyOperator
            (spec,) = load_specs(kafka.config_dir / "pinot", t.names(), connection["bootstrap.servers"],
                                 ["purchasesEnriched"], security)
            spec = _renamed(spec, uuid.uuid4().hex[:6])
            streams = spec.table["tableIndexConfig"]["streamConfigs"]
            assert streams["security.protocol"] == "SASL_SSL" and streams["sasl.mechanism"] == "SCRAM-SHA-512"
            assert streams["ssl.truststore.location"] == str(sasl_broker.ca_file)
            apply_specs(pinot, [spec])
            table = spec
            wait_caught_up(pinot, spec, sasl, timeout=180)
            assert _count(pinot, spec.name) == purchases
            stored = json.dumps(pinot.get_table(spec.name))
            assert "SASL_SSL" in stored and password not in stored
            again = apply_specs(pinot, [spec])  # same connection, same password file: nothing to change
            assert [c.action for c in again] == ["unchanged", "unchanged"], [c.line() for c in again]
            (secret_file,) = (tmp_path / "pinot-secrets").iterdir()
            assert secret_file.stat().st_mode & 0o777 == 0o600

            steps["pinot"] = time.monotonic() - started - sum(steps.values())
            # 4. The quality reader reads exactly the enriched purchases.
            highs = end_offsets(connection, t["purchases_enriched"].name)
            batch = read_kafka_range(connection, t["purchases_enriched"].name,
                                     [OffsetRange(p, 0, h) for p, h in highs.items()], timeout=60)
            assert len(batch.frame) == purchases and not batch.rejected
        finally:
            if table is not None:
                pinot.drop_table(table.name, wait=False)  # unique name: no re-use to wait for
    assert sampler.samples > 3 and sampler.hits == [], sampler.hits
    broker_cmdline = Path(f"/proc/{sasl_broker.process.pid()}/cmdline").read_bytes()
    assert password.encode() not in broker_cmdline
    print(f"SASL_SSL chain: {purchases} purchases in {time.monotonic() - started:.0f}s "
          f"({', '.join(f'{k} {v:.0f}s' for k, v in steps.items())})")


def test_a_wrong_password_fails_with_one_line_naming_the_refusal(sasl_broker: SaslKafkaService, sasl_topics: TopicSpecs) -> None:
    wrong = {**sasl_broker.client_config(), "sasl.password": "not-the-password"}
    cli = Path(sys.executable).parent / "streamstack"
    proc = subprocess.run(
        [str(cli), "generate", "-n", "5", "--mode", "load", "--bootstrap-servers", wrong["bootstrap.servers"],
         "--security-protocol", "SASL_SSL", "--sasl-username", wrong["sasl.username"],
         "--ssl-ca-location", wrong["ssl.ca.location"]],
        env={**os.environ, PASSWORD_ENV: wrong["sasl.password"]}, capture_output=True, text=True, timeout=60,
        check=False,
    )
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    assert proc.returncode != 0
    assert len(lines) == 1, lines
    assert "refused the SCRAM-SHA-512 login of user 'streamstack'" in lines[0], lines
    assert "not-the-password" not in lines[0]

    # The refusal, not a timeout: the login failure is told apart from an unreachable broker.
    with pytest.raises(SourceError, match="refused the SCRAM-SHA-512 login") as raised:
        read_kafka_range(wrong, sasl_topics["purchases_enriched"].name, [OffsetRange(0, 0, 1)], timeout=60)
    assert "\n" not in str(raised.value) and "timed out" not in str(raised.value)


def test_flink_and_kafka_streams_enrich_over_sasl_ssl_with_no_secret_on_a_command_line(
    sasl_broker: SaslKafkaService, sasl_topics: TopicSpecs, kafka: Settings, flink: FlinkConfig,
    flink_rest: FlinkRest, contract_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The other two engines through the same connection: every purchase enriched, exactly once.

    Flink (a bounded job on the session cluster) and Kafka Streams (a bounded app) run side by
    side over the generator's purchases, each into output topics of its own.
    """
    sasl = sasl_broker.client_config()
    password = sasl["sasl.password"]
    monkeypatch.setenv("AIRFLOW_CONN_KAFKA_DEFAULT",
                       json.dumps({"conn_type": "kafka", "extra": {**sasl, "group.id": "streamstack"}}))
    from streamstack.providers.generator.operators import generate_sales
    from streamstack.providers.kafka.hooks import KafkaConfigHook

    connection = KafkaConfigHook().client_config()
    summary = generate_sales(transactions=60, mode="load", seed=7, topics=sasl_topics)
    purchases = summary["purchases"]
    # Kafka Streams writes output topics of its own; its inputs are the same topics.
    outputs = ("purchases_enriched", "purchases_invalid")
    kstreams_topics = TopicSpecs(file=sasl_topics.file, topics=tuple(
        replace(s, name=f"{s.name}.kstreams") if s.logical in outputs else s for s in sasl_topics.topics))
    TopicAdmin(sasl).apply(kstreams_topics)
    control = KStreamsControl(kafka, topics=kstreams_topics, kafka_config=connection, run_dir=tmp_path / "kstreams",
                              application_ids={"purchases_enrichment": f"sasl-enrichment-{uuid.uuid4().hex[:8]}"},
                              ports={"purchases_enrichment": 0})
    with CmdlineSampler(password) as sampler:
        sub = flink_submission("purchases_enrichment", flink, contract_file, sasl_topics.names(), mode="bounded",
                               name=f"streamstack.sasl.{uuid.uuid4().hex[:8]}", kafka_config=connection)
        assert password not in " ".join(sub.command())
        jid = sub.run()
        try:
            control.run_bounded("purchases_enrichment", timeout=300)
        finally:
            control.reset("purchases_enrichment")
        assert flink_rest.wait_state(jid, {"FINISHED", "FAILED", "CANCELED"}, timeout=300) == "FINISHED", \
            flink_rest.job(jid)
    assert sampler.samples > 3 and sampler.hits == [], sampler.hits
    for engine, topics in (("flink", sasl_topics), ("kstreams", kstreams_topics)):
        enriched = sum(end_offsets(sasl, topics["purchases_enriched"].name).values())
        invalid = sum(end_offsets(sasl, topics["purchases_invalid"].name).values())
        # Both engines write transactionally: an end offset counts commit markers too, so the
        # records themselves are read (committed only) and counted by their identity.
        lines = {(r["transaction_id"], r["line_number"])
                 for r in map(json.loads, (m["value"] for m in read_to_end(sasl, topics["purchases_enriched"].name)))}
        assert len(lines) == purchases, (engine, len(lines), purchases, enriched, invalid)
        assert not read_to_end(sasl, topics["purchases_invalid"].name), engine
