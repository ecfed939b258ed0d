"""Domain pipelines (training, daily, drift, release) built on the generic engine.

Importing this package registers them with the engine (``truckflow pipeline list`` shows them).
"""

from truckflow.pipelines import training

__all__ = ["training"]
