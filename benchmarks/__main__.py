"""``python -m benchmarks``: run every benchmark module in this folder that has ``main()``."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

for info in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda m: m.name):
    module = importlib.import_module(f"benchmarks.{info.name}")
    if hasattr(module, "main"):
        module.main([])
