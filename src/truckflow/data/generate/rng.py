"""Independent random streams, one per concern, so that one part's draws never move another's.

A stream is keyed by the seed, a name and optional integers (a chunk, a day). Adding draws in one
module, or a scenario that changes only the streaming weeks, leaves every other stream as it was.
"""

from __future__ import annotations

import zlib

import numpy as np
from numpy.typing import NDArray
from scipy.signal import lfilter

__all__ = ["ar1", "ar1_noise", "stream"]

_BURN_IN = 240  # steps dropped so that AR(1) series start in their stationary state


def stream(seed: int, name: str, *keys: int) -> np.random.Generator:
    """A generator for (seed, name, keys); same inputs, same draws, on any machine."""
    entropy = [seed & 0xFFFFFFFF, seed >> 32 & 0xFFFFFFFF, zlib.crc32(name.encode()), *keys]
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy)))


def ar1(rng: np.random.Generator, shape: tuple[int, int], phi: float) -> NDArray[np.float64]:
    """Unit-variance AR(1) series along the last axis (slow random swings)."""
    noise = ar1_noise(rng, shape) * np.sqrt(1 - phi**2)
    out: NDArray[np.float64] = lfilter([1.0], [1.0, -phi], noise, axis=1)[:, _BURN_IN:]
    return out


def ar1_noise(rng: np.random.Generator, shape: tuple[int, int]) -> NDArray[np.float64]:
    """The normal draws ``ar1(rng, shape, phi)`` makes (burn-in included), whatever ``phi``."""
    out: NDArray[np.float64] = rng.standard_normal((shape[0], shape[1] + _BURN_IN))
    return out
