"""Reconcile the topics on a Kafka cluster with their declarations.

Why not the Kafka provider's ``create_topic``: it only warns when a topic exists, takes no
topic configs, and never repairs drift. This does: create what is missing with its configs,
set configs that drifted, add partitions when the declaration asks for more, and refuse what
Kafka cannot do safely (fewer partitions, another replication factor) with one clear error.
Re-running it changes nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    ConfigSource,
    NewPartitions,
    NewTopic,
    ResourceType,
)

from streamstack.clients import admin_client
from streamstack.errors import StackError, TopicReconcileError
from streamstack.topics.spec import TopicSpec, TopicSpecs

log = logging.getLogger(__name__)
LIST_CONFIGS = {"cleanup.policy"}
#: Actions that report a state without changing it.
PASSIVE = {"unchanged", "undeclared-configs"}


@dataclass(frozen=True)
class TopicState:
    """A topic as it is on the broker (only the declared configs are compared)."""

    name: str
    partitions: int
    replication_factor: int
    configs: dict[str, str]
    #: configs set on the topic itself (not inherited broker or built-in defaults)
    overrides: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Change:
    """One action taken (or planned) on one topic."""

    topic: str
    action: str  # create | alter-configs | add-partitions | undeclared-configs | remove-configs | unchanged
    detail: str = ""


@dataclass
class ApplyResult:
    """What ``apply`` did: one or more ``Change`` per declared topic."""

    changes: list[Change] = field(default_factory=list)
    dry_run: bool = False

    @property
    def changed(self) -> list[Change]:
        return [c for c in self.changes if c.action not in PASSIVE]

    def lines(self) -> list[str]:
        prefix = "would " if self.dry_run else ""
        out = [
            f"{c.topic:<28} {prefix if c.action not in PASSIVE else ''}{c.action}  {c.detail}".rstrip()
            for c in self.changes
        ]
        out.append(
            f"{len(self.changed)} change(s){' planned' if self.dry_run else ''}, {len(self.changes) - len(self.changed)} topic(s) unchanged"
        )
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "changes": [asdict(c) for c in self.changes],
            "changed": len(self.changed),
        }


def _normalise(name: str, value: str | None) -> str | None:
    if value is not None and name in LIST_CONFIGS:
        return ",".join(sorted(v.strip() for v in value.split(",")))
    return value


def _wait(futures: dict[Any, Any], what: str) -> None:
    errors = []
    for key, future in futures.items():
        try:
            future.result()
        except KafkaException as exc:
            errors.append(f"{getattr(key, 'name', key)}: {exc.args[0].str() if exc.args else exc}")
    if errors:
        raise TopicReconcileError(f"{what} failed: " + "; ".join(errors))


class TopicAdmin:
    """Topic reconciliation against one cluster.

    :param client: a librdkafka config dict (``{"bootstrap.servers": ...}``) or a ready
        ``AdminClient`` (e.g. from the Airflow Kafka provider's ``KafkaAdminClientHook``).
    :param timeout: seconds to wait for each admin request.
    """

    def __init__(self, client: dict[str, Any] | AdminClient, timeout: float = 30.0) -> None:
        self.admin = client if isinstance(client, AdminClient) else admin_client(dict(client))
        self.config: dict[str, Any] = {} if isinstance(client, AdminClient) else dict(client)
        self.timeout = timeout

    def _metadata(self):
        from streamstack.clients import KafkaRefused, reach

        try:
            return reach(self.admin, self.config, timeout=self.timeout)
        except KafkaRefused as exc:
            raise StackError(str(exc)) from None
        except KafkaException as exc:
            self.admin.poll(0)  # serve error callbacks (e.g. a failed SASL authentication)
            recent = list(getattr(self.admin, "last_errors", []))
            detail = f" (client errors: {'; '.join(dict.fromkeys(recent))})" if recent else ""
            raise StackError(
                f"cannot reach the Kafka cluster: {exc.args[0].str() if exc.args else exc}{detail}"
            ) from exc

    def describe(self, names: Iterable[str]) -> list[TopicState | None]:
        """The broker state of each topic, None where the topic does not exist."""
        names = list(names)
        meta = self._metadata()
        present = [n for n in names if n in meta.topics and meta.topics[n].error is None]
        configs: dict[str, dict[str, str]] = {n: {} for n in present}
        overrides: dict[str, dict[str, str]] = {n: {} for n in present}
        if present:
            futures = self.admin.describe_configs(
                [ConfigResource(ResourceType.TOPIC, n) for n in present], request_timeout=self.timeout
            )
            for resource, future in futures.items():
                try:
                    entries = future.result()
                except KafkaException as exc:
                    raise TopicReconcileError(f"describe configs of {resource.name} failed: {exc}") from exc
                configs[resource.name] = {k: e.value for k, e in entries.items() if e.value is not None}
                overrides[resource.name] = {
                    k: e.value
                    for k, e in entries.items()
                    if e.value is not None and e.source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value
                }
        out: list[TopicState | None] = []
        for name in names:
            if name not in configs:
                out.append(None)
                continue
            parts = meta.topics[name].partitions
            rf = len(parts[0].replicas) if parts else 0
            out.append(TopicState(name, len(parts), rf, configs[name], overrides[name]))
        return out

    def plan(self, specs: TopicSpecs | Iterable[TopicSpec], *, remove_undeclared: bool = False) -> list[Change]:
        """What ``apply`` would do; raises ``TopicReconcileError`` listing every unsafe change.

        Config overrides set on a topic that its declaration does not name (set out of band,
        e.g. ``max.message.bytes``) are drift too: reported as ``undeclared-configs``, and
        planned for removal (``remove-configs``) only when ``remove_undeclared`` is asked.
        """
        specs = list(specs)
        states = self.describe(s.name for s in specs)
        changes, refusals = [], []
        for spec, state in zip(specs, states, strict=True):
            if state is None:
                cfg = ", ".join(f"{k}={v}" for k, v in sorted(spec.configs.items()))
                changes.append(
                    Change(
                        spec.name,
                        "create",
                        f"partitions={spec.partitions} rf={spec.replication_factor} {cfg}".strip(),
                    )
                )
                continue
            if spec.partitions < state.partitions:
                refusals.append(
                    f"{spec.name}: declared {spec.partitions} partitions but the topic has {state.partitions}; "
                    "Kafka cannot remove partitions (delete and recreate the topic, losing its data, if you must)"
                )
            if spec.replication_factor != state.replication_factor:
                refusals.append(
                    f"{spec.name}: declared replication factor {spec.replication_factor} but the topic has "
                    f"{state.replication_factor}; changing it needs a partition reassignment, not done here"
                )
            drift = {
                k: (state.configs.get(k), v)
                for k, v in spec.configs.items()
                if _normalise(k, state.configs.get(k)) != _normalise(k, v)
            }
            if drift:
                changes.append(
                    Change(
                        spec.name,
                        "alter-configs",
                        ", ".join(f"{k}: {old} -> {new}" for k, (old, new) in drift.items()),
                    )
                )
            undeclared = {k: v for k, v in sorted(state.overrides.items()) if k not in spec.configs}
            if undeclared:
                listed = ", ".join(f"{k}={v}" for k, v in undeclared.items())
                if remove_undeclared:
                    changes.append(Change(spec.name, "remove-configs", listed))
                else:
                    changes.append(
                        Change(
                            spec.name,
                            "undeclared-configs",
                            f"{listed} (not in the topics file; `topics apply --remove-undeclared` removes them)",
                        )
                    )
            if spec.partitions > state.partitions:
                detail = f"{state.partitions} -> {spec.partitions}"
                if spec.key:
                    detail += f" (records keyed by {spec.key_label} written before now stay in their old partition)"
                changes.append(Change(spec.name, "add-partitions", detail))
            if not drift and not undeclared and spec.partitions == state.partitions:
                changes.append(Change(spec.name, "unchanged"))
        if refusals:
            raise TopicReconcileError("refusing unsafe topic changes:\n  " + "\n  ".join(refusals))
        return changes

    def apply(
        self, specs: TopicSpecs | Iterable[TopicSpec], *, dry_run: bool = False, remove_undeclared: bool = False
    ) -> ApplyResult:
        """Bring the cluster to the declared state; return what changed.

        All or nothing as far as the broker allows: every request is first sent with
        ``validate_only`` (values, partition counts, replication), so a value the broker
        rejects fails the apply (and the dry run) before any topic is created or altered.
        """
        file = getattr(specs, "file", None)
        specs = list(specs)
        changes = self.plan(specs, remove_undeclared=remove_undeclared)
        result = ApplyResult(changes=changes, dry_run=dry_run)
        by_name = {s.name: s for s in specs}
        creates = [by_name[c.topic] for c in changes if c.action == "create"]
        alters = [by_name[c.topic] for c in changes if c.action == "alter-configs"]
        grows = [by_name[c.topic] for c in changes if c.action == "add-partitions"]
        removals = {
            c.topic: [item.split("=", 1)[0] for item in c.detail.split(", ")]
            for c in changes
            if c.action == "remove-configs"
        }
        requests = self._requests(creates, alters, grows, removals, by_name)
        for what, send in requests:
            self._check(send(True), what, by_name, file)
        if dry_run:
            return result
        for what, send in requests:
            if what == "creating topics":
                self._wait_create(send(False))
            else:
                _wait(send(False), what)
        if result.changed:
            self._await_convergence(specs, remove_undeclared=remove_undeclared)
        for change in result.changed:
            log.info("%s: %s %s", change.topic, change.action, change.detail)
        return result

    def _requests(
        self,
        creates: list[TopicSpec],
        alters: list[TopicSpec],
        grows: list[TopicSpec],
        removals: dict[str, list[str]],
        by_name: dict[str, TopicSpec],
    ) -> list[tuple[str, Any]]:
        """The admin requests of one apply, each callable with ``validate_only``."""
        out: list[tuple[str, Any]] = []
        t = {"request_timeout": self.timeout}
        if creates:
            new = [NewTopic(s.name, s.partitions, s.replication_factor, config=dict(s.configs)) for s in creates]
            out.append(("creating topics", lambda v: self.admin.create_topics(
                new, operation_timeout=self.timeout, validate_only=v, **t)))
        resources = [
            ConfigResource(
                ResourceType.TOPIC,
                s.name,
                incremental_configs=[
                    ConfigEntry(k, v, incremental_operation=AlterConfigOpType.SET) for k, v in s.configs.items()
                ],
            )
            for s in alters
        ]
        for name, keys in removals.items():
            resources = [r for r in resources if r.name != name]
            altered = name in {s.name for s in alters}  # one request per topic: sets and deletes together
            sets = [
                ConfigEntry(k, v, incremental_operation=AlterConfigOpType.SET)
                for k, v in (by_name[name].configs.items() if altered else ())
            ]
            deletes = [ConfigEntry(k, None, incremental_operation=AlterConfigOpType.DELETE) for k in keys]
            resources.append(ConfigResource(ResourceType.TOPIC, name, incremental_configs=[*sets, *deletes]))
        if resources:
            out.append(("altering topic configs", lambda v: self.admin.incremental_alter_configs(
                resources, validate_only=v, **t)))
        if grows:
            parts = [NewPartitions(s.name, s.partitions) for s in grows]
            out.append(("adding partitions", lambda v: self.admin.create_partitions(
                parts, operation_timeout=self.timeout, validate_only=v, **t)))
        return out

    @staticmethod
    def _check(futures: dict[Any, Any], what: str, by_name: dict[str, TopicSpec], file: Any) -> None:
        """Raise one line naming the file and the key for the first request the broker rejects."""
        for key, future in futures.items():
            try:
                future.result()
            except KafkaException as exc:
                err = exc.args[0] if exc.args else exc
                if isinstance(err, KafkaError) and err.code() == KafkaError.TOPIC_ALREADY_EXISTS:
                    continue
                message = err.str() if isinstance(err, KafkaError) else str(err)
                name = getattr(key, "name", key)
                spec = by_name.get(name)
                where = f"topics.{spec.logical}" if spec else str(name)
                if spec:
                    named = [k for k in spec.configs if k in message]
                    if named:
                        where += f".configs.{max(named, key=len)}"
                        message = f"the broker rejects {spec.configs[max(named, key=len)]!r}: {message}"
                    else:
                        where += f" ({name})"
                prefix = f"{file}: " if file else ""
                raise TopicReconcileError(
                    f"{prefix}{where}: {message} ({what}, validated before any change: nothing was changed)"
                ) from None

    def _await_convergence(self, specs: list[TopicSpec], *, remove_undeclared: bool = False) -> None:
        """Wait until the brokers show the declared state.

        In KRaft mode a completed admin request means the controller committed the change;
        brokers apply it from the metadata log a moment later. Returning only when a fresh
        plan is empty makes ``apply`` a real barrier: the next run, or the next task, sees
        the topics as declared.
        """
        deadline = time.monotonic() + self.timeout
        while True:
            pending = [c for c in self.plan(specs, remove_undeclared=remove_undeclared) if c.action not in PASSIVE]
            if not pending:
                return
            if time.monotonic() > deadline:
                raise TopicReconcileError(
                    f"topics did not reach the declared state within {self.timeout:.0f}s: {pending}"
                )
            time.sleep(0.2)

    @staticmethod
    def _wait_create(futures: dict[str, Any]) -> None:
        errors = []
        for name, future in futures.items():
            try:
                future.result()
            except KafkaException as exc:
                err: KafkaError = exc.args[0]
                if err.code() == KafkaError.TOPIC_ALREADY_EXISTS:
                    # Created by someone else between plan and apply: the next run reconciles configs.
                    log.warning("%s: created concurrently by another client", name)
                    continue
                errors.append(f"{name}: {err.str()}")
        if errors:
            raise TopicReconcileError("creating topics failed: " + "; ".join(errors))
