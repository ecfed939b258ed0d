"""The registration gate: good enough in absolute terms, and not worse than production."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["GateResult", "check_gate"]


@dataclass(frozen=True)
class GateResult:
    passed: bool
    failed: list[str] = field(default_factory=list)

    @property
    def message(self) -> str:
        if self.passed:
            return "all gate conditions hold"
        return "; ".join(self.failed)

    def to_dict(self) -> dict[str, object]:
        return {"passed": self.passed, "failed": list(self.failed), "message": self.message}


def check_gate(
    test_f1: float,
    min_f1: float,
    production_f1: float | None = None,
    tolerance: float = 0.0,
    production_version: str | None = None,
) -> GateResult:
    """Test F1 >= ``min_f1`` and, with a production model scored on the same test set,
    test F1 >= its F1 - ``tolerance``. Each failed condition is stated with its numbers."""
    failed = []
    if not test_f1 >= min_f1:
        failed.append(f"test F1 {test_f1:.4f} is below min_f1 {min_f1:.4f}")
    if production_f1 is not None and not test_f1 >= production_f1 - tolerance:
        which = f"version {production_version}" if production_version else "the production model"
        failed.append(
            f"test F1 {test_f1:.4f} is worse than {which}'s {production_f1:.4f} on the same "
            f"test set by {production_f1 - test_f1:.4f}, more than the tolerance {tolerance:.4f}"
        )
    return GateResult(passed=not failed, failed=failed)
