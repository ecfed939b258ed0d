"""Each model family's validation and test scores, and the time of the training stages.

Reads course-format CSV files (the course's own files, or the files truckflow's generator
writes; the trimmed sample in tests/fixtures is too small to compare families on), computes the features, splits by arrival, tunes every family
with the given trial budget, and prints per family: validation F1 and ROC AUC (threshold chosen
on validation) and test F1 and ROC AUC at that threshold; then the chosen model and the time of
each stage. The course's reference on its full data: XGBoost test F1 0.700, ROC AUC 0.753.

Run: ``.venv/bin/python benchmarks/training.py --data DIR [--trials 20]
      [--train-end 2019-01-05 --validation-end 2019-01-07]`` (the defaults fit the course slice
of 897 trips departing 2019-01-01..07; use the course's 2019-01-30 / 2019-02-07 on full data).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd

from truckflow.features import compute_features, read_course_csvs
from truckflow.pipelines.training import steps as stages
from truckflow.training import FAMILIES


def time_pipeline(features: pd.DataFrame, args: argparse.Namespace) -> None:
    """The ``training`` pipeline on the engine, cold then re-run unchanged (all cached)."""
    from truckflow.features.fill import register_feature_set, store_features
    from truckflow.pipelines.runtime import Runtime
    from truckflow.pipelines.training.pipeline import training_pipeline
    from truckflow.settings import Settings
    from truckflow.store import connect
    from truckflow.store.migrate import upgrade

    parameters = {
        "n_trials": args.trials,
        "seed": args.seed,
        "device": args.device,
        "train_end": args.train_end,
        "validation_end": args.validation_end,
        "min_f1": 0.0,
    }
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(home=Path(home))
        db = connect(settings)
        upgrade(db)
        register_feature_set(db)
        store_features(db, features)
        with Runtime.on(settings, db).runner() as runner:
            times = []
            for _ in ("cold", "cached"):
                t0 = time.perf_counter()
                result = runner.run(training_pipeline(), parameters)
                times.append(time.perf_counter() - t0)
                assert result.status == "succeeded", result.error
            hits = sum(1 for s in result.steps.values() if s.cache_hit)
        db.dispose()
    print(
        f"training pipeline ({args.trials} trials per family): cold {times[0]:.1f}s, "
        f"re-run {times[1]:.2f}s ({hits} steps from the cache) = {100 * times[1] / times[0]:.1f}% "
        f"of cold (target <= 5%)"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data",
        type=Path,
        default=Path(__file__).parent.parent / "tests" / "fixtures" / "course_sample",
        help="course-format CSV folder (default: the tests' trimmed course sample; too small to "
        "rank the families, so pass the course's files for the figures in the README)",
    )
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--train-end", default="2019-01-05")
    parser.add_argument("--validation-end", default="2019-01-07")
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--pipeline",
        action="store_true",
        help="time the training pipeline on the engine (cold, then cached) instead",
    )
    args = parser.parse_args(argv)

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    result = compute_features(read_course_csvs(args.data))
    timings["read + features"] = time.perf_counter() - t0
    print(f"{len(result.features):,} trips with features, {len(result.waiting):,} waiting")
    if args.pipeline:
        time_pipeline(result.features, args)
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "features.parquet"
        result.features.to_parquet(path, index=False)
        t0 = time.perf_counter()
        split = stages.split_dataset(str(path), tmp, args.train_end, args.validation_end)
        timings["split"] = time.perf_counter() - t0
        print(f"split {split['sizes']}")
        candidates = []
        print(
            f"{'family':<20} {'val F1':>7} {'val AUC':>8} {'test F1':>8} {'test AUC':>9} {'time':>7}"
        )
        for family in FAMILIES:
            t0 = time.perf_counter()
            candidate = stages.train_candidate(
                family,
                split["train"],
                split["validation"],
                tmp,
                n_trials=args.trials,
                seed=args.seed,
                device=args.device,
            )
            timings[f"tune {family}"] = time.perf_counter() - t0
            test = stages.evaluate_on_test(
                candidate["model_path"], candidate["threshold"], split["test"], f"{tmp}/{family}"
            )["metrics"]
            candidates.append(candidate)
            print(
                f"{family:<20} {candidate['validation_f1']:7.3f} "
                f"{candidate['validation_roc_auc']:8.3f} {test['f1']:8.3f} {test['roc_auc']:9.3f} "
                f"{timings[f'tune {family}']:6.1f}s"
            )
        best = stages.select_best(candidates)
        print(f"chosen on validation F1: {best['family']} (threshold {best['threshold']:.3f})")
    print("stage times: " + ", ".join(f"{k} {v:.1f}s" for k, v in timings.items()))
    print(f"total {sum(timings.values()):.1f}s with a {args.trials}-trial budget per family")


if __name__ == "__main__":
    main()
