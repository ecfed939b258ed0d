"""The results of a drift check: one ``ColumnDrift`` per column, gathered in a ``DataDrift``."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, computed_field

from truckflow.monitoring.config import DriftConfig
from truckflow.monitoring.stattests import ColumnKind, StatResult, StatTest

__all__ = ["ColumnDrift", "DataDrift", "column_result"]


class ColumnDrift(BaseModel):
    """The verdict on one column, with everything needed to explain it.

    ``n_unique`` counts distinct values over both samples; for numeric columns tested with the
    binned Wasserstein distance it is the number of occupied bins (a lower bound).
    """

    model_config = ConfigDict(frozen=True, ser_json_inf_nan="strings")

    column: str
    kind: ColumnKind
    test: StatTest
    statistic: float
    p_value: float | None
    threshold: float
    drifted: bool
    reference_size: int
    current_size: int
    n_unique: int

    @property
    def score(self) -> float:
        """The number the verdict compares with ``threshold``: p-value or distance."""
        return self.statistic if self.p_value is None else self.p_value


class DataDrift(BaseModel):
    """Per-column verdicts and the dataset verdict (drifted share >= ``drift_share``)."""

    model_config = ConfigDict(frozen=True, ser_json_inf_nan="strings")

    columns: list[ColumnDrift]
    drift_share: float
    profile: str = "evidently"
    # adaptive profile: how its null windows were drawn (contiguous or multinomial)
    null_method: str | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def drifted_columns(self) -> list[str]:
        return [c.column for c in self.columns if c.drifted]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def share_drifted(self) -> float:
        return len(self.drifted_columns) / len(self.columns) if self.columns else 0.0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def dataset_drift(self) -> bool:
        return bool(self.columns) and self.share_drifted >= self.drift_share

    def column(self, name: str) -> ColumnDrift:
        for col in self.columns:
            if col.column == name:
                return col
        raise KeyError(name)


def column_result(
    name: str,
    kind: ColumnKind,
    test: StatTest,
    result: StatResult,
    sizes: tuple[int, int],
    n_unique: int,
    config: DriftConfig,
) -> ColumnDrift:
    threshold = test.threshold(config)
    return ColumnDrift(
        column=name,
        kind=kind,
        test=test,
        statistic=result.statistic,
        p_value=result.p_value,
        threshold=threshold,
        drifted=test.drifted(result.score, threshold),
        reference_size=sizes[0],
        current_size=sizes[1],
        n_unique=n_unique,
    )
