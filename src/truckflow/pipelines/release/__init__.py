"""The release flow: the ``release`` pipeline, its acceptance checks, report and outcome, and
the manual approve, reject and rollback (``ops.py``)."""
