"""The Streamlit dashboard over truckflow's library API (``truckflow dashboard`` starts it).

``app.py`` is the script Streamlit runs; each page is a function in ``pages/``, one module per
page. Pages read through the subsystems' own query functions, never SQL.
"""

from pathlib import Path

__all__ = ["APP_FILE"]

APP_FILE = Path(__file__).with_name("app.py")
