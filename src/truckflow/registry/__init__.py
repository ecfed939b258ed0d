"""The model registry (MLflow): versions, approval status, aliases, verified loading."""

from truckflow.registry.contract import FeatureContract, FeatureSpec
from truckflow.registry.loading import (
    LoadedVersion,
    ModelRefusedError,
    load_stage,
    load_version,
    version_threshold,
)
from truckflow.registry.model_registry import ModelRegistry, RegistryError
from truckflow.registry.support import code_revision, directory_checksum, pinned_requirements
from truckflow.registry.versions import (
    APPROVAL_TAG,
    APPROVED,
    CHECKSUM_TAG,
    PENDING,
    REJECTED,
    THRESHOLD_TAG,
    ModelVersion,
)

__all__ = [
    "APPROVAL_TAG",
    "APPROVED",
    "CHECKSUM_TAG",
    "PENDING",
    "REJECTED",
    "THRESHOLD_TAG",
    "FeatureContract",
    "FeatureSpec",
    "LoadedVersion",
    "ModelRefusedError",
    "ModelRegistry",
    "ModelVersion",
    "RegistryError",
    "code_revision",
    "directory_checksum",
    "load_stage",
    "load_version",
    "pinned_requirements",
    "version_threshold",
]
