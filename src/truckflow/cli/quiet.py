"""Third-party noise kept out of a command's normal output (``--debug`` keeps it).

Each entry names a warning that says nothing the user can act on: urllib3 announces on every
import of ``requests`` that SOCKS proxies would need PySocks; Dask warns about graph sizes that
truckflow's steps produce by design (they carry file paths, and frames only on the local
runner's cluster). MLflow logs its store's set-up at INFO through its own handler. The filters
also reach child processes (Dask workers, Streamlit) through the environment.
"""

from __future__ import annotations

import os
import warnings

__all__ = ["QUIET_WARNINGS", "quiet_third_party"]

# Message prefixes, as PYTHONWARNINGS matches them (literal, case-insensitive, from the start).
QUIET_WARNINGS = (
    "SOCKS support in urllib3 requires",
    "Sending large graph of size",
    "Large object of size",
)


def quiet_third_party() -> None:
    for message in QUIET_WARNINGS:
        warnings.filterwarnings("ignore", message=message)
    inherited = [w for w in os.environ.get("PYTHONWARNINGS", "").split(",") if w]
    wanted = [f"ignore:{m}" for m in QUIET_WARNINGS]
    os.environ["PYTHONWARNINGS"] = ",".join(
        [*inherited, *(w for w in wanted if w not in inherited)]
    )
    # MLflow reads its level when first imported; a user's own setting wins.
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
