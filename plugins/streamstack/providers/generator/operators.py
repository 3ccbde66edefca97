"""Run the sales generator from Airflow, through the ``kafka_default`` connection.

Thin over ``streamstack.generator``: the connection's extra is the librdkafka config (read by
the project's ``KafkaConfigHook``, so the provider's callback and cloud-auth handling apply),
the run's summary is the task's return value (XCom), and any undelivered record fails the task.
``LiveSalesOperator`` runs one chunk of the live stream per DAG run (``streamstack.generator.live``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator, Context

from streamstack.topics import TopicSpecs

log = logging.getLogger(__name__)
#: Seconds between progress lines in the task log.
LOG_EVERY = 10.0


def _optional(value: Any, kind: type) -> Any:
    """Templated fields arrive as strings ("None", "", "200"): back to ``kind`` or None."""
    if value is None or (isinstance(value, str) and value.strip() in ("", "None", "null")):
        return None
    return kind(value)


def generate_sales(
    *,
    kafka_config_id: str = "kafka_default",
    transactions: int | None = None,
    mode: str = "realistic",
    seed: int | None = None,
    speed: float = 1.0,
    duration: float | None = None,
    config_file: str | None = None,
    topics_file: str | None = None,
    topics: TopicSpecs | None = None,
    days: int | None = None,
    start_date: str | None = None,
    profile: str | None = None,
) -> dict[str, Any]:
    """Publish the catalogue and a bounded batch of sales; return the run summary.

    Callable from a ``@task`` (import it inside the task to keep DAG parsing light).

    :param kafka_config_id: Airflow connection (conn_type ``kafka``, extra = librdkafka config).
    :param transactions: stop after this many transactions (default: ``number_of_sales``).
    :param mode: ``realistic`` (paced like the original) or ``load`` (as fast as possible).
    :param seed: makes the run reproducible; a random one is chosen and returned otherwise.
    :param speed: divides the realistic pauses.
    :param duration: stop after this many seconds.
    :param config_file: generator settings (default ``config/generator.yaml``).
    :param topics_file: topic declarations (default ``config/topics.yaml``).
    :param topics: already-loaded topic declarations (overrides ``topics_file``).
    :param days: simulate this many days of the shop (``shop`` settings); None = an unsimulated batch.
    :param start_date: first simulated day ``YYYY-MM-DD`` (default ``shop.start_date``).
    :param profile: volume profile of the simulated days (default ``shop.profile``).
    :return: the summary: transactions, purchases, inventories, bytes, events/s, seed...
    """
    from streamstack.generator import (
        build_model,
        build_simulation,
        load_catalogue,
        load_config,
        run_generator,
    )
    from streamstack.generator.kafka import KafkaSink
    from streamstack.providers.kafka.hooks import KafkaConfigHook
    from streamstack.topics import load_topics

    config = load_config(config_file)
    model = build_model(config, load_catalogue(config.catalogue_file), seed)
    simulation = build_simulation(model, days, start_date or None, profile or None) if days else None
    connection = KafkaConfigHook(kafka_config_id=kafka_config_id).client_config()
    sink = KafkaSink(connection, topics or load_topics(topics_file), config.producer)
    log.info("generating sales: mode=%s transactions=%s duration=%s speed=%s seed=%s days=%s start=%s "
             "profile=%s -> %s", mode, transactions, duration, speed, model.seed, days,
             simulation.start_date if simulation else None, simulation.profile.name if simulation else None,
             sink.destination)
    last = [time.monotonic()]

    def progress(done: int) -> None:
        if time.monotonic() - last[0] >= LOG_EVERY:
            last[0] = time.monotonic()
            log.info("%d transactions so far", done)

    from datetime import UTC, datetime

    started_at = datetime.now(UTC)
    summary = run_generator(model, sink, mode=mode, transactions=transactions, duration=duration, speed=speed,
                            progress=progress, simulation=simulation).to_dict()
    # When the batch was made: downstream checks of this run's rows use it rather than now(), so a
    # cleared task checks the same rows again.
    summary["started_at"] = started_at.isoformat()
    summary["finished_at"] = datetime.now(UTC).isoformat()
    log.info("done: %s", summary)
    return summary


def simulated_window(summary: dict[str, Any]) -> tuple[Any, float]:
    """``(window_end, window_minutes)`` covering a simulated run's days (from its summary)."""
    from datetime import timedelta

    from streamstack.events import parse_timestamp

    end = parse_timestamp(summary["last_event_time"]) + timedelta(seconds=1)
    return end, float(summary["simulated_days"]) * 1440.0


class SalesGeneratorOperator(BaseOperator):
    """Generate a bounded batch of smoothie sales into Kafka (see ``generate_sales``).

    :param kafka_config_id: Airflow connection of the cluster (``kafka_default``).
    :param transactions: templated; stop after this many transactions.
    :param mode: templated; ``realistic`` or ``load``.
    :param seed: templated; reproducible run.
    :param speed: templated; realistic pacing factor.
    :param duration: templated; stop after this many seconds.
    :param config_file: generator settings file.
    :param days: templated; simulate this many days of the shop (None = an unsimulated batch).
    :param first_day: templated; first simulated day, ``YYYY-MM-DD`` (the run's ``start_date``).
    :param profile: templated; the simulated days' volume profile.
    :return: (XCom) the run summary.
    """

    # ``first_day``, not ``start_date``: that name is BaseOperator's own (not templatable).
    template_fields: Sequence[str] = ("transactions", "mode", "seed", "speed", "duration", "days", "first_day",
                                      "profile")

    def __init__(
        self,
        *,
        kafka_config_id: str = "kafka_default",
        transactions: int | str | None = None,
        mode: str = "realistic",
        seed: int | str | None = None,
        speed: float | str = 1.0,
        duration: float | str | None = None,
        config_file: str | None = None,
        days: int | str | None = None,
        first_day: str | None = None,
        profile: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.kafka_config_id = kafka_config_id
        self.transactions = transactions
        self.mode = mode
        self.seed = seed
        self.speed = speed
        self.duration = duration
        self.config_file = config_file
        self.days = days
        self.first_day = first_day
        self.profile = profile

    def execute(self, context: Context) -> dict[str, Any]:
        from streamstack.providers.params import MAX_SIMULATED_SPEED, MAX_SPEED, sales_params

        days = _optional(self.days, int)
        checked = sales_params(
            {"transactions": self.transactions, "mode": self.mode, "seed": self.seed, "speed": self.speed},
            max_speed=MAX_SIMULATED_SPEED if days else MAX_SPEED,
        )
        return generate_sales(
            kafka_config_id=self.kafka_config_id,
            **checked,
            duration=_optional(self.duration, float),
            config_file=self.config_file,
            days=days,
            start_date=_optional(self.first_day, str),
            profile=_optional(self.profile, str),
        )


#: The live stream's seed by default (the ``live_sales`` DAG's ``live_seed`` param): documented and
#: fixed, so the live sales of two installations are the same sequence of chunks.
LIVE_SEED = 2026
#: An attempt of a DAG run sends nothing before the run was created; a retry reads what landed
#: from then, minus this margin (clocks of worker and scheduler, records stamped on send).
SINCE_MARGIN_S = 60


def live_chunk(dag_run: Any) -> tuple[int, int]:
    """``(chunk, since_ms)`` of a DAG run: the chunk from its ``run_id`` (the same for every retry
    and clear of the run, another for the next run); ``since_ms`` from its creation (``run_after``,
    which a clear keeps, unlike ``start_date``) or its start if earlier, minus ``SINCE_MARGIN_S``."""
    from streamstack.generator.live import chunk_of

    began = min(t for t in (dag_run.run_after, dag_run.start_date) if t is not None)
    return chunk_of(dag_run.run_id), int(began.timestamp() * 1000) - SINCE_MARGIN_S * 1000


class LiveSalesOperator(BaseOperator):
    """One chunk of the live sales stream into Kafka; a retry sends only what did not land.

    Each DAG run is one chunk (``live_chunk``): ``transactions`` sales drawn from
    ``(live_seed, chunk)``, one Kafka transaction each (see ``streamstack.generator.live``).

    :param kafka_config_id: Airflow connection of the cluster (``kafka_default``).
    :param transactions: templated; sales in the chunk.
    :param speed: templated; divides the realistic 2-5 s pauses.
    :param live_seed: templated; the live stream's seed (default ``LIVE_SEED``).
    :param config_file: generator settings file.
    :param topics_file: topic declarations (default ``config/topics.yaml``).
    :param transactional_id: the producer identity (default ``streamstack-live-generator``).
    :return: (XCom) the chunk's summary, with ``skipped``, ``live_seed``, ``chunk`` and ``since``.
    """

    template_fields: Sequence[str] = ("transactions", "speed", "live_seed")

    def __init__(
        self,
        *,
        kafka_config_id: str = "kafka_default",
        transactions: int | str = 20,
        speed: float | str = 1.0,
        live_seed: int | str = LIVE_SEED,
        config_file: str | None = None,
        topics_file: str | None = None,
        transactional_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.kafka_config_id = kafka_config_id
        self.transactions = transactions
        self.speed = speed
        self.live_seed = live_seed
        self.config_file = config_file
        self.topics_file = topics_file
        self.transactional_id = transactional_id

    def execute(self, context: Context) -> dict[str, Any]:
        from datetime import UTC, datetime

        from airflow.sdk.exceptions import AirflowFailException

        from streamstack.generator import load_config
        from streamstack.generator.live import run_chunk
        from streamstack.providers.kafka.hooks import KafkaConfigHook
        from streamstack.providers.params import sales_params
        from streamstack.topics import load_topics

        checked = sales_params({"transactions": self.transactions, "mode": "realistic", "seed": self.live_seed,
                                "speed": self.speed})
        if checked["transactions"] is None or checked["seed"] is None:
            raise AirflowFailException(f"params transactions={self.transactions!r} and live_seed={self.live_seed!r} "
                                       "are required: a chunk is a fixed number of sales drawn from the live seed")
        chunk, since_ms = live_chunk(context["dag_run"])
        extra = {"transactional_id": self.transactional_id} if self.transactional_id else {}
        log.info("live chunk %d of live seed %d: %d sales at speed %s, skipping those sent since %s",
                 chunk, checked["seed"], checked["transactions"], checked["speed"],
                 datetime.fromtimestamp(since_ms / 1000, UTC).isoformat())
        last = [time.monotonic()]

        def progress(done: int) -> None:
            if time.monotonic() - last[0] >= LOG_EVERY:
                last[0] = time.monotonic()
                log.info("%d sales sent so far", done)

        started_at = datetime.now(UTC)
        summary = run_chunk(
            KafkaConfigHook(kafka_config_id=self.kafka_config_id).client_config(),
            load_topics(self.topics_file),
            live_seed=checked["seed"], chunk=chunk, transactions=checked["transactions"], speed=checked["speed"],
            since_ms=since_ms, config=load_config(self.config_file), progress=progress, **extra,
        ).to_dict()
        summary.update(live_seed=checked["seed"], chunk=chunk,
                       since=datetime.fromtimestamp(since_ms / 1000, UTC).isoformat(),
                       started_at=started_at.isoformat(), finished_at=datetime.now(UTC).isoformat())
        log.info("done: %s", summary)
        return summary
