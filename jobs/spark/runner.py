"""The run loop of the Spark jobs: session, checkpoint lock, progress file, clean stop.

Every job is ``spark-submit jobs/spark/<job>.py`` and follows the same contract, which
``streamstack.spark.control`` relies on (the paths are ``streamstack.spark.jobs.job_paths``):

- checkpoint ``<checkpoint-dir>/<job>``; lock ``<checkpoint-dir>/<job>.lock`` (an exclusive
  ``flock`` held for the life of the driver, with ``{"pid", "mode"}`` inside) so a second copy on
  the same checkpoint refuses to start; progress ``<checkpoint-dir>/<job>.progress.json``;
- SIGTERM/SIGINT (or a ``<job>.stop`` file) stop the query between micro-batches, exit code 0.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from pyspark.errors import StreamingQueryException
from pyspark.sql import SparkSession
from pyspark.sql.streaming import DataStreamWriter, StreamingQuery

EXIT_LOCKED = 75  # EX_TEMPFAIL: another copy holds the checkpoint
TS_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value else default


#: SQL settings of every job (runtime settings: applied to a session passed to ``run`` too).
SESSION_CONF = {
    "spark.sql.session.timeZone": "UTC",
    # Constraint propagation over the validation's ~100 aliased expressions and the catalogue
    # join made InferFiltersFromConstraints take 1-2 s per micro-batch (95% of the optimiser's
    # time, measured with RuleExecutor.dumpTimeSpent); the plan has no filter it could infer.
    "spark.sql.constraintPropagation.enabled": "false",
    # Adaptive execution re-plans the batch writes inside foreachBatch after each stage; with
    # no shuffle to tune (a broadcast of ~30 products) it only adds ~10-20% per micro-batch.
    # Streaming queries themselves never use it.
    "spark.sql.adaptive.enabled": "false",
    # The sales windows are a transformWithState processor (it sees the rows behind the
    # watermark, which Spark's own window aggregation drops unseen); that API needs RocksDB.
    # A checkpoint keeps the provider it was created with, so older queries are unaffected.
    "spark.sql.streaming.stateStore.providerClass":
        "org.apache.spark.sql.execution.streaming.state.RocksDBStateStoreProvider",
}


def session(job: str) -> SparkSession:
    builder = SparkSession.builder.appName(f"streamstack-{job}")
    for key, value in SESSION_CONF.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(_env("STREAMSTACK_SPARK_LOG_LEVEL", "WARN") or "WARN")
    return spark


# ---------------------------------------------------------------- lock, progress, run loop
def paths(checkpoint_dir: str | Path, job: str) -> dict[str, Path]:
    base = Path(checkpoint_dir)
    return {
        "checkpoint": base / job,
        "lock": base / f"{job}.lock",
        "progress": base / f"{job}.progress.json",
        "stop": base / f"{job}.stop",
    }


def acquire_lock(lock_path: Path, mode: str) -> IO[str]:
    """Hold the job's lock for the life of this process, or exit EXIT_LOCKED naming the holder."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(lock_path, "a+")  # noqa: SIM115 - held open on purpose until the process ends
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        print(f"error: another copy of this job holds {lock_path}: {holder}", file=sys.stderr)
        sys.exit(EXIT_LOCKED)
    handle.seek(0)
    handle.truncate()
    handle.write(json.dumps({"pid": os.getpid(), "ppid": os.getppid(), "host": socket.gethostname(), "mode": mode,
                             "started": _now()}) + "\n")
    handle.flush()
    return handle


def _now() -> str:
    return datetime.now(UTC).strftime(TS_FORMAT)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, default=str))
    tmp.replace(path)


def _progress(job: str, mode: str, state: str, query: StreamingQuery | None, error: str | None = None) -> dict:
    last = query.lastProgress if query is not None else None
    return {
        "job": job,
        "pid": os.getpid(),
        "mode": mode,
        "state": state,
        "updated_at": _now(),
        "error": error,
        "last_progress": last,
    }


def run(
    job: str,
    args: argparse.Namespace,
    build: Callable[[SparkSession, argparse.Namespace], DataStreamWriter],
    spark: SparkSession | None = None,
) -> None:
    """Lock, start the query built by ``build``, keep the progress file, stop cleanly on SIGTERM.

    :param spark: a session this process already has (several jobs in one driver, e.g. the
        tests' one long-lived session): used and left running, no signal handlers installed
        (a ``<job>.stop`` file still stops the query). Default: the job's own session, stopped at the end.
    """
    where = paths(args.checkpoint_dir, job)
    lock = acquire_lock(where["lock"], args.trigger)
    where["stop"].unlink(missing_ok=True)
    stop = {"requested": False}

    def _request_stop(signum: int, _frame: object) -> None:
        stop["requested"] = True

    own_session = spark is None
    if own_session:
        signal.signal(signal.SIGTERM, _request_stop)
        signal.signal(signal.SIGINT, _request_stop)
        spark = session(job)
    else:
        for key, value in SESSION_CONF.items():
            spark.conf.set(key, value)
    query: StreamingQuery | None = None
    try:
        for attempt in (1, 2):
            query = _start(spark, job, args, build, where["checkpoint"])
            try:
                _watch(query, job, args, where, stop)
                break
            except StreamingQueryException as exc:
                if attempt == 1 and _is_replay_metrics_bug(exc):
                    # Spark 4.1 Kafka source bug: re-running a batch that was planned but not
                    # committed before a crash skips latestOffset(), and the progress report of
                    # that batch then fails with an NPE *after* the batch was committed. Starting
                    # the query again from the (now clean) checkpoint is correct and loses nothing.
                    print(f"warning: {job}: restarting after Spark's replay-metrics NPE", file=sys.stderr)
                    continue
                raise
    except Exception as exc:
        _write_json(where["progress"], _progress(job, args.trigger, "failed", query, error=str(exc)[:2000]))
        if not own_session:
            lock.close()
        raise
    _write_json(where["progress"], _progress(job, args.trigger, "stopped", query))
    where["stop"].unlink(missing_ok=True)
    if own_session:
        spark.stop()
    with contextlib.suppress(OSError):
        lock.close()


def _start(
    spark: SparkSession,
    job: str,
    args: argparse.Namespace,
    build: Callable[[SparkSession, argparse.Namespace], DataStreamWriter],
    checkpoint: Path,
) -> StreamingQuery:
    writer = build(spark, args).queryName(job).option("checkpointLocation", str(checkpoint))
    if args.trigger == "available-now":
        return writer.trigger(availableNow=True).start()
    return writer.trigger(processingTime=args.interval).start()


def _watch(query: StreamingQuery, job: str, args: argparse.Namespace, where: dict, stop: dict) -> None:
    """Keep the progress file fresh until the query ends; raise its failure, if any."""
    _write_json(where["progress"], _progress(job, args.trigger, "running", query))
    last_id, last_write = None, time.monotonic()
    while query.isActive:
        if stop["requested"] or where["stop"].exists():
            _stop_between_batches(query)
            break
        query.awaitTermination(1)
        progress = query.lastProgress
        batch_id = progress.get("batchId") if progress else None
        if batch_id != last_id or time.monotonic() - last_write > 5:
            _write_json(where["progress"], _progress(job, args.trigger, "running", query))
            last_id, last_write = batch_id, time.monotonic()
    query.awaitTermination()  # re-raises the query's failure, if any


def _is_replay_metrics_bug(exc: Exception) -> bool:
    text = str(exc)
    return "IterableOps.map" in text and "Option.get()" in text and "is null" in text


def _stop_between_batches(query: StreamingQuery, timeout: float = 60.0) -> None:
    """Stop when no micro-batch is running, so the last batch is committed, not replayed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and query.isActive and query.status.get("isTriggerActive"):
        time.sleep(0.05)
    query.stop()
