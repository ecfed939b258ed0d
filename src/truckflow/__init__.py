"""truckflow: the truck-delay MLOps loop as one local-first Python package."""

from truckflow.errors import TruckflowError
from truckflow.settings import Settings

__all__ = ["Settings", "TruckflowError", "__version__"]
__version__ = "0.1.0"
