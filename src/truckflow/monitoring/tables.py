"""Monitoring's tables: drift per week and column, realized and estimated metrics per day.

``drift_runs`` has one row per week (its first day), ``drift_columns`` one per week, scope
(``data`` or ``prediction``) and column, ``daily_metrics`` one per day of arrivals
(``truckflow.monitoring.store``). ``estimated_metrics`` has one row per prediction day: the
estimate and, once labels arrive, the realized figures (``truckflow.monitoring.estimate_store``).
"""

from __future__ import annotations

import sqlalchemy as sa

from truckflow.store.tables import metadata, utcnow_column

__all__ = ["daily_metrics", "drift_columns", "drift_runs", "estimated_metrics"]

drift_runs = sa.Table(
    "drift_runs",
    metadata,
    sa.Column("week_start", sa.Date, primary_key=True),
    sa.Column("reference_start", sa.Date, nullable=True),
    sa.Column("reference_end", sa.Date, nullable=True),
    sa.Column("current_start", sa.Date, nullable=True),
    sa.Column("current_end", sa.Date, nullable=True),
    sa.Column("model_version", sa.String(64), nullable=True),
    sa.Column("dataset_drift", sa.Boolean, nullable=False),
    sa.Column("share_drifted", sa.Double, nullable=False),
    sa.Column("drift_share", sa.Double, nullable=False),
    sa.Column("prediction_drift", sa.Boolean, nullable=True),
    sa.Column("model_drift", sa.Boolean, nullable=True),
    sa.Column("f1", sa.Double, nullable=True),
    sa.Column("drift_detected", sa.Boolean, nullable=False),
    sa.Column("html_path", sa.String(1024), nullable=True),
    sa.Column("json_path", sa.String(1024), nullable=True),
    utcnow_column(),
)


drift_columns = sa.Table(
    "drift_columns",
    metadata,
    sa.Column("week_start", sa.Date, nullable=False),
    sa.Column("scope", sa.String(16), nullable=False),
    sa.Column("column_name", sa.String(128), nullable=False),
    sa.Column("column_type", sa.String(16), nullable=False),
    sa.Column("test", sa.String(16), nullable=False),
    # NULL statistic means +infinity (a category new in the current window): no engine-neutral
    # way to store infinity exists (MySQL has none).
    sa.Column("statistic", sa.Double, nullable=True),
    sa.Column("p_value", sa.Double, nullable=True),
    sa.Column("threshold", sa.Double, nullable=False),
    sa.Column("drifted", sa.Boolean, nullable=False),
    sa.PrimaryKeyConstraint("week_start", "scope", "column_name"),
)


daily_metrics = sa.Table(
    "daily_metrics",
    metadata,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("accuracy", sa.Double, nullable=False),
    sa.Column("precision", sa.Double, nullable=False),
    sa.Column("recall", sa.Double, nullable=False),
    sa.Column("f1", sa.Double, nullable=False),
    sa.Column("model_version", sa.String(64), nullable=True),
    utcnow_column(),
)


estimated_metrics = sa.Table(
    "estimated_metrics",
    metadata,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("model_version", sa.String(64), nullable=True),
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("expected_positives", sa.Double, nullable=False),
    sa.Column("estimated_precision", sa.Double, nullable=False),
    sa.Column("estimated_recall", sa.Double, nullable=False),
    sa.Column("estimated_f1", sa.Double, nullable=False),
    sa.Column("estimated_accuracy", sa.Double, nullable=False),
    sa.Column("estimated_f1_low", sa.Double, nullable=False),
    sa.Column("estimated_f1_high", sa.Double, nullable=False),
    sa.Column("labelled", sa.Integer, nullable=False, server_default="0"),
    sa.Column("realized_precision", sa.Double, nullable=True),
    sa.Column("realized_recall", sa.Double, nullable=True),
    sa.Column("realized_f1", sa.Double, nullable=True),
    sa.Column("realized_accuracy", sa.Double, nullable=True),
    utcnow_column(),
)
