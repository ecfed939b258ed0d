"""The model registry (MLflow): versions, what they carry, stages, verified loading.

Names load lazily: the CLI names stages (``Stage``) at import, and that must not pull in
SQLAlchemy and MLflow (``truckflow --help`` loads no heavy library).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from truckflow.registry.contract import (
        FeatureContract,
        FeatureSpec,
    )
    from truckflow.registry.errors import (
        RegistryError,
    )
    from truckflow.registry.loading import (
        LoadedVersion,
        ModelRefusedError,
        load_stage,
        load_version,
        version_threshold,
    )
    from truckflow.registry.model_registry import (
        ModelRegistry,
    )
    from truckflow.registry.support import (
        code_revision,
        directory_checksum,
        pinned_requirements,
    )
    from truckflow.registry.versions import (
        APPROVAL_TAG,
        APPROVED,
        CALIBRATION_TAG,
        CHECKSUM_TAG,
        DEFAULT_THRESHOLD,
        PENDING,
        REJECTED,
        THRESHOLD_TAG,
        ModelVersion,
        Stage,
        VersionMetadata,
    )

_HOMES = {
    "FeatureContract": "contract",
    "FeatureSpec": "contract",
    "RegistryError": "errors",
    "LoadedVersion": "loading",
    "ModelRefusedError": "loading",
    "load_stage": "loading",
    "load_version": "loading",
    "version_threshold": "loading",
    "ModelRegistry": "model_registry",
    "code_revision": "support",
    "directory_checksum": "support",
    "pinned_requirements": "support",
    "APPROVAL_TAG": "versions",
    "APPROVED": "versions",
    "CALIBRATION_TAG": "versions",
    "CHECKSUM_TAG": "versions",
    "DEFAULT_THRESHOLD": "versions",
    "PENDING": "versions",
    "REJECTED": "versions",
    "THRESHOLD_TAG": "versions",
    "ModelVersion": "versions",
    "Stage": "versions",
    "VersionMetadata": "versions",
}

__all__ = [
    "APPROVAL_TAG",
    "APPROVED",
    "CALIBRATION_TAG",
    "CHECKSUM_TAG",
    "DEFAULT_THRESHOLD",
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
    "Stage",
    "VersionMetadata",
    "code_revision",
    "directory_checksum",
    "load_stage",
    "load_version",
    "pinned_requirements",
    "version_threshold",
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'truckflow.registry' has no attribute {name!r}")
    return getattr(importlib.import_module(f"truckflow.registry.{_HOMES[name]}"), name)
