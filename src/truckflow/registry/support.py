"""Small helpers of the registry: artifact checksums, the code revision, pinned requirements."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

import truckflow

__all__ = ["IGNORED_FILES", "code_revision", "directory_checksum", "pinned_requirements"]

# Written by MLflow itself next to a registered model; not part of the model.
IGNORED_FILES = frozenset({"registered_model_meta"})

DEFAULT_REQUIREMENTS = ("scikit-learn", "xgboost", "lightgbm", "numpy", "pandas", "cloudpickle")


def directory_checksum(folder: Path) -> str:
    """sha256 over every file's relative path and contents, in a fixed order."""
    digest = hashlib.sha256()
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name not in IGNORED_FILES)
    for path in files:
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\0")
    return digest.hexdigest()


def code_revision() -> str:
    """``git describe`` of the checkout truckflow runs from, else the package version."""
    source = Path(truckflow.__file__).resolve().parent
    try:
        done = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--tags"],
            cwd=source,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        done = None
    if done is not None and done.returncode == 0 and done.stdout.strip():
        return done.stdout.strip()
    return f"truckflow {truckflow.__version__}"


def pinned_requirements(distributions: Sequence[str] = DEFAULT_REQUIREMENTS) -> list[str]:
    """``name==version`` of the installed distributions (those not installed are left out)."""
    pins = []
    for name in distributions:
        try:
            pins.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return pins
