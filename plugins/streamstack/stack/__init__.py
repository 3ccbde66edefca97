"""The embedded local stack: real services (Kafka, later Pinot and Airflow) as background processes.

Used by the CLI (``streamstack stack up``) and the tests, never by a DAG.
"""

from streamstack.stack.service import Service, ServiceStatus
from streamstack.stack.stack import Stack

__all__ = ["Service", "ServiceStatus", "Stack"]
