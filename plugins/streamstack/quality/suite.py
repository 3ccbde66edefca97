"""Load ``expectations/purchases_enriched.json`` into a GX suite, refusing anything GX would drop.

The file holds the rules of the enriched data beyond the event contract (uniqueness, catalogue
consistency, time bounds, volume). Two sets are generated here, so each is written once: the
per-column schema expectations (exists, type, not null) from ``streamstack.events.PURCHASE_ENRICHED``,
and one *critical* expectation per check of the event contract (``config/contract.yaml``
``purchase.checks``): what every engine dead-letters, the gate fails, named by the check's
reason code, with the contract's numbers as run-time parameters. Every expectation carries ``meta.severity`` (critical fails the run, warning is reported),
copied into GX's own ``severity`` field for the Data Docs.

GX's ``ExpectationSuite`` catches an invalid expectation, logs it and carries on without it, so a
typo would silently weaken the gate. Each expectation is therefore built on its own first (the
error names its index and type), and the built suite is counted against the file.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from streamstack.errors import ConfigError
from streamstack.events import PURCHASE_ENRICHED, Field
from streamstack.quality.derive import DERIVED_COLUMNS

if TYPE_CHECKING:
    import great_expectations as gx

SEVERITIES = ("critical", "warning")
#: Parameters the runner supplies for ``{"$PARAMETER": name}`` values.
#: (Those of the contract's checks, ``contract_<code>_<what>``, come from the contract itself.)
RUNTIME_PARAMETERS = frozenset({
    "min_transaction_time", "max_transaction_time",
    "lines_per_transaction_max",  # the generator's items_per_transaction_weights
    "volume_min_transactions",  # from the shop's profile and announced anomalies (quality/volume.py)
})
CONTRACT_PARAMETER = "contract_"
DEFAULT_PARAMETERS = {
    "max_age_hours": 168.0, "max_future_minutes": 5.0,
    # A window is "far below" its profile below ratio x expected and z Poisson sigmas under it.
    "volume_min_ratio": 0.5, "volume_z": 3.0, "volume_min_expected": 20.0,
}

#: Logical type of ``events.py`` -> pandas dtype name for ``expect_column_type_to_be``.
#: ``str`` is pandas 3's default string dtype; timestamps travel as strings.
PANDAS_TYPES = {
    "string": "str",
    "timestamp": "str",
    "int": "int64",
    "long": "int64",
    "double": "float64",
    "boolean": "bool",
}
_COLUMN_KEYS = ("column", "column_A", "column_B", "column_list")


@dataclass(frozen=True)
class Suite:
    """A validated suite: GX expectation configurations plus what the runner needs around them.

    :param name: the GX suite name.
    :param path: the file it came from.
    :param expectations: GX expectation configs (``type``, ``kwargs``, ``meta``, ``severity``),
        generated schema checks first, each with a unique ``meta.name``.
    :param parameters: defaults of the run-time bounds (``max_age_hours``, ``max_future_minutes``).
    """

    name: str
    path: Path
    expectations: tuple[dict[str, Any], ...]
    parameters: dict[str, float] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return [e["meta"]["name"] for e in self.expectations]

    def expectation_parameters(
        self,
        *,
        reference_time: datetime,
        contract: dict[str, Any] | None = None,
        max_age_hours: float | None = None,
        max_future_minutes: float | None = None,
        volume_min_transactions: int = 0,
    ) -> dict[str, Any]:
        """Values for the suite's ``$PARAMETER`` placeholders, for a window ending at ``reference_time``.

        The rules' numbers (catalogue, quantity range, total tolerance) come from the event contract,
        so the gate accepts what every engine accepts. ``volume_min_transactions`` is the volume
        floor of ``quality.volume`` (0: the window's volume is not judged).
        """
        import pandas as pd

        from streamstack import contract as rules
        from streamstack.generator.config import load_config

        contract = contract or rules.load_contract()
        age = self.parameters["max_age_hours"] if max_age_hours is None else max_age_hours
        future = self.parameters["max_future_minutes"] if max_future_minutes is None else max_future_minutes
        if reference_time.tzinfo is None:
            reference_time = reference_time.replace(tzinfo=UTC)
        ref = pd.Timestamp(reference_time).tz_convert("UTC")
        return {
            **contract_parameters(contract),
            "lines_per_transaction_max": len(load_config().items_per_transaction_weights),
            "min_transaction_time": ref - timedelta(hours=age),
            "max_transaction_time": ref + timedelta(minutes=future),
            "volume_min_transactions": int(volume_min_transactions),
        }

    def to_gx(self) -> gx.ExpectationSuite:
        """A fresh GX suite; raises ``ConfigError`` if GX dropped any expectation."""
        import great_expectations as gx

        suite = gx.ExpectationSuite(
            name=self.name, expectations=copy.deepcopy(list(self.expectations)), meta=dict(self.meta)
        )
        if len(suite.expectations) != len(self.expectations):
            raise ConfigError(
                f"GX kept {len(suite.expectations)} of {len(self.expectations)} expectations", file=self.path
            )
        return suite


def expectation_name(config: dict[str, Any]) -> str:
    """``meta.name`` if set, else ``<type>(<columns>)``: how failures are named in summaries."""
    meta = config.get("meta") or {}
    if meta.get("name"):
        return str(meta["name"])
    kwargs = config.get("kwargs") or {}
    columns: list[str] = []
    for key in _COLUMN_KEYS:
        value = kwargs.get(key)
        if isinstance(value, list):
            columns.extend(str(v) for v in value)
        elif value is not None:
            columns.append(str(value))
    return f"{config.get('type')}({', '.join(columns)})"


def schema_expectations(fields: tuple[Field, ...], severity: str) -> list[dict[str, Any]]:
    """Exists, dtype and (unless nullable) not-null for every field of an event schema."""
    out: list[dict[str, Any]] = []
    for f in fields:
        meta = {"severity": severity, "generated_from": "streamstack.events.PURCHASE_ENRICHED"}
        out.append({"type": "expect_column_to_exist", "kwargs": {"column": f.name}, "meta": dict(meta)})
        out.append(
            {
                "type": "expect_column_type_to_be",
                "kwargs": {"column": f.name, "type_": PANDAS_TYPES[f.type]},
                "meta": dict(meta),
            }
        )
        if not f.nullable:
            out.append(
                {
                    "type": "expect_column_values_to_not_be_null",
                    "kwargs": {"column": f.name},
                    "meta": dict(meta),
                }
            )
    return out


def _contract_parameter(code: str, what: str) -> dict[str, str]:
    return {"$PARAMETER": f"{CONTRACT_PARAMETER}{code}_{what}"}


def contract_expectations(contract: dict[str, Any]) -> list[dict[str, Any]]:
    """One critical expectation per check of the contract's ``purchase.checks``, named by its code.

    The values are parameters (:func:`contract_parameters`), so a run checks the numbers of the
    contract it is given. A check kind without an expression here is refused, never skipped.
    """
    from streamstack.events import ENRICHED_NAMES
    from streamstack.quality.derive import TOTAL_ERROR

    out = []
    for i, check in enumerate(contract["purchase"]["checks"]):
        kind, code = check["kind"], check["code"]
        column = ENRICHED_NAMES.get(check["field"], check["field"])
        kwargs: dict[str, Any] = {"column": column}
        if kind == "pattern":
            type_, kwargs["regex"] = "expect_column_values_to_match_regex", check["pattern"]
        elif kind == "range":
            type_ = "expect_column_values_to_be_between"
            for side in ("min", "max"):
                if side in check or f"{side}_exclusive" in check:
                    kwargs[f"{side}_value"] = _contract_parameter(code, side)
                    if f"{side}_exclusive" in check:
                        kwargs[f"strict_{side}"] = True
        elif kind == "allowed":  # derive.py computes <field>_allowed from the contract's sets
            type_, kwargs = "expect_column_values_to_be_in_set", {"column": f"{column}_allowed", "value_set": [True]}
        elif kind == "total":
            type_ = "expect_column_values_to_be_between"
            kwargs = {"column": TOTAL_ERROR, "max_value": _contract_parameter(code, "tolerance_cents")}
        elif kind == "catalogue":
            type_, kwargs["value_set"] = "expect_column_values_to_be_in_set", _contract_parameter(code, "values")
        else:
            raise ConfigError(f"check kind {kind!r} has no quality expectation (quality/suite.py)",
                              file=rules_file(), key=f"purchase.checks[{i}]")
        out.append({"type": type_, "kwargs": kwargs, "meta": {
            "severity": "critical", "name": f"{code}({column})", "generated_from": "config/contract.yaml"}})
    return out


def contract_parameters(contract: dict[str, Any]) -> dict[str, Any]:
    """The values of the parameters of :func:`contract_expectations`, from ``contract``."""
    values: dict[str, Any] = {}
    for check in contract["purchase"]["checks"]:
        code = check["code"]
        if check["kind"] == "range":
            for side in ("min", "max"):
                bound = check.get(side, check.get(f"{side}_exclusive"))
                if bound is not None:
                    values[f"{CONTRACT_PARAMETER}{code}_{side}"] = bound
        elif check["kind"] == "total":
            values[f"{CONTRACT_PARAMETER}{code}_tolerance_cents"] = round(float(check["tolerance"]) * 100, 6)
        elif check["kind"] == "catalogue":
            values[f"{CONTRACT_PARAMETER}{code}_values"] = sorted(check["values"])
    return values


def rules_file() -> Path:
    from streamstack.contract import default_contract_file

    return default_contract_file()


def _parameters_in(value: Any) -> set[str]:
    if isinstance(value, dict):
        if set(value) == {"$PARAMETER"}:
            return {str(value["$PARAMETER"])}
        return set().union(*(_parameters_in(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_parameters_in(v) for v in value)) if value else set()
    return set()


def _check_one(key: str, raw: Any, known_columns: set[str], path: Path) -> dict[str, Any]:
    from great_expectations.exceptions import ExpectationNotFoundError, InvalidExpectationConfigurationError
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    if (
        not isinstance(raw, dict)
        or not isinstance(raw.get("type"), str)
        or not isinstance(raw.get("kwargs"), dict)
    ):
        raise ConfigError("needs a string 'type' and an object 'kwargs'", file=path, key=key)
    config = copy.deepcopy(raw)
    meta = config.setdefault("meta", {})
    severity = meta.get("severity")
    if severity not in SEVERITIES:
        raise ConfigError(
            f"meta.severity must be one of {SEVERITIES}, got {severity!r}",
            file=path,
            key=f"{key}.meta.severity",
        )
    config["severity"] = severity
    kwargs = config["kwargs"]
    for column_key in _COLUMN_KEYS:
        value = kwargs.get(column_key)
        for column in value if isinstance(value, list) else [value] if value is not None else []:
            if column not in known_columns:
                raise ConfigError(
                    f"{config['type']} names unknown column {column!r} (neither in events.PURCHASE_ENRICHED nor derived)",
                    file=path,
                    key=f"{key}.kwargs.{column_key}",
                )
    unknown = {p for p in _parameters_in(kwargs) - RUNTIME_PARAMETERS if not p.startswith(CONTRACT_PARAMETER)}
    if unknown:
        raise ConfigError(
            f"unknown $PARAMETER {sorted(unknown)}; known: {sorted(RUNTIME_PARAMETERS)}", file=path, key=key
        )
    try:
        ExpectationConfiguration(**config).to_domain_obj()
    except (InvalidExpectationConfigurationError, ExpectationNotFoundError, TypeError, ValueError) as exc:
        message = getattr(exc, "message", None) or str(exc)
        raise ConfigError(f"{config['type']}: GX rejects it: {message}", file=path, key=key) from None
    meta["name"] = expectation_name(config)
    return config


def load_suite(path: Path | str, contract: dict[str, Any] | None = None) -> Suite:
    """Read and validate a suite file; raises ``ConfigError`` naming the file and the bad entry.

    :param contract: the resolved event contract whose checks the suite enforces (default: the project's).
    """
    from streamstack.contract import load_contract

    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the suite: {exc}", file=path) from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"not valid JSON: {exc}", file=path) from None
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("name"), str)
        or not isinstance(data.get("expectations"), list)
    ):
        raise ConfigError("a suite is an object with a string 'name' and a list 'expectations'", file=path)
    meta = data.get("meta") or {}
    ours = meta.get("streamstack") or {}
    schema = ours.get("schema") or {}
    schema_severity = schema.get("severity", "critical")
    if schema_severity not in SEVERITIES:
        raise ConfigError(f"must be one of {SEVERITIES}", file=path, key="meta.streamstack.schema.severity")
    parameters = {**DEFAULT_PARAMETERS, **(ours.get("parameters") or {})}
    for name, value in parameters.items():
        if name not in DEFAULT_PARAMETERS or not isinstance(value, int | float) or value < 0:
            raise ConfigError(
                f"unknown or negative parameter {name}={value!r}",
                file=path,
                key=f"meta.streamstack.parameters.{name}",
            )

    known_columns = {f.name for f in PURCHASE_ENRICHED} | DERIVED_COLUMNS
    configs = [
        _check_one(f"generated schema expectation {i}", entry, known_columns, path)
        for i, entry in enumerate(schema_expectations(PURCHASE_ENRICHED, schema_severity))
    ]
    configs += [
        _check_one(f"generated contract expectation {i}", entry, known_columns, path)
        for i, entry in enumerate(contract_expectations(contract or load_contract()))
    ]
    configs += [
        _check_one(f"expectations[{i}]", entry, known_columns, path)
        for i, entry in enumerate(data["expectations"])
    ]
    names = [c["meta"]["name"] for c in configs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(
            f"expectations share a name {duplicates}; set meta.name to tell them apart", file=path
        )
    suite = Suite(
        name=data["name"],
        path=path,
        expectations=tuple(configs),
        parameters={k: float(v) for k, v in parameters.items()},
        meta=meta,
    )
    suite.to_gx()  # proves GX keeps every one of them
    return suite


def default_suite_path(project_dir: Path) -> Path:
    return project_dir / "expectations" / "purchases_enriched.json"


def now_utc() -> datetime:
    return datetime.now(UTC)
