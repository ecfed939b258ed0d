"""The engine imports nothing truck-specific (and the import-linter contract holds)."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

DOMAIN = (
    "truckflow.data",
    "truckflow.features",
    "truckflow.training",
    "truckflow.monitoring",
    "truckflow.pipelines",
    "truckflow.cli",
    "truckflow.serving",
    "truckflow.dashboard",
)


def test_importing_the_engine_loads_no_domain_module() -> None:
    code = (
        "import json, sys, truckflow.pipeline, truckflow.pipeline.examples;"
        "truckflow.pipeline.get_pipeline('example');"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('truckflow'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = json.loads(out.stdout)
    assert "truckflow.pipeline.runners" in loaded
    assert [m for m in loaded if m.startswith(DOMAIN)] == []


def _existing(modules: list[str]) -> list[str]:
    return [m for m in modules if importlib.util.find_spec(m) is not None]


def test_import_linter_contract_passes(tmp_path: Path) -> None:
    """The pyproject contract, run on the packages that exist so far (subsystems land one by
    one; import-linter refuses to name a module that does not exist yet)."""
    root = Path(__file__).resolve().parents[2]
    config = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["importlinter"]
    (contract,) = [c for c in config["contracts"] if c["name"].startswith("The generic platform")]
    sources, forbidden = (
        _existing(contract["source_modules"]),
        _existing(contract["forbidden_modules"]),
    )
    assert "truckflow.pipeline" in sources and "truckflow.cli" in forbidden
    ini = tmp_path / "importlinter.ini"
    ini.write_text(
        "[importlinter]\nroot_package = truckflow\n\n[importlinter:contract:platform]\n"
        f"name = {contract['name']}\ntype = forbidden\n"
        "source_modules =\n"
        + "".join(f"    {m}\n" for m in sources)
        + "forbidden_modules =\n"
        + "".join(f"    {m}\n" for m in forbidden)
        + "allow_indirect_imports = false\n"
    )
    lint = Path(sys.executable).with_name("lint-imports")
    command = str(lint) if lint.exists() else shutil.which("lint-imports")
    assert command, "lint-imports is not installed"
    result = subprocess.run(
        [command, "--config", str(ini)], cwd=root, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{contract['name']} KEPT" in result.stdout
