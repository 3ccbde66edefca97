"""Pure parts of streamstack.spark: version check, submission, checkpoint reading, job contract."""

from __future__ import annotations

import importlib.util
import json
from dataclasses import replace
from pathlib import Path

import pytest

from streamstack import events
from streamstack.errors import ConfigError, StackError
from streamstack.settings import Settings
from streamstack.spark import checkpoint, control
from streamstack.spark.jars import check_versions, pom_spark_version
from streamstack.spark.jobs import JOBS, submission
from streamstack.topics import load_topics

PROJECT = Path(__file__).resolve().parents[3]


def pom(tmp_path: Path, version: str) -> Path:
    path = tmp_path / "pom.xml"
    path.write_text(f"<project><properties><spark.version>{version}</spark.version></properties></project>")
    return path


def test_connector_version_must_equal_pyspark(tmp_path: Path) -> None:
    assert pom_spark_version(PROJECT / "tools" / "spark-kafka" / "pom.xml") == check_versions(
        PROJECT / "tools" / "spark-kafka" / "pom.xml"
    )
    assert check_versions(pom(tmp_path, "4.1.1"), "4.1.1") == "4.1.1"
    with pytest.raises(StackError, match=r"mismatch.*4\.0\.0.*4\.1\.1"):
        check_versions(pom(tmp_path, "4.0.0"), "4.1.1")
    (tmp_path / "pom.xml").write_text("<project/>")
    with pytest.raises(StackError, match="no <spark.version>"):
        pom_spark_version(tmp_path / "pom.xml")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return replace(Settings.from_env(), state_dir=tmp_path / "state", cache_dir=tmp_path / "cache")


def test_submission_names_every_topic_from_the_declarations(settings: Settings, tmp_path: Path) -> None:
    topics = load_topics(settings.topics_file)
    sub = submission(
        "purchases_enrichment", settings, topics=topics, checkpoint_dir=tmp_path / "ck", jars=[Path("/j/a.jar")],
        conf={"spark.sql.shuffle.partitions": "2"},
    )
    cmd = sub.command("local[2]", binary="spark-submit")
    args = dict(zip(sub.application_args[::2], sub.application_args[1::2], strict=True))
    assert args["--purchases-topic"] == topics["purchases"].name
    assert args["--products-topic"] == topics["products"].name
    assert args["--output-topic"] == topics["purchases_enriched"].name
    assert args["--invalid-topic"] == topics["purchases_invalid"].name
    assert args["--checkpoint-dir"] == str(tmp_path / "ck")
    assert args["--trigger"] == "available-now"
    assert cmd[:3] == ["spark-submit", "--master", "local[2]"]
    assert "spark.sql.shuffle.partitions=2" in cmd and "spark.ui.enabled=false" in cmd
    assert cmd[cmd.index("--jars") + 1] == "/j/a.jar"
    assert cmd[-len(sub.application_args) - 1] == str(PROJECT / "jobs" / "spark" / "purchases_enrichment.py")
    for job in JOBS.values():
        assert (PROJECT / "jobs" / "spark" / job.script).exists()


def test_jobs_get_the_shared_modules_and_the_resolved_contract(settings: Settings, tmp_path: Path) -> None:
    sub = submission("running_totals", settings, jars=[], checkpoint_dir=tmp_path)
    assert [Path(p).name for p in sub.py_files] == ["kafka_io.py", "runner.py", "validation.py"]
    args = sub.application_args
    contract = json.loads(Path(args[args.index("--contract") + 1]).read_text())
    assert contract["schemas"]["purchases"][0]["name"] == "transaction_time"
    assert {c["code"] for c in contract["purchase"]["checks"]} >= {"quantity_out_of_range", "total_mismatch"}


def test_bad_job_or_trigger_is_refused(settings: Settings) -> None:
    with pytest.raises(ConfigError, match="unknown Spark job"):
        submission("nope", settings, jars=[])
    with pytest.raises(ConfigError, match="trigger"):
        submission("running_totals", settings, jars=[], trigger="continuous")


def test_committed_offsets_ignore_a_batch_that_was_not_committed(tmp_path: Path) -> None:
    ck = tmp_path / "ck"
    (ck / "offsets").mkdir(parents=True)
    (ck / "commits").mkdir()
    meta = json.dumps({"batchWatermarkMs": 0})
    (ck / "offsets" / "0").write_text(f'v1\n{meta}\n{{"demo.purchases":{{"0":5,"1":7}}}}')
    (ck / "offsets" / "1").write_text(f'v1\n{meta}\n{{"demo.purchases":{{"0":9,"1":8}}}}')
    (ck / "offsets" / ".1.crc").write_text("x")
    (ck / "commits" / "0").write_text("v1\n{}")
    assert checkpoint.last_committed_batch(ck) == 0
    assert checkpoint.committed_offsets(ck) == {"demo.purchases": {0: 5, 1: 7}}
    assert checkpoint.committed_offsets(tmp_path / "missing") == {}


def _module(name: str):
    spec = importlib.util.spec_from_file_location(name, PROJECT / "jobs" / "spark" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_job_file_contract_is_the_same_on_both_sides(tmp_path: Path) -> None:
    runner = _module("runner")
    assert runner.paths(tmp_path, "running_totals") == control.job_paths(tmp_path, "running_totals")


def test_job_schemas_come_from_the_contract() -> None:
    from streamstack.contract import load_contract

    validation = _module("validation")
    contract = validation.Contract(load_contract())
    schema = validation.struct_type(contract.fields("purchases"))
    assert schema.fieldNames() == events.field_names(events.PURCHASE)
    assert {f.name: f.dataType.simpleString() for f in schema.fields}["quantity"] == "int"
    raw = validation._raw_struct_type(contract.fields("purchases"))
    assert raw.fieldNames() == [*events.field_names(events.PURCHASE), "_corrupt_record"]
    assert {f.dataType.simpleString() for f in raw.fields} == {"string"}


def test_sasl_credentials_of_the_connection_never_reach_the_command_line(settings: Settings, tmp_path: Path) -> None:
    import os
    import stat

    connection = {"bootstrap.servers": "broker:9096", "security.protocol": "SASL_SSL",
                  "sasl.mechanisms": "SCRAM-SHA-512", "sasl.username": "alice", "sasl.password": "s3cret-pw",
                  "ssl.ca.location": "/etc/ca.pem", "group.id": "x"}
    sub = submission("running_totals", settings, jars=[], checkpoint_dir=tmp_path, kafka_config=connection)
    cmd = sub.command("local[2]", binary="spark-submit")
    assert not any("s3cret-pw" in part for part in cmd)
    args = sub.application_args
    assert args[args.index("--bootstrap-servers") + 1] == "broker:9096"
    secret = Path(args[args.index("--kafka-config-file") + 1])
    assert stat.S_IMODE(os.stat(secret).st_mode) == 0o600
    props = json.loads(secret.read_text())
    assert props["security.protocol"] == "SASL_SSL" and props["sasl.mechanism"] == "SCRAM-SHA-512"
    assert 'password="s3cret-pw"' in props["sasl.jaas.config"] and "group.id" not in props
    assert props["ssl.truststore.location"] == "/etc/ca.pem"


def test_small_available_now_backlogs_get_the_quick_jit_and_large_ones_the_default() -> None:
    from streamstack.runtime.java import QUICK_JIT
    from streamstack.spark.jobs import DEFAULT_CONF, SMALL_BACKLOG, jit_conf

    small = jit_conf(SMALL_BACKLOG)["spark.driver.extraJavaOptions"]
    assert small.startswith(DEFAULT_CONF["spark.driver.extraJavaOptions"]) and small.endswith(QUICK_JIT)
    assert jit_conf(SMALL_BACKLOG + 1) == {}


def test_the_windows_job_refuses_a_checkpoint_of_the_older_aggregation(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The windows became a stateful processor: the older job's state (other operators) cannot be
    resumed, and Spark would say so deep in its state store; the job names the way out."""
    monkeypatch.syspath_prepend(str(PROJECT / "jobs" / "spark"))
    windows = _module("sales_windows")
    fresh = tmp_path / "fresh"
    windows.check_state_format(fresh)  # a new checkpoint is marked
    (fresh / "offsets").mkdir()
    windows.check_state_format(fresh)  # and resumed
    old = tmp_path / "old"
    (old / "offsets").mkdir(parents=True)
    with pytest.raises(windows.IncompatibleCheckpoint, match="streamstack engine reset --engine spark sales_windows"):
        windows.check_state_format(old)
    sub = submission("sales_windows", settings, checkpoint_dir=tmp_path / "ck", jars=[])
    args = dict(zip(sub.application_args[::2], sub.application_args[1::2], strict=True))
    assert args["--invalid-topic"] == load_topics(settings.topics_file)["purchases_invalid"].name
