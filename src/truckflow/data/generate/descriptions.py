"""Weather descriptions: the course's vocabulary, and the pick of one from severity and temperature.

The course's files use the condition names of a public weather API (47 of them). Here a
description follows from the weather itself: dry (sunny by day, clear by night, or clouds),
fog, or precipitation at three strengths, as snow, mixed (sleet, freezing rain) or rain by
temperature. Within a group the variant is random with fixed weights, the first the commonest.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["DESCRIPTIONS", "LEVEL_FOG", "LEVEL_HEAVY", "LEVEL_LIGHT", "LEVEL_MODERATE", "describe"]

LEVEL_DRY, LEVEL_FOG, LEVEL_LIGHT, LEVEL_MODERATE, LEVEL_HEAVY = 0, 1, 2, 3, 4

_GROUPS: dict[str, tuple[tuple[str, float], ...]] = {
    "fog": (("Mist", 0.8), ("Fog", 0.15), ("Freezing fog", 0.05)),
    "light_snow": (
        ("Light snow", 0.45),
        ("Patchy light snow", 0.22),
        ("Patchy moderate snow", 0.14),
        ("Patchy snow possible", 0.12),
        ("Light snow showers", 0.07),
    ),
    "light_mixed": (
        ("Ice pellets", 0.3),
        ("Light sleet", 0.2),
        ("Light freezing rain", 0.2),
        ("Patchy sleet possible", 0.1),
        ("Light sleet showers", 0.08),
        ("Patchy freezing drizzle possible", 0.07),
        ("Freezing drizzle", 0.05),
    ),
    "light_rain": (
        ("Patchy rain possible", 0.26),
        ("Light drizzle", 0.24),
        ("Light rain", 0.22),
        ("Light rain shower", 0.17),
        ("Patchy light drizzle", 0.08),
        ("Patchy light rain", 0.03),
    ),
    "moderate_snow": (
        ("Moderate snow", 0.65),
        ("Patchy heavy snow", 0.22),
        ("Moderate or heavy snow showers", 0.13),
    ),
    "moderate_mixed": (
        ("Moderate or heavy sleet", 0.45),
        ("Heavy freezing drizzle", 0.3),
        ("Light showers of ice pellets", 0.25),
    ),
    "moderate_rain": (
        ("Moderate rain", 0.6),
        ("Moderate or heavy rain shower", 0.22),
        ("Moderate rain at times", 0.13),
        ("Thundery outbreaks possible", 0.05),
    ),
    "heavy_snow": (
        ("Heavy snow", 0.7),
        ("Blizzard", 0.18),
        ("Blowing snow", 0.08),
        ("Moderate or heavy snow with thunder", 0.04),
    ),
    "heavy_mixed": (
        ("Moderate or heavy freezing rain", 0.85),
        ("Moderate or heavy showers of ice pellets", 0.15),
    ),
    "heavy_rain": (
        ("Heavy rain", 0.5),
        ("Moderate or heavy rain with thunder", 0.2),
        ("Torrential rain shower", 0.12),
        ("Heavy rain at times", 0.1),
        ("Patchy light rain with thunder", 0.08),
    ),
}
_DRY = ("Sunny", "Clear", "Partly cloudy", "Cloudy", "Overcast")

DESCRIPTIONS: tuple[str, ...] = _DRY + tuple(n for g in _GROUPS.values() for n, _ in g)
_CODE = {name: i for i, name in enumerate(DESCRIPTIONS)}
_ORDER = tuple(_GROUPS)  # group index -> name
_WIDTH = max(len(g) for g in _GROUPS.values())
# Per group: cumulative weights (padded with 2.0, never reached) and the codes of its variants.
_CUM = np.full((len(_ORDER), _WIDTH), 2.0)
_CODES = np.zeros((len(_ORDER), _WIDTH), dtype=np.int16)
for _gi, _name in enumerate(_ORDER):
    _w = np.array([w for _, w in _GROUPS[_name]])
    _CUM[_gi, : len(_w)] = np.cumsum(_w / _w.sum())
    _CUM[_gi, len(_w) - 1] = 1.0
    _CODES[_gi, : len(_w)] = [_CODE[n] for n, _ in _GROUPS[_name]]


def describe(
    level: NDArray[np.int8],
    temp: NDArray[np.float64],
    cloud: NDArray[np.float64],
    daytime: NDArray[np.bool_],
    u: NDArray[np.float64],
) -> NDArray[np.int16]:
    """Description codes (indices into DESCRIPTIONS) for arrays of the same shape."""
    phase = np.where(temp <= 31, 0, np.where(temp <= 35, 1, 2))  # snow, mixed, rain
    group = np.where(
        level == LEVEL_FOG,
        0,
        1 + 3 * (np.clip(level, LEVEL_LIGHT, LEVEL_HEAVY) - LEVEL_LIGHT) + phase,
    )
    variant = (u[..., None] > _CUM[group]).sum(axis=-1)
    wet = _CODES[group, variant]
    dry = np.where(
        cloud < 0.05,
        np.where(daytime, _CODE["Sunny"], _CODE["Clear"]),
        np.where(
            cloud < 0.55,
            _CODE["Partly cloudy"],
            np.where(cloud < 0.9, _CODE["Cloudy"], _CODE["Overcast"]),
        ),
    )
    return np.where(level == LEVEL_DRY, dry, wet).astype(np.int16)
