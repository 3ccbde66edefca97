"""Operators that reconcile Kafka topics with ``config/topics.yaml``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator, Context

from streamstack.providers.kafka.hooks import KafkaConfigHook


class ApplyTopicsOperator(BaseOperator):
    """Create missing topics, repair drifted configs and grow partitions, as declared.

    Safe to re-run: a second run changes nothing. Unsafe changes (fewer partitions, another
    replication factor) fail the task with the reason instead of being skipped.

    :param kafka_config_id: Airflow connection of the cluster (``kafka_default``).
    :param topics_file: the declarations; default ``config/topics.yaml`` of the project.
    :param dry_run: only report what would change.
    :return: (XCom) ``{"changes": [...], "changed": n, "dry_run": bool}``.
    """

    template_fields: Sequence[str] = ("topics_file", "dry_run")

    def __init__(
        self,
        *,
        kafka_config_id: str = "kafka_default",
        topics_file: str | None = None,
        dry_run: bool | str = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.kafka_config_id = kafka_config_id
        self.topics_file = topics_file
        self.dry_run = dry_run

    def execute(self, context: Context) -> dict[str, Any]:
        from streamstack.topics import TopicAdmin, load_topics

        specs = load_topics(self.topics_file)
        config = KafkaConfigHook(kafka_config_id=self.kafka_config_id).client_config()
        dry_run = self.dry_run if isinstance(self.dry_run, bool) else str(self.dry_run).lower() == "true"
        result = TopicAdmin(config).apply(specs, dry_run=dry_run)
        for line in result.lines():
            self.log.info("%s", line)
        return result.to_dict()


class DescribeTopicsOperator(BaseOperator):
    """Read back the declared topics from the cluster and fail if one is missing.

    A self-check after ``ApplyTopicsOperator``: proves the broker really has what was declared.

    :param kafka_config_id: Airflow connection of the cluster.
    :param topics_file: the declarations; default ``config/topics.yaml``.
    """

    template_fields: Sequence[str] = ("topics_file",)

    def __init__(
        self, *, kafka_config_id: str = "kafka_default", topics_file: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.kafka_config_id = kafka_config_id
        self.topics_file = topics_file

    def execute(self, context: Context) -> list[dict[str, Any]]:
        from streamstack.errors import TopicReconcileError
        from streamstack.topics import TopicAdmin, load_topics

        specs = load_topics(self.topics_file)
        config = KafkaConfigHook(kafka_config_id=self.kafka_config_id).client_config()
        admin = TopicAdmin(config)
        states = admin.describe([s.name for s in specs.topics])
        missing = [s.name for s, st in zip(specs.topics, states, strict=True) if st is None]
        if missing:
            raise TopicReconcileError(f"declared topics missing on the cluster: {missing}")
        # Only re-plan to detect drift: any change left means apply did not converge.
        pending = [c for c in admin.plan(specs) if c.action != "unchanged"]
        if pending:
            raise TopicReconcileError(f"topics still differ from their declaration: {pending}")
        out = []
        for state in states:
            assert state is not None
            self.log.info(
                "%s partitions=%d rf=%d %s",
                state.name,
                state.partitions,
                state.replication_factor,
                state.overrides,
            )
            out.append(
                {
                    "name": state.name,
                    "partitions": state.partitions,
                    "replication_factor": state.replication_factor,
                    "configs": state.overrides,
                }
            )
        return out
