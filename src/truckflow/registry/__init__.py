"""The model registry (MLflow): versions, approval status, aliases, verified loading."""

from truckflow.registry.model_registry import ModelRegistry, RegistryError
from truckflow.registry.support import code_revision, directory_checksum, pinned_requirements
from truckflow.registry.versions import (
    APPROVAL_TAG,
    APPROVED,
    CHECKSUM_TAG,
    PENDING,
    REJECTED,
    ModelVersion,
)

__all__ = [
    "APPROVAL_TAG",
    "APPROVED",
    "CHECKSUM_TAG",
    "PENDING",
    "REJECTED",
    "ModelRegistry",
    "ModelVersion",
    "RegistryError",
    "code_revision",
    "directory_checksum",
    "pinned_requirements",
]
