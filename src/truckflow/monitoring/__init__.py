"""Drift detection and model-quality monitoring (the ML layer of the weekly drift pipeline).

Modules, imported on their own so that the migrations (which read ``store``) stay light:

- ``config``: ``DriftConfig``, the thresholds (Evidently's defaults; ``drift_share`` 0.1);
- ``stattests``: the tests and the rule that picks one per column;
- ``drift``: ``detect_drift`` / ``prediction_drift`` -> ``DataDrift`` of ``ColumnDrift``;
- ``quality``: ``model_quality`` -> ``ModelQuality`` (F1 below ``min_f1`` is model drift);
- ``report``: ``build_report`` -> ``DriftReport``; ``write_report`` -> HTML + JSON;
- ``store``: tables ``drift_runs``, ``drift_columns``, ``daily_metrics`` and their save/load.
"""
