"""The training flow: the ``training`` pipeline (``pipeline.py``) and its step bodies (``steps.py``)."""
