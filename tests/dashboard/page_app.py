"""One dashboard page as an AppTest app: the page function, run the way Streamlit runs a page."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def _page_script(name: str) -> None:
    # AppTest runs this function's source on its own: it imports what it needs itself.
    import importlib

    module = importlib.import_module(f"truckflow.dashboard.pages.{name}")
    getattr(module, name)()


def page_app(name: str, timeout: float) -> AppTest:
    """The page ``name`` (``overview``, ``pipelines``...), not yet run."""
    return AppTest.from_function(_page_script, kwargs={"name": name}, default_timeout=timeout)
