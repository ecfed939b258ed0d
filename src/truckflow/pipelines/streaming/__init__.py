"""The streaming flow: the ``daily`` pipeline, its step bodies, the day record, and the driver
that steps, replays and resets the simulated days (``driver.py``)."""
