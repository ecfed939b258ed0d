"""Domain pipelines (training, daily, drift, release) built on the generic engine."""
