"""Dirt: the course files' imperfections, at a configurable rate.

The real files have blanks in categorical columns and in load capacity, a few negative driving
experiences, a city with a second, different hourly series (duplicated city, date and hour), and
a few blank or repeated traffic rows. ``DirtRates()`` holds the rates measured on them;
``DirtRates.scaled(f)`` multiplies every rate (0 gives clean files). ``impossible_humidity`` adds
weather rows no ingestion should accept (a humidity over 100), for the quarantine path.

Counts are exact (``round(rate * rows)`` rows chosen at random), so a measured rate is the rate.
Labels always come from the clean values: dirt changes what the files say, not what happened.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np
from numpy.typing import NDArray

from truckflow.data.generate.errors import GenerateError

__all__ = ["DirtRates", "pick", "pick_mask"]


@dataclass(frozen=True)
class DirtRates:
    load_capacity_blank: float = 0.044
    fuel_type_blank: float = 0.031
    gender_blank: float = 0.018
    driving_style_blank: float = 0.040
    negative_experience: float = 0.009
    vehicles_blank: float = 0.0005
    traffic_duplicate: float = 0.0005
    city_duplicate: float = 0.0204  # share of cities with a second series
    impossible_humidity: float = 0.00002  # share of weather rows

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not 0.0 <= value <= 0.5:
                raise GenerateError(f"dirt rate {f.name}={value} is outside 0..0.5")

    def scaled(self, factor: float) -> DirtRates:
        if factor < 0:
            raise GenerateError(f"dirt factor {factor} must be >= 0")
        return DirtRates(**{k: min(0.5, v * factor) for k, v in asdict(self).items()})

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def pick(rng: np.random.Generator, n: int, rate: float) -> NDArray[np.int64]:
    """Exactly ``round(rate * n)`` distinct row indices, sorted."""
    k = min(n, round(rate * n))
    return np.sort(rng.choice(n, size=k, replace=False)).astype(np.int64)


def pick_mask(rng: np.random.Generator, n: int, rate: float) -> NDArray[np.bool_]:
    mask = np.zeros(n, dtype=bool)
    mask[pick(rng, n, rate)] = True
    return mask
