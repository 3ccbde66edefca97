"""The Spark job report: counts from checkpoint and topic offset differences."""

from __future__ import annotations

from streamstack.spark.report import JobReport, _delta


def test_delta_is_the_new_offsets_per_partition() -> None:
    assert _delta({0: 5, 1: 7}, {0: 9, 1: 7, 2: 3}) == {0: (5, 9), 2: (0, 3)}


def test_report_lines_lead_with_the_numbers() -> None:
    report = JobReport(
        job="purchases_enrichment", read=1000, written=990, dead_letters=10,
        dead_letters_by_reason={"unknown_product": 7, "invalid_field": 3},
        offsets={"demo.purchases/0": "[0, 1000)  1,000 records"}, batches=2,
        output_topic="demo.purchases.enriched", invalid_topic="demo.purchases.invalid",
    )
    lines = report.lines()
    assert lines[0] == (
        "purchases_enrichment: read 1,000 records, wrote 990 to demo.purchases.enriched, "
        "dead-lettered 10 to demo.purchases.invalid (2 micro-batches)"
    )
    assert lines[1].split() == ["dead", "letters", "unknown_product", "7"]
    assert report.as_dict()["dead_letters_by_reason"] == {"unknown_product": 7, "invalid_field": 3}


def test_backlog_counts_the_input_records_past_the_checkpoint(monkeypatch) -> None:
    from types import SimpleNamespace

    from streamstack.spark import report
    from streamstack.topics import load_topics

    topics = load_topics()
    purchases = topics["purchases"].name
    ends = {purchases: {0: 10, 1: 4, 2: 0}}
    monkeypatch.setattr(report, "end_offsets", lambda _config, name: ends[name])
    control = SimpleNamespace(topics=topics, kafka_config={})
    before = report.Snapshot(batch=3, committed={purchases: {0: 6, 1: 4}}, outputs={})
    assert report.backlog(control, "running_totals", before) == 4
    assert report.backlog(control, "running_totals", report.Snapshot(None, {}, {})) == 14
