"""``python -m benchmarks``: run every benchmark module in this folder that has ``main()``.

Modules whose name starts with ``_`` are helpers (one runs inside Evidently's own virtual
environment) and are not benchmarks of their own. Each benchmark runs with its defaults.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys
from pathlib import Path

for info in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda m: m.name):
    if info.name.startswith("_"):
        continue
    module = importlib.import_module(f"benchmarks.{info.name}")
    main = getattr(module, "main", None)
    if main is None:
        continue
    print(f"== benchmarks.{info.name}", flush=True)
    if inspect.signature(main).parameters:
        main([])
    else:  # reads sys.argv itself: give it no arguments of ours
        sys.argv = [f"benchmarks.{info.name}"]
        main()
