"""Domain pipelines (training, daily, drift, release) built on the generic engine.

Importing this package registers them with the engine (``truckflow pipeline list`` shows them).
"""

from truckflow.pipelines import release, training

__all__ = ["release", "training"]
