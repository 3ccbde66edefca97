"""bench/rounds.py: the alternating order, best-of, spread and ratio every benchmark reports."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))
import rounds as rb


def test_rounds_alternate_and_report_best_spread_and_ratio(tmp_path: Path) -> None:
    order: list[str] = []

    def run(name: str, base: float):
        return lambda r: order.append(name) or {"s": base + r}

    results = rb.alternate(4, {"a": run("a", 4.0), "b": run("b", 2.0)}, log=lambda _l: None)
    assert order == ["a", "b", "b", "a", "a", "b", "b", "a"]
    assert rb.best(results["a"], "s") == 4.0 and rb.spread(results["a"], "s") == "4.0-7.0 s (+75%)"
    assert rb.ratio(results["a"], results["b"], "s") == 2.0
    assert all("load" in r for r in results["a"])
    assert rb.latency_summary([5, 1, 3, 2, 4]) == {"p50_ms": 3, "p95_ms": 4, "max_ms": 5, "n": 5}
    out = tmp_path / "RESULTS.md"
    out.write_text("# Benchmark results\n\n<!-- x:begin -->\nold\n<!-- x:end -->\nkept\n")
    rb.write_section("x", "X", "new", out)
    rb.write_section("y", "Y", "other", out)
    text = out.read_text()
    assert "old" not in text and "### X\nnew" in text and "kept" in text and text.rstrip().endswith("<!-- y:end -->")
