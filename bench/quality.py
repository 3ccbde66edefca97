"""Benchmark: the full GX suite on 1 million enriched purchases vs plain pandas doing the same checks.

    .venv/bin/python bench/quality.py [--rows 1000000] [--rounds 3] [--no-write]

Both sides get the same DataFrame and answer the same questions (every expectation of
``expectations/purchases_enriched.json`` plus the generated schema checks); the script asserts
they agree on which checks fail, on a clean batch and on one with a few corrupted rows, so the
reference is not a strawman. GX time includes the derived columns, context and suite set-up and
the validation; Data Docs are excluded (measured once, separately). Writes its section of
``bench/RESULTS.md`` between ``<!-- quality:begin -->`` and ``<!-- quality:end -->``.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from streamstack import contract as rules
from streamstack.events import PURCHASE_ENRICHED
from streamstack.quality import Batch, CheckOptions, QualityRunner
from streamstack.quality.catalogue import ATTRIBUTES, catalogue_column
from streamstack.quality.derive import parse_event_times
from streamstack.quality.suite import PANDAS_TYPES
from streamstack.quality.synthetic import synthetic_purchases
from streamstack.settings import Settings

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
END = datetime(2026, 1, 1, 12, tzinfo=UTC)

_CONTRACT = rules.load_contract()
DISCOUNT = rules.allowed_values(_CONTRACT, "member_discount")[True][0]
SUPPLEMENT = rules.allowed_values(_CONTRACT, "supplement_price")[True][0]


def pandas_reference(frame: pd.DataFrame, catalogue: pd.DataFrame, end: datetime) -> set[str]:
    """The suite's checks in plain pandas; returns the names of the failed ones."""
    failed: set[str] = set()
    for f in PURCHASE_ENRICHED:
        if f.name not in frame:
            failed.add(f"expect_column_to_exist({f.name})")
            continue
        if str(frame[f.name].dtype) != PANDAS_TYPES[f.type]:
            failed.add(f"expect_column_type_to_be({f.name})")
        if frame[f.name].isna().any():
            failed.add(f"expect_column_values_to_not_be_null({f.name})")

    def between(col: str, lo: float | None = None, hi: float | None = None, strict_lo: bool = False) -> bool:
        s = frame[col].dropna()
        ok = pd.Series(True, index=s.index)
        if lo is not None:
            ok &= s > lo if strict_lo else s >= lo
        if hi is not None:
            ok &= s <= hi
        return bool(ok.all())

    def pair_equal(a: pd.Series, b: pd.Series) -> bool:
        both = a.notna() & b.notna()
        return bool((a[both] == b[both]).all())

    if frame.duplicated(["transaction_id", "line_number"], keep=False).any():
        failed.add("expect_compound_columns_to_be_unique(transaction_id, line_number)")
    codes = catalogue.index.get_indexer(frame["product_id"])
    known = codes >= 0
    if not (known | frame["product_id"].isna()).all():
        failed.add("unknown_product(product_id)")
    for name, col, lo, hi, strict in [
        ("quantity_out_of_range(purchase_quantity)", "purchase_quantity", 1, 3, False),
        ("line_number_out_of_range(line_number)", "line_number", 1, None, False),
        ("line_number_within_generator_profile", "line_number", 1, 3, False),
        ("price_out_of_range(purchase_price)", "purchase_price", 0, None, True),
        ("expect_column_values_to_be_between(product_price)", "product_price", 0, None, True),
        ("expect_column_values_to_be_between(product_cogs)", "product_cogs", 0, None, True),
        ("expect_column_values_to_be_between(total_purchase)", "total_purchase", 0, None, True),
    ]:
        if not between(col, lo, hi, strict):
            failed.add(name)
    for col, allowed in (("member_discount", [0.0, 0.1]), ("supplement_price", [0.0, 1.99])):
        if not frame[col].dropna().isin(allowed).all():
            failed.add(f"expect_column_values_to_be_in_set({col})")
    if not pair_equal(frame["member_discount"], frame["is_member"].map({True: DISCOUNT, False: 0.0})):
        failed.add("member_discount_matches_is_member")
    if not pair_equal(
        frame["supplement_price"], frame["add_supplements"].map({True: SUPPLEMENT, False: 0.0})
    ):
        failed.add("supplement_price_matches_add_supplements")
    expected = (
        frame["purchase_quantity"]
        * (frame["purchase_price"] + frame["supplement_price"])
        * (1 - frame["member_discount"])
    ).round(2)
    if not ((frame["total_purchase"] - expected).abs().dropna() * 100).round(6).le(1).all():
        failed.add("total_mismatch(total_purchase)")
    parsed = parse_event_times(frame["transaction_time"])
    if parsed.isna().any():
        failed.add("transaction_time_parseable")
    lo, hi = pd.Timestamp(end - timedelta(hours=168)), pd.Timestamp(end + timedelta(minutes=5))
    if not parsed.dropna().between(lo, hi).all():
        failed.add("transaction_time_in_bounds")
    millis = (parsed - pd.Timestamp("1970-01-01", tz="UTC")) // pd.Timedelta(milliseconds=1)
    if not pair_equal(frame["transaction_timestamp"], millis):
        failed.add("expect_column_pair_values_to_be_equal(transaction_timestamp, transaction_time_millis)")
    if not frame["transaction_id"].dropna().str.fullmatch(r"[0-9]+").all():
        failed.add("mistyped_field(transaction_id)")
    if not pair_equal(frame["purchase_price"], frame["product_price"]):
        failed.add("expect_column_pair_values_to_be_equal(purchase_price, product_price)")
    safe = np.where(known, codes, 0)
    for attribute in ATTRIBUTES:
        reference = pd.Series(catalogue[catalogue_column(attribute)].to_numpy()[safe], index=frame.index)
        data = frame[attribute]
        if not (data[known] == reference[known]).all():
            failed.add(f"expect_column_pair_values_to_be_equal({attribute}, {catalogue_column(attribute)})")
    return failed


def corrupt(frame: pd.DataFrame, rows: int, seed: int = 1) -> pd.DataFrame:
    """``rows`` random rows each get one of four critical faults."""
    frame = frame.copy()
    picks = np.random.default_rng(seed).choice(len(frame), size=rows, replace=False)
    quarters = np.array_split(picks, 4)
    frame.loc[quarters[0], "total_purchase"] += 1.0
    frame.loc[quarters[1], "product_id"] = "ZZ99"
    frame.loc[quarters[2], "purchase_quantity"] = 0
    frame.loc[quarters[3], "member_discount"] = 0.25
    return frame


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem = next(
        (
            int(line.split()[1]) // 1024 // 1024
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        ),
        0,
    )
    import great_expectations as gx

    return (
        f"{os.cpu_count()} cores {cpu}, {mem} GiB RAM, {platform.system()} {platform.release()}, Python {platform.python_version()}, "
        f"pandas {pd.__version__}, numpy {np.__version__}, great-expectations {gx.__version__}"
    )


def timed(fn, rounds: int) -> tuple[float, list[float], object]:
    times, result = [], None
    for _ in range(rounds):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), times, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--bad-rows", type=int, default=1000)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    results = Path(tempfile.mkdtemp(prefix="quality-bench-"))
    t0 = time.perf_counter()
    runner = QualityRunner(Settings.from_env(), results_root=results)
    setup = time.perf_counter() - t0
    clean = synthetic_purchases(args.rows, runner.catalogue, end=END, seed=5)
    dirty = corrupt(clean, args.bad_rows)
    options = CheckOptions(reference_time=END, data_docs=False)
    lines = []
    measured = {}
    for label, frame in (("clean", clean), (f"{args.bad_rows} bad rows", dirty)):
        gx_best, gx_all, summary = timed(
            lambda f=frame, name=label: runner.check(Batch(f, name), options=options), args.rounds
        )
        pd_best, pd_all, pd_failed = timed(
            lambda f=frame: pandas_reference(f, runner.catalogue, END), args.rounds
        )
        gx_failed = set(summary.failed_names)
        if gx_failed != pd_failed:
            print(
                f"MISMATCH on {label}: GX {sorted(gx_failed)} vs pandas {sorted(pd_failed)}", file=sys.stderr
            )
            return 2
        measured[label] = (gx_best, pd_best, len(summary.failed), summary.validation_seconds)
        lines.append(
            f"| {label} | {len(frame):,} | {summary.expectations_evaluated} | {len(gx_failed)} | {gx_best:.2f} s | {len(frame) / gx_best:,.0f} | "
            f"{pd_best:.2f} s | {len(frame) / pd_best:,.0f} | {gx_best / pd_best:.1f}x |"
        )
        print(
            f"{label}: GX {gx_best:.2f}s ({len(frame) / gx_best:,.0f} rows/s; rounds {[round(t, 2) for t in gx_all]}), "
            f"pandas {pd_best:.2f}s ({len(frame) / pd_best:,.0f} rows/s; rounds {[round(t, 2) for t in pd_all]}), "
            f"ratio GX/pandas {gx_best / pd_best:.1f}x, failed {len(gx_failed)}"
        )
    t0 = time.perf_counter()
    docs = runner.check(Batch(dirty, "docs"), options=CheckOptions(reference_time=END, data_docs=True))
    docs_seconds = time.perf_counter() - t0 - (docs.validation_seconds or 0)
    print(
        f"suite load (GX import included): {setup:.1f}s; Data Docs build on top of a check: ~{docs_seconds:.1f}s"
    )
    load = os.getloadavg()
    clean_gx = measured["clean"][0]
    text = "\n".join(
        [
            "<!-- quality:begin -->",
            f"### Data quality suite, GX vs plain pandas ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
            "",
            f"Machine: {machine()}; load average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (shared with other work). "
            f"Best of {args.rounds} rounds each; `bench/quality.py --rows {args.rows}`.",
            "",
            "GX = `QualityRunner.check` without Data Docs: derived columns, ephemeral context, suite, validation, "
            "summary and result JSON. pandas = the same checks written directly (`pandas_reference`); the script "
            "asserts both report the same failed checks.",
            "",
            "| batch | rows | expectations | failed | GX | GX rows/s | pandas | pandas rows/s | GX / pandas |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
            *lines,
            "",
            f"**Full suite on {args.rows:,} clean rows: {clean_gx:.2f} s** (aim < 10 s: {'met' if clean_gx < 10 else 'NOT met'}). "
            f"One-off suite load incl. GX import: {setup:.1f} s. Data Docs add ~{docs_seconds:.1f} s per run.",
            "<!-- quality:end -->",
        ]
    )
    print(text)
    if not args.no_write:
        current = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
        pattern = re.compile(r"<!-- quality:begin -->.*?<!-- quality:end -->", re.S)
        updated = (
            pattern.sub(lambda _m: text, current)
            if pattern.search(current)
            else current.rstrip("\n") + "\n\n" + text + "\n"
        )
        RESULTS.write_text(updated, encoding="utf-8")
    import shutil

    shutil.rmtree(results, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
