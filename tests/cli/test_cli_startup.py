"""The CLI starts without the heavy libraries: ``truckflow --help`` and ``import truckflow``
load none of them (each CLI call a test, a script or a user makes would pay seconds for them);
the commands import what they use when they run."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = (
    "mlflow",
    "scipy",
    "sklearn",
    "xgboost",
    "lightgbm",
    "optuna",
    "dask",
    "distributed",
    "streamlit",
    "pandas",
    "matplotlib",
    "sqlalchemy",
    "alembic",
    "fastapi",
    "uvicorn",
)

# One process for all three: each start costs seconds on a busy 2-core machine.
_PROBE = """
import json, sys
import truckflow, truckflow.errors, truckflow.settings
loaded = {"import truckflow": sorted({m.split(".")[0] for m in sys.modules} & HEAVY)}
from truckflow.cli.app import app
for argv in (["--help"], ["data", "generate", "--help"], ["stream", "--help"]):
    sys.argv = ["truckflow", *argv]
    try:
        app()
    except SystemExit as exit:
        assert exit.code == 0, (argv, exit.code)
    loaded[" ".join(argv)] = sorted({m.split(".")[0] for m in sys.modules} & HEAVY)
print(json.dumps(loaded))
"""


def test_import_truckflow_and_cli_help_load_no_heavy_library() -> None:
    code = f"HEAVY = set({HEAVY!r})\n{_PROBE}"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert loaded == {
        "import truckflow": [],
        "--help": [],
        "data generate --help": [],
        "stream --help": [],
    }
