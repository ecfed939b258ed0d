"""Thresholds of the drift and quality checks, typed and validated.

Two profiles: ``adaptive`` (the default) takes each column's threshold from the null
distribution at the current window's size (``truckflow.monitoring._adaptive``), with
``false_alarm_rate`` as its one setting; ``evidently`` keeps Evidently's fixed thresholds. In the
``evidently`` profile the defaults reproduce Evidently's default drift algorithm (DataDriftPreset): the test for a
column depends on its type, its number of distinct values and the reference size. The one
deliberate difference is ``drift_share``: Evidently's default is 0.5, the course (and so
truckflow) declares dataset drift as soon as 10% of the columns drift.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from truckflow.settings.sections import DriftSettings

if TYPE_CHECKING:
    from truckflow.settings import Settings

__all__ = ["DriftConfig"]

# The thresholds a deployment can set have their defaults in the settings section, once.
_SETTABLE = DriftSettings()


class DriftConfig(BaseModel):
    """What counts as drift. Every threshold applies to the test it is named after."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    profile: Literal["adaptive", "evidently"] = Field(
        default=_SETTABLE.profile,
        description="adaptive: thresholds from reference windows of the current size; "
        "evidently: Evidently's default tests and fixed thresholds.",
    )
    false_alarm_rate: float = Field(
        default=_SETTABLE.false_alarm_rate,
        gt=0,
        lt=0.5,
        description="adaptive profile: the share of same-size reference windows that a "
        "column's threshold lets through as drifted.",
    )
    null_windows: int = Field(
        default=100,
        ge=20,
        description="adaptive profile: reference windows drawn per column for its null.",
    )
    null_seed: int = Field(default=0, description="adaptive profile: seed of random draws.")
    small_sample_rows: int = Field(
        default=1000,
        ge=1,
        description="A reference with at most this many values gets hypothesis tests "
        "(K-S, chi-squared, z); a larger one gets distances (Wasserstein, Jensen-Shannon).",
    )
    max_discrete_values: int = Field(
        default=5,
        ge=2,
        description="A numeric column with at most this many distinct values (reference and "
        "current together) is tested as categorical.",
    )
    ks_alpha: float = Field(default=0.05, gt=0, lt=1, description="K-S drift when p <= alpha.")
    chi2_alpha: float = Field(default=0.05, gt=0, lt=1, description="Chi-squared: p < alpha.")
    z_alpha: float = Field(default=0.05, gt=0, lt=1, description="Two-proportion z: p < alpha.")
    wasserstein_threshold: float = Field(
        default=0.1, gt=0, description="Wasserstein distance / reference std >= threshold."
    )
    jensenshannon_threshold: float = Field(
        default=0.1, gt=0, le=1, description="Jensen-Shannon distance (natural log) >= threshold."
    )
    drift_share: float = Field(
        default=_SETTABLE.share,
        gt=0,
        le=1,
        description="Dataset drift when the share of drifted columns reaches this value "
        "(the course's 0.1; Evidently's own default is 0.5).",
    )
    min_f1: float = Field(
        default=_SETTABLE.min_f1,
        ge=0,
        le=1,
        description="Model drift when F1 on labelled trips is below this.",
    )
    histogram_bins: int = Field(
        default=4096,
        ge=64,
        description="Bins of the fast Wasserstein estimate; a verdict within its error bound "
        "of the threshold is recomputed exactly, so this changes speed, never a verdict.",
    )
    workers: int = Field(
        default=1,
        ge=1,
        description="Threads for the categorical columns, which run beside the numeric block "
        "(string hashing and numpy release the GIL); 1 runs everything in the caller's thread.",
    )
    prediction_drift_triggers: bool = Field(
        default=False,
        description="Whether prediction drift alone counts as drift (the course retrains on "
        "data drift or low F1 only).",
    )

    @classmethod
    def from_settings(cls, settings: Settings) -> DriftConfig:
        """The configuration a deployment chose through ``TRUCKFLOW_DRIFT__*`` settings."""
        return cls(
            drift_share=settings.drift.share,
            min_f1=settings.drift.min_f1,
            profile=settings.drift.profile,
            false_alarm_rate=settings.drift.false_alarm_rate,
        )
