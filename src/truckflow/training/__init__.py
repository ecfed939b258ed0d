"""Training: the course's preprocessing, candidate families tuned with Optuna, evaluation, gate."""

from truckflow.training.candidates import FAMILIES
from truckflow.training.data import (
    DEFAULT_TRAIN_END,
    DEFAULT_VALIDATION_END,
    TrainingError,
    split_by_arrival,
)
from truckflow.training.gate import GateResult, check_gate
from truckflow.training.tuning import TunedCandidate, tune_candidate

__all__ = [
    "DEFAULT_TRAIN_END",
    "DEFAULT_VALIDATION_END",
    "FAMILIES",
    "GateResult",
    "TrainingError",
    "TunedCandidate",
    "check_gate",
    "split_by_arrival",
    "tune_candidate",
]
