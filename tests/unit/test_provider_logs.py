"""namespace_levels reach standard-library loggers (Airflow 3.3 applies them to structlog only)."""

from __future__ import annotations

import logging

import pytest

from streamstack.airflow_env import THIRD_PARTY_LOG_LEVELS
from streamstack.providers.logs import apply_namespace_levels, parse_namespace_levels


def test_pairs_split_on_whitespace_and_commas() -> None:
    assert parse_namespace_levels("a=WARNING, b.c=error  d=DEBUG") == {"a": 30, "b.c": 40, "d": 10}
    assert parse_namespace_levels("") == {}


@pytest.mark.parametrize("bad", ["great_expectations", "gx=LOUD", "=INFO"])
def test_a_bad_pair_names_itself(bad: str) -> None:
    with pytest.raises(ValueError, match=f"namespace_levels: '{bad}'"):
        parse_namespace_levels(bad)


def test_the_embedded_stacks_levels_silence_gx_info() -> None:
    gx = logging.getLogger("great_expectations._docs_decorators")
    before = logging.getLogger("great_expectations").level
    try:
        applied = apply_namespace_levels(THIRD_PARTY_LOG_LEVELS)
        assert applied["great_expectations"] == logging.WARNING
        assert not gx.isEnabledFor(logging.INFO) and gx.isEnabledFor(logging.WARNING)
    finally:
        logging.getLogger("great_expectations").setLevel(before)
