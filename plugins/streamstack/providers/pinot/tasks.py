"""Task callables over Pinot for the DAGs' ``@task`` functions (thin: the logic is ``streamstack.pinot``)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from airflow.sdk.exceptions import AirflowFailException

from streamstack.providers.pinot.hooks import PinotRestHook

log = logging.getLogger(__name__)


def check_batch_accounted(generated: Mapping[str, Any],
                          pinot_conn_id: str = PinotRestHook.default_conn_name) -> dict[str, Any]:
    """Fail the run when Pinot holds fewer enriched rows of this run's batch than the generator sent.

    ``AirflowFailException``: no retry, the engine already finished and Pinot has caught up
    (``wait_ingested``), so the same rows would be missing again.
    """
    from streamstack.pinot.batch import account

    result = account(PinotRestHook(pinot_conn_id).get_client(), generated)
    log.info("%s", result.summary())
    if not result.complete:
        raise AirflowFailException(
            f"purchases did not reach Pinot: {result.summary()}. Check the engine's task log and the "
            "dead letters (Superset 'Pipeline Health', or `streamstack query --sql 'SELECT reason, COUNT(*) FROM "
            "deadLetters GROUP BY reason'`)."
        )
    return result.to_dict()
