"""Validate a batch of enriched purchases with GX Core in an ephemeral context.

Ephemeral on purpose: the suite lives in ``expectations/`` as data and the results in a per-run
folder, so there is no ``gx/`` project tree to keep in sync. Each run writes, under
``<state_dir>/quality/<run id>/``: ``summary.json`` (what the CLI and the DAG report),
``result.json`` (GX's full validation result), ``suite.json`` (the suite as run, generated
schema checks included) and ``data_docs/`` (GX's HTML site).
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from streamstack.contract import load_contract
from streamstack.events import PURCHASE_ENRICHED, field_names, format_timestamp
from streamstack.quality.catalogue import load_catalogue
from streamstack.quality.derive import DERIVED_COLUMNS, add_derived_columns
from streamstack.quality.readers import Batch
from streamstack.quality.suite import Suite, default_suite_path, load_suite
from streamstack.quality.summary import FailedExpectation, QualitySummary
from streamstack.quality.volume import VOLUME_NAME, VolumeExpectation
from streamstack.settings import Settings

if TYPE_CHECKING:
    from great_expectations.core import ExpectationSuiteValidationResult

log = logging.getLogger(__name__)

#: Rejected (non-JSON) records are reported as this critical pseudo-expectation.
REJECTED_NAME = "records_are_json_objects"
SAMPLE_PER_EXPECTATION = 3
DOCS_SITE = "streamstack"


@dataclass(frozen=True)
class CheckOptions:
    """How to judge a batch.

    :param reference_time: end of the checked window; bounds ``transaction_time`` (default: now).
    :param max_age_hours / max_future_minutes: override the suite's defaults.
    :param data_docs: build the HTML site (off for benchmarks).
    :param sample_rows: how many bad rows the summary carries.
    :param volume: what the shop's profile expects of the window (``quality.volume``); None: not judged.
    """

    reference_time: datetime | None = None
    max_age_hours: float | None = None
    max_future_minutes: float | None = None
    data_docs: bool = True
    sample_rows: int = 20
    volume: VolumeExpectation | None = None


def new_run_id(label: str = "manual", now: datetime | None = None) -> str:
    """A folder-safe, sortable run id: ``20240101T120000Z-<label>``."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{safe_name(label)}"


def safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[:120] or "run"


def _json_safe(value: Any) -> Any:
    """Plain JSON types for numpy/pandas scalars, timestamps and NaN."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, pd.Timestamp | datetime):
        return None if pd.isna(value) else value.isoformat()
    if hasattr(value, "item"):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, int | float | str | bool):
        return value
    if value is pd.NaT or value is pd.NA:
        return None
    return str(value)


def default_results_root(settings: Settings | None = None) -> Path:
    """Where quality runs keep their results and Data Docs: ``<state_dir>/quality``."""
    return (settings or Settings.from_env()).state_dir / "quality"


class QualityRunner:
    """Loads the suite and the catalogue once; validates any number of batches.

    :param settings: where results go (``<state_dir>/quality``) and where config lives.
    :param suite_path: default ``expectations/purchases_enriched.json``.
    :param catalogue_path: default ``config/products.csv``.
    :param results_root: default ``<state_dir>/quality``.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        suite_path: Path | str | None = None,
        catalogue_path: Path | str | None = None,
        results_root: Path | str | None = None,
    ) -> None:
        self.settings = settings or Settings.from_env()
        self.suite: Suite = load_suite(suite_path or default_suite_path(self.settings.project_dir))
        self.contract = load_contract()
        self.catalogue = load_catalogue(catalogue_path or self.settings.config_dir / "products.csv")
        self.results_root = Path(results_root) if results_root else default_results_root(self.settings)

    def check(
        self, batch: Batch, *, run_id: str | None = None, options: CheckOptions | None = None
    ) -> QualitySummary:
        """Validate ``batch``; write the results; return the summary. Never raises for bad data."""
        options = options or CheckOptions()
        started = time.monotonic()
        run_id = run_id or new_run_id()
        results_dir = self.results_root / safe_name(run_id)
        results_dir.mkdir(parents=True, exist_ok=True)
        reference = options.reference_time or (batch.window[1] if batch.window else datetime.now(UTC))
        base = {
            "run_id": run_id,
            "source": batch.source,
            "window": [format_timestamp(t) for t in batch.window] if batch.window else None,
            "results_dir": str(results_dir),
            "checked_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        floor = self._volume_floor(options.volume)
        if batch.is_empty and not floor:
            summary = QualitySummary(
                status="empty", rows_checked=0, expectations_evaluated=0, total_seconds=0.0, **base
            )
            self._write_summary(results_dir, summary)
            return summary

        failed: list[FailedExpectation] = []
        samples: dict[int, list[str]] = {}
        evaluated = 0
        validation_seconds = 0.0
        result_json = docs = None
        if len(batch.frame):
            frame = add_derived_columns(batch.frame.reset_index(drop=True), self.catalogue, self.contract)
            parameters = self.suite.expectation_parameters(
                contract=self.contract,
                reference_time=reference,
                max_age_hours=options.max_age_hours,
                max_future_minutes=options.max_future_minutes,
                volume_min_transactions=floor,
            )
            t0 = time.monotonic()
            result, context = self._validate(frame, parameters, results_dir if options.data_docs else None)
            validation_seconds = time.monotonic() - t0
            evaluated = len(result.results)
            failed, samples = self._failures(result)
            failed = [self._explained(f, options.volume, floor) for f in failed]
            result_json = results_dir / "result.json"
            result_json.write_text(json.dumps(_json_safe(result.to_json_dict()), indent=1), encoding="utf-8")
            if options.data_docs:
                docs = self._build_docs(context, results_dir)
        else:
            frame = batch.frame
            if floor:  # nothing to validate, yet the profile expected a volume: that is the warning
                failed.append(self._explained(FailedExpectation(
                    name=VOLUME_NAME, type="expect_column_unique_value_count_to_be_between", severity="warning",
                    observed_value=0), options.volume, floor))
        if batch.rejected:
            failed.insert(
                0,
                FailedExpectation(
                    name=REJECTED_NAME,
                    type="streamstack.reader",
                    severity="critical",
                    unexpected_count=len(batch.rejected),
                    sample_values=[f"{r.location}: {r.reason}: {r.payload[:80]}" for r in batch.rejected[:5]],
                ),
            )
        if any(f.severity == "critical" for f in failed):
            status = "failed"
        elif failed:
            status = "passed_with_warnings"
        else:
            status = "passed"
        summary = QualitySummary(
            status=status,
            rows_checked=len(batch.frame),
            expectations_evaluated=evaluated + (1 if batch.rejected else 0),
            failed=failed,
            rejected_records=len(batch.rejected),
            sample_bad_rows=self._sample_rows(frame, batch.locations, samples, options.sample_rows),
            result_json=str(result_json) if result_json else None,
            data_docs=str(docs) if docs else None,
            validation_seconds=round(validation_seconds, 3),
            total_seconds=round(time.monotonic() - started, 3),
            **base,
        )
        self._write_summary(results_dir, summary)
        (results_dir / "suite.json").write_text(
            json.dumps(
                {
                    "name": self.suite.name,
                    "meta": self.suite.meta,
                    "expectations": list(self.suite.expectations),
                },
                indent=1,
            ),
            encoding="utf-8",
        )
        return summary

    def _volume_floor(self, volume: VolumeExpectation | None) -> int:
        if volume is None:
            return 0
        p = self.suite.parameters
        return volume.floor(p["volume_min_ratio"], p["volume_z"], p["volume_min_expected"])

    @staticmethod
    def _explained(failure: FailedExpectation, volume: VolumeExpectation | None, floor: int) -> FailedExpectation:
        if failure.name != VOLUME_NAME or volume is None:
            return failure
        from dataclasses import replace

        return replace(failure, detail=f"{volume.describe()}; fewer than {floor} is far below")

    # -- GX ----------------------------------------------------------------------------------
    def _validate(
        self, frame: pd.DataFrame, parameters: dict[str, Any], results_dir: Path | None
    ) -> tuple[ExpectationSuiteValidationResult, Any]:
        import great_expectations as gx
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )

        # No default docs site: GX would otherwise pick a temp dir per context; ours is per run.
        config = DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False)
        )
        context = gx.get_context(mode="ephemeral", project_config=config)
        context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        if results_dir is not None:
            context.add_data_docs_site(
                site_name=DOCS_SITE,
                site_config={
                    "class_name": "SiteBuilder",
                    "store_backend": {
                        "class_name": "TupleFilesystemStoreBackend",
                        "base_directory": str(results_dir / "data_docs"),
                    },
                    "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                },
            )
        suite = context.suites.add(self.suite.to_gx())
        batch_definition = (
            context.data_sources.add_pandas("streamstack")
            .add_dataframe_asset(self.suite.name)
            .add_batch_definition_whole_dataframe("window")
        )
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=self.suite.name, data=batch_definition, suite=suite)
        )
        result = definition.run(
            batch_parameters={"dataframe": frame},
            expectation_parameters=parameters,
            result_format={"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_PER_EXPECTATION},
        )
        return result, context

    def _failures(
        self, result: ExpectationSuiteValidationResult
    ) -> tuple[list[FailedExpectation], dict[int, list[str]]]:
        order = {name: i for i, name in enumerate(self.suite.names)}
        failed: list[FailedExpectation] = []
        samples: dict[int, list[str]] = {}
        for item in result.results:
            if item.success:
                continue
            config = item.expectation_config
            meta = config.meta or {}
            name = meta.get("name") or config.type
            details = item.result or {}
            exception = None
            if item.exception_info and item.exception_info.get("raised_exception"):
                exception = str(item.exception_info.get("exception_message"))[:300]
            failed.append(
                FailedExpectation(
                    name=name,
                    type=config.type,
                    severity=meta.get("severity", "critical"),
                    unexpected_count=details.get("unexpected_count"),
                    unexpected_percent=details.get("unexpected_percent"),
                    sample_values=_json_safe(
                        list(details.get("partial_unexpected_list") or [])[:SAMPLE_PER_EXPECTATION]
                    ),
                    observed_value=_json_safe(details.get("observed_value")),
                    exception=exception,
                )
            )
            for index in list(details.get("partial_unexpected_index_list") or [])[:SAMPLE_PER_EXPECTATION]:
                if isinstance(index, int):
                    samples.setdefault(index, []).append(name)
        failed.sort(key=lambda f: (f.severity != "critical", order.get(f.name, len(order))))
        return failed, samples

    @staticmethod
    def _sample_rows(
        frame: pd.DataFrame, locations: list[str], samples: dict[int, list[str]], limit: int
    ) -> list[dict[str, Any]]:
        columns = [c for c in field_names(PURCHASE_ENRICHED) if c in frame.columns]
        columns += [c for c in frame.columns if c not in columns and c not in DERIVED_COLUMNS]
        rows = []
        for index in sorted(samples)[:limit]:
            if index >= len(frame):
                continue
            record = frame.iloc[index]
            row = {c: _json_safe(record[c]) for c in columns}
            rows.append(
                {
                    "at": locations[index] if index < len(locations) else f"row {index}",
                    "failed": samples[index],
                    "row": row,
                }
            )
        return rows

    @staticmethod
    def _build_docs(context: Any, results_dir: Path) -> Path:
        context.build_data_docs(site_names=[DOCS_SITE])
        site = results_dir / "data_docs"
        # GX copies a 3 MB set of images no page refers to; keep the folder light per run.
        images = site / "static" / "images"
        if images.is_dir():
            pages = "".join(
                p.read_text(encoding="utf-8", errors="ignore")
                for p in site.rglob("*")
                if p.suffix in {".html", ".css", ".js"}
            )
            for image in images.iterdir():
                if image.is_file() and image.name not in pages:
                    image.unlink()
        validations = (
            sorted((site / "validations").rglob("*.html")) if (site / "validations").is_dir() else []
        )
        return validations[0] if validations else site / "index.html"

    @staticmethod
    def _write_summary(results_dir: Path, summary: QualitySummary) -> None:
        (results_dir / "summary.json").write_text(
            json.dumps(_json_safe(summary.to_dict()), indent=1), encoding="utf-8"
        )

