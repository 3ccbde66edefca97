"""Unit tests of the Flink side that need no cluster: config, submission command, engine claims."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from streamstack import engines
from streamstack.errors import ConfigError
from streamstack.flink.config import FlinkConfig
from streamstack.flink.jobs import FlinkError, Submission, submission
from streamstack.settings import Settings


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FlinkConfig:
    monkeypatch.setenv("STREAMSTACK_FLINK_PORT", "12345")
    settings = replace(Settings.from_env(), state_dir=tmp_path / "state")
    return FlinkConfig.from_env(settings)


def test_ports_and_state_come_from_settings(cfg: FlinkConfig, tmp_path: Path) -> None:
    assert cfg.rest_port == 12345
    assert cfg.rest_url == "http://127.0.0.1:12345"
    assert cfg.checkpoint_dir == tmp_path / "state" / "flink" / "checkpoints"


def test_a_bad_port_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAMSTACK_FLINK_PORT", "eighty")
    with pytest.raises(ConfigError, match="STREAMSTACK_FLINK_PORT"):
        FlinkConfig.from_env()


def test_submission_passes_topics_contract_mode_and_savepoint(cfg: FlinkConfig, tmp_path: Path) -> None:
    if not (cfg.venv / "bin" / "python").exists():
        pytest.skip(".venv-flink not installed")
    names = {"purchases": "p", "products": "pr", "purchases_enriched": "e", "purchases_invalid": "i"}
    sub = submission("purchases_enrichment", cfg, tmp_path / "c.json", names, mode="bounded", savepoint="file:///sp")
    cmd = sub.command()
    assert cmd[:4] == [str(cfg.flink_bin), "run", "-m", "127.0.0.1:12345"]
    assert cmd[cmd.index("-s") + 1] == "file:///sp"
    for flag, value in (("--purchases-topic", "p"), ("--products-topic", "pr"), ("--output-topic", "e"),
                        ("--invalid-topic", "i"), ("--mode", "bounded"), ("--job-name", "streamstack.purchases_enrichment")):
        assert cmd[cmd.index(flag) + 1] == value
    assert str(cfg.connector_jar) in cmd
    assert "--parallelism" not in cmd  # the job's default (1) unless asked


def test_parallelism_goes_to_the_job_not_to_flink_run(cfg: FlinkConfig, tmp_path: Path) -> None:
    """The job sets ``parallelism.default`` itself, which overrides ``flink run -p``: a bench run
    asked for 2 with ``-p 2`` ran with 1 subtask per operator."""
    if not (cfg.venv / "bin" / "python").exists():
        pytest.skip(".venv-flink not installed")
    names = {"purchases": "p", "products": "pr", "purchases_enriched": "e", "purchases_invalid": "i"}
    cmd = submission("purchases_enrichment", cfg, tmp_path / "c.json", names, parallelism=2).command()
    assert cmd[cmd.index("--parallelism") + 1] == "2"
    assert "-p" not in cmd[:cmd.index("-py")]


def test_live_enrichment_is_at_least_once_with_a_short_idle_timeout_and_the_rest_exactly_once(
    cfg: FlinkConfig, tmp_path: Path
) -> None:
    """Issue #28: a transactional sink shows rows at checkpoints (5 s) and a quiet partition held the
    watermark, so the join, 30 s: p95 17 s live (bench/live.py). Pinot de-duplicates the enriched
    and dead-letter tables, so the live enrichment is at-least-once; totals and windows stay
    exactly-once (a duplicate would be counted), and so does every bounded run."""
    if not (cfg.venv / "bin" / "python").exists():
        pytest.skip(".venv-flink not installed")

    def options(job: str, mode: str) -> dict[str, str]:
        cmd = submission(job, cfg, tmp_path / "c.json", mode=mode).command()
        return {flag: cmd[len(cmd) - 1 - cmd[::-1].index(flag) + 1] for flag in ("--delivery", "--idle-timeout")
                if flag in cmd}

    assert options("purchases_enrichment", "continuous") == {"--delivery": "at-least-once", "--idle-timeout": "1 s"}
    assert options("purchases_enrichment", "bounded") == {}
    assert options("running_totals", "continuous") == {}
    assert options("sales_windows", "continuous") == {}
    # What a caller asks for wins (the last flag counts).
    cmd = submission("purchases_enrichment", cfg, tmp_path / "c.json", extra=["--delivery", "exactly-once"]).command()
    assert cmd[len(cmd) - 1 - cmd[::-1].index("--delivery") + 1] == "exactly-once"


def test_unknown_job_and_mode_are_refused(cfg: FlinkConfig, tmp_path: Path) -> None:
    with pytest.raises(FlinkError, match="unknown Flink job"):
        Submission(job="nope", cfg=cfg, contract_file=tmp_path, topics={})
    with pytest.raises(FlinkError, match="mode"):
        Submission(job="running_totals", cfg=cfg, contract_file=tmp_path, topics={}, mode="sometimes")


def test_engine_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STREAMSTACK_ENGINE", raising=False)
    assert engines.engine() == "spark"
    monkeypatch.setenv("STREAMSTACK_ENGINE", "Flink")
    assert engines.engine() == "flink"
    assert engines.engine("spark") == "spark"
    with pytest.raises(ConfigError, match="STREAMSTACK_ENGINE"):
        engines.engine("storm")


def test_comparison_topics_share_inputs_and_split_outputs() -> None:
    names = {"purchases": "p", "products": "pr", "purchases_enriched": "e", "running_totals": "t"}
    assert engines.comparison_topics(names, "flink") == {"purchases": "p", "products": "pr",
                                                         "purchases_enriched": "e.flink", "running_totals": "t.flink"}


def test_sasl_connection_reaches_the_job_in_a_private_file_not_the_command_line(cfg: FlinkConfig, tmp_path: Path) -> None:
    import json
    import os

    sasl = {"bootstrap.servers": "b:9094", "security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512",
            "sasl.username": "u", "sasl.password": "hunter2-secret", "ssl.ca.location": "/ca.pem"}
    sub = Submission(job="running_totals", cfg=cfg, contract_file=tmp_path / "c.json",
                     topics={"purchases-topic": "p", "output-topic": "o"}, kafka_config=sasl)
    cmd = sub.command()
    assert "hunter2-secret" not in " ".join(cmd)
    assert cmd[cmd.index("--bootstrap-servers") + 1] == "b:9094"
    config_file = cmd[cmd.index("--kafka-config-file") + 1]
    assert os.stat(config_file).st_mode & 0o777 == 0o600
    props = json.loads(Path(config_file).read_text())
    assert props["security.protocol"] == "SASL_SSL" and 'password="hunter2-secret"' in props["sasl.jaas.config"]
    assert props["ssl.truststore.location"] == "/ca.pem" and "bootstrap.servers" not in props
    plain = Submission(job="running_totals", cfg=cfg, contract_file=tmp_path / "c.json",
                       topics={"purchases-topic": "p", "output-topic": "o"})
    assert "--kafka-config-file" not in plain.command()


def test_the_flink_run_client_gets_the_quick_jit_and_the_cluster_does_not(cfg: FlinkConfig) -> None:
    """The client lives for one submission (C1 only: 9.4 CPU-s instead of 17); the daemons run for hours."""
    from streamstack.runtime.java import QUICK_JIT
    from streamstack.stack.flink import flink_conf

    conf = flink_conf(cfg)
    assert conf["env.java.opts.client"] == QUICK_JIT
    assert "TieredStopAtLevel" not in str(conf["env.java.opts.all"])


def test_flink_listens_on_the_bind_host_not_the_advertised_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue #29 item 6: STREAMSTACK_HOST names the stack for its clients; setting it must not put
    Flink's unauthenticated REST (job submission), RPC, blob and data ports on the network."""
    from streamstack.stack.flink import flink_conf

    monkeypatch.setenv("STREAMSTACK_HOST", "my-laptop.lan")
    monkeypatch.delenv("STREAMSTACK_BIND_HOST", raising=False)
    settings = replace(Settings.from_env(), state_dir=tmp_path / "state")
    cfg = FlinkConfig.from_env(settings)
    if not cfg.python.exists():
        pytest.skip(".venv-flink not installed")
    conf = flink_conf(cfg)
    # The blob server and the TaskManager's data port bind these too (Flink 2.x, no port options of their own).
    for key in ("rest.bind-address", "jobmanager.bind-host", "taskmanager.bind-host"):
        assert conf[key] == "127.0.0.1", (key, conf[key])
    # What the daemons and clients connect to must be an address that listens: the bind host.
    for key in ("rest.address", "jobmanager.rpc.address", "taskmanager.host"):
        assert conf[key] == "127.0.0.1", (key, conf[key])
    assert "my-laptop.lan" not in str(conf)
    assert cfg.rest_url == f"http://127.0.0.1:{cfg.rest_port}"
    command = submission("running_totals", cfg, tmp_path / "contract.json").command()
    assert command[command.index("-m") + 1] == f"127.0.0.1:{cfg.rest_port}"


def test_flink_exposed_on_purpose_binds_every_interface_and_advertises_the_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``STREAMSTACK_BIND_HOST=0.0.0.0`` exposes the stack on purpose: then the host is what others reach."""
    from streamstack.stack.flink import flink_conf

    monkeypatch.setenv("STREAMSTACK_HOST", "my-laptop.lan")
    monkeypatch.setenv("STREAMSTACK_BIND_HOST", "0.0.0.0")
    cfg = FlinkConfig.from_env(replace(Settings.from_env(), state_dir=tmp_path / "state"))
    if not cfg.python.exists():
        pytest.skip(".venv-flink not installed")
    conf = flink_conf(cfg)
    assert {conf[k] for k in ("rest.bind-address", "jobmanager.bind-host", "taskmanager.bind-host")} == {"0.0.0.0"}
    assert {conf[k] for k in ("rest.address", "jobmanager.rpc.address", "taskmanager.host")} == {"my-laptop.lan"}


def test_flink_keeps_its_temporary_files_in_the_stack_and_clears_them_on_start(
    cfg: FlinkConfig, tmp_path: Path
) -> None:
    """Each TaskManager left a ~500 MB ``/tmp/tm_<host:port>-<id>`` (its blob cache) behind, and every
    ``flink run`` a 21 MB RPC jar and a JAAS file: 13 GB of /tmp in a day of test runs filled the
    disk. The JobManager and clients use ``<state>/flink/tmp``, the TaskManager its own folder's
    ``tmp``; each is emptied when its process starts (nothing of a previous process is used)."""
    from streamstack.stack.flink import FlinkJobManagerService, FlinkTaskManagerService, flink_conf

    if not cfg.python.exists():
        pytest.skip(".venv-flink not installed")
    conf = flink_conf(cfg)
    assert conf["io.tmp.dirs"] == str(cfg.state_dir / "tmp")
    jm, tm = FlinkJobManagerService(cfg.settings), FlinkTaskManagerService(cfg.settings)
    assert tm.command()[-2:] == ["-D", f"io.tmp.dirs={tm.state_dir / 'tmp'}"]
    assert "io.tmp.dirs" not in " ".join(jm.command())
    for service in (jm, tm):
        stale = service.state_dir / "tmp" / "tm_127.0.0.1:4242-abcdef" / "blobStorage"
        stale.mkdir(parents=True)
        service.prepare()
        assert (service.state_dir / "tmp").is_dir()
        assert not any((service.state_dir / "tmp").iterdir()), service.name
