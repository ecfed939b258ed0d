"""The ``training`` pipeline: feature window -> split -> candidates -> best -> test -> gate -> register.

  load_window -> split -> train_<family> (one step per family, in parallel) -> select
    -> calibrate (Platt or isotonic on validation, by Brier score; stored with the version)
    -> evaluate (test metrics, calibration, plots) + production (the production model's F1 on
       the same test set) -> gate -> track (MLflow: the execution's parent run, a nested run per
       family and per trial, the datasets as inputs, the gate's decision as a tag)
    -> passed? --yes--> register (MLflow, PendingManualApproval; model.registered)
               --no---> gate_failed (says which condition, numbers; a warning, not an error)

Every step but those reading the database or the registry's production alias (and ``track``,
one parent run per execution) is cached: a re-run on the same feature rows and parameters
reuses the candidates and the version registered before. Frames and models travel as artifacts.
"""

from __future__ import annotations

from typing import Any

from truckflow.faults import fault_point
from truckflow.features.definition import FEATURE_SET_VERSION
from truckflow.pipeline import (
    CachePolicy,
    Condition,
    ConditionStep,
    FailStep,
    FunctionStep,
    Parameter,
    Pipeline,
    StepContext,
    ref,
    step,
)
from truckflow.pipelines.runtime import runtime_of
from truckflow.pipelines.shared.memory import release_memory
from truckflow.pipelines.training import steps as stages
from truckflow.pipelines.training.registration import (
    announce_registered,
    production_score,
    register_candidate,
    track_training,
)
from truckflow.registry import ModelRegistry
from truckflow.training import DEFAULT_TRAIN_END, DEFAULT_VALIDATION_END, FAMILIES
from truckflow.training.calibration import calibrate_candidate

__all__ = ["training_pipeline"]


def _file(context: StepContext, artifact: Any, name: str) -> str:
    return str(context.artifacts.get_file(artifact, context.work_dir / name))


@step(cache=False)  # reads the database: never reused from a cache
def load_window(
    window_start: str, window_end: str, feature_version: str, context: StepContext
) -> dict[str, Any]:
    out = stages.load_feature_window(
        runtime_of(context).db,
        window_start or None,
        window_end or None,
        str(context.work_dir),
        feature_version,
    )
    stored = {
        **{k: v for k, v in out.items() if k != "path"},
        "features": context.artifacts.put_file(out["path"]),
    }
    fault_point("training.after_load")
    return stored


@step
def split(
    features: Any, train_end: str, validation_end: str, context: StepContext
) -> dict[str, Any]:
    out = stages.split_dataset(
        _file(context, features, "features.parquet"),
        str(context.work_dir),
        train_end,
        validation_end,
    )
    release_memory()
    return {
        "sizes": out["sizes"],
        **{part: context.artifacts.put_file(out[part]) for part in ("train", "validation", "test")},
    }


@step
def train(
    family: str,
    families: str,
    train: Any,
    validation: Any,
    n_trials: int,
    seed: int,
    device: str,
    n_jobs: int,
    half_life_days: float,
    context: StepContext,
) -> dict[str, Any]:
    if family not in {f.strip() for f in families.split(",")}:
        return {"family": family, "skipped": True}
    out = stages.train_candidate(
        family,
        _file(context, train, "train.parquet"),
        _file(context, validation, "validation.parquet"),
        str(context.work_dir),
        n_trials=n_trials,
        seed=seed,
        device=device,
        n_jobs=n_jobs,
        half_life_days=half_life_days,
    )
    model = context.artifacts.put_file(out.pop("model_path"))
    release_memory()
    return {**out, "model": model, "skipped": False}


@step
def select(candidates: list[dict[str, Any]]) -> dict[str, Any]:
    trained = [c for c in candidates if not c.get("skipped")]
    best = stages.select_best(trained)
    fault_point("training.after_candidates")
    return best


@step
def evaluate(best: dict[str, Any], test: Any, context: StepContext) -> dict[str, Any]:
    out = stages.evaluate_on_test(
        _file(context, best["model"], "model.joblib"),
        best["threshold"],
        _file(context, test, "test.parquet"),
        str(context.work_dir / "evaluation"),
        title=best["family"],
    )
    return {
        "metrics": out["metrics"],
        "test_f1": out["metrics"]["f1"],
        "plots": [context.artifacts.put_file(p) for p in out["plots"]],
        "report": context.artifacts.put_file(out["report"]),
    }


@step
def calibrate(
    best: dict[str, Any], validation: Any, seed: int, context: StepContext
) -> dict[str, Any]:
    return calibrate_candidate(
        _file(context, best["model"], "model.joblib"),
        _file(context, validation, "validation.parquet"),
        seed=seed,
    )


@step(cache=False)  # reads the registry, whose production alias moves
def production(test: Any, context: StepContext) -> dict[str, Any]:
    settings = runtime_of(context).settings
    return production_score(
        ModelRegistry.from_settings(settings), _file(context, test, "test.parquet")
    )


@step
def gate(
    test_f1: float, min_f1: float, production: dict[str, Any], tolerance: float
) -> dict[str, Any]:
    return stages.gate(test_f1, min_f1, production["f1"], tolerance, production["version"])


@step(cache=False)  # one parent run per execution: never reused from an earlier one
def track(
    parameters: dict[str, Any],
    split: dict[str, Any],
    candidates: list[dict[str, Any]],
    best: dict[str, Any],
    evaluation: dict[str, Any],
    gate: dict[str, Any],
    context: StepContext,
) -> dict[str, Any]:
    datasets = {
        context_name: (
            _file(context, split[part], f"{part}.parquet"),
            str(getattr(split[part], "uri", split[part])),
        )
        for context_name, part in (
            ("training", "train"),
            ("validation", "validation"),
            ("test", "test"),
        )
    }
    return track_training(
        ModelRegistry.from_settings(runtime_of(context).settings),
        execution_id=context.execution_id,
        parameters=parameters,
        datasets=datasets,
        candidates=[c for c in candidates if not c.get("skipped")],
        best=best,
        evaluation=evaluation,
        gate=gate,
    )


# Cached: a re-run on the same feature rows and parameters gives back the version it registered
# before instead of registering the same model again.
@step
def register(
    best: dict[str, Any],
    evaluation: dict[str, Any],
    calibration: dict[str, Any],
    window: str,
    feature_version: str,
    context: StepContext,
) -> dict[str, Any]:
    settings = runtime_of(context).settings
    candidate = {
        **best,
        "model_path": _file(context, best["model"], "model.joblib"),
        "calibration": calibration,
    }
    folder = context.work_dir / "evaluation"
    folder.mkdir(exist_ok=True)
    local = {
        **evaluation,
        "plots": [
            _file(context, p, f"evaluation/{name}")
            for p, name in zip(
                evaluation["plots"], ("roc.png", "pr.png", "confusion_matrix.png"), strict=True
            )
        ],
        "report": _file(context, evaluation["report"], "evaluation/evaluation.json"),
    }
    # From the settings, so that the embedded store keeps the model files in the home (a bare
    # tracking URI would put them in ./mlruns of whatever folder the command runs from).
    registry = ModelRegistry.from_settings(settings)
    registered = register_candidate(
        registry,
        candidate,
        local,
        data_window=window,
        feature_version=feature_version,
        execution_id=context.execution_id,
    )
    announce_registered(runtime_of(context), registry.model_name, registered)
    fault_point("training.after_register")
    return registered


def _parameters() -> dict[str, Parameter]:
    return {
        "window_start": Parameter(
            "window_start",
            "string",
            default="",
            description="First arrival of the window (ISO); empty: no bound.",
        ),
        "window_end": Parameter(
            "window_end",
            "string",
            default="",
            description="Arrival bound, exclusive (ISO); empty: no bound.",
        ),
        "train_end": Parameter(
            "train_end",
            "string",
            default=DEFAULT_TRAIN_END,
            description="Last arrival of the training part.",
        ),
        "validation_end": Parameter(
            "validation_end",
            "string",
            default=DEFAULT_VALIDATION_END,
            description="Last arrival of the validation part; later arrivals are the test part.",
        ),
        "families": Parameter(
            "families",
            "string",
            default=",".join(FAMILIES),
            description="Candidate families to train, comma-separated.",
        ),
        "n_trials": Parameter(
            "n_trials", "int", default=20, description="Optuna trial budget per family."
        ),
        "seed": Parameter("seed", "int", default=0),
        "device": Parameter(
            "device", "string", default="cpu", description="XGBoost device: cpu or cuda."
        ),
        "n_jobs": Parameter("n_jobs", "int", default=1, description="Threads per model fit."),
        "half_life_days": Parameter(
            "half_life_days",
            "float",
            default=0.0,
            description="Weight training rows by recency, halving every this many days "
            "(0: equal weights, as the course trains).",
        ),
        "min_f1": Parameter(
            "min_f1", "float", default=0.6, description="Least test F1 to register."
        ),
        "tolerance": Parameter(
            "tolerance",
            "float",
            default=0.02,
            description="How much worse than production on the same test set is still accepted.",
        ),
        "feature_version": Parameter("feature_version", "string", default=FEATURE_SET_VERSION),
    }


def _trains(p: dict[str, Parameter]) -> list[FunctionStep]:
    """One training step per family (a family not asked for skips itself)."""
    return [
        train.as_step(
            f"train_{family}",
            family=family,
            families=p["families"],
            train=ref("split")["train"],
            validation=ref("split")["validation"],
            n_trials=p["n_trials"],
            seed=p["seed"],
            device=p["device"],
            n_jobs=p["n_jobs"],
            half_life_days=p["half_life_days"],
        )
        for family in FAMILIES
    ]


def _register_or_refuse(p: dict[str, Parameter]) -> ConditionStep:
    return ConditionStep(
        "passed",
        # Through the tracking step: a refused training is in MLflow before it ends.
        Condition.eq(ref("track")["gate"], "passed"),
        if_steps=[
            register.as_step(
                best=ref("select"),
                evaluation=ref("evaluate"),
                calibration=ref("calibrate"),
                window=ref("load_window")["window"],
                feature_version=p["feature_version"],
            ),
        ],
        else_steps=[
            FailStep(
                "gate_failed",
                "the model is not registered: {reason}",
                severity="warning",  # the gate refusing a model is its job, no error
                reason=ref("gate")["message"],
            )
        ],
    )


def training_pipeline() -> Pipeline:
    p = _parameters()
    trains = _trains(p)
    return Pipeline(
        "training",
        description="Train, tune and evaluate candidates on the feature table; register the best if it passes the gate.",
        parameters=list(p.values()),
        cache=CachePolicy(enabled=True),
        steps=[
            load_window.as_step(
                window_start=p["window_start"],
                window_end=p["window_end"],
                feature_version=p["feature_version"],
            ),
            split.as_step(
                features=ref("load_window")["features"],
                train_end=p["train_end"],
                validation_end=p["validation_end"],
            ),
            *trains,
            select.as_step(candidates=[ref(s.name) for s in trains]),
            evaluate.as_step(best=ref("select"), test=ref("split")["test"]),
            calibrate.as_step(
                best=ref("select"), validation=ref("split")["validation"], seed=p["seed"]
            ),
            production.as_step(test=ref("split")["test"]),
            gate.as_step(
                test_f1=ref("evaluate")["test_f1"],
                min_f1=p["min_f1"],
                production=ref("production"),
                tolerance=p["tolerance"],
            ),
            track.as_step(
                parameters=dict(p),
                split=ref("split"),
                candidates=[ref(s.name) for s in trains],
                best=ref("select"),
                evaluation=ref("evaluate"),
                gate=ref("gate"),
            ),
            _register_or_refuse(p),
        ],
    )
