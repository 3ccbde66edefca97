"""The sales generator: a faithful, seeded model of the smoothie shop, and the runs that publish it.

``model`` (pure Python: catalogue, transactions, inventory), ``config`` (settings file and
environment overrides), ``run`` (paced or load runs into a ``Sink``), ``replay`` (recorded
files), ``sinks`` (JSON-lines files) and ``kafka`` (the producer). Only ``kafka`` imports
confluent-kafka, and only when a run goes to a broker.
"""

from streamstack.generator.catalogue import Catalogue, Product, load_catalogue
from streamstack.generator.config import GeneratorConfig, load_config
from streamstack.generator.errors import DeliveryError, GeneratorError, RecordProblem, ReplayError
from streamstack.generator.model import PurchaseEncoder, SalesModel, Transaction, VirtualClock
from streamstack.generator.run import RunSummary, build_model, build_simulation, run_generator
from streamstack.generator.simulation import Simulation

__all__ = [
    "Catalogue",
    "DeliveryError",
    "GeneratorConfig",
    "GeneratorError",
    "Product",
    "PurchaseEncoder",
    "RecordProblem",
    "ReplayError",
    "RunSummary",
    "SalesModel",
    "Simulation",
    "Transaction",
    "VirtualClock",
    "build_model",
    "build_simulation",
    "load_catalogue",
    "load_config",
    "run_generator",
]
