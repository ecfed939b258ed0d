"""``truckflow predict``: one trip with the production model, the reasons, the same answer as
the dashboard's form (the prepared home of the dashboard tests holds a trained model)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from truckflow.cli.app import app
from truckflow.settings import Settings


def test_predict_one_trip_says_why(prepared: tuple[Settings, dict[str, str]]) -> None:
    settings, facts = prepared
    runner = CliRunner()
    base = ["--home", str(settings.home), "predict", facts["truck_id"], facts["departure"]]
    done = runner.invoke(app, [*base, "--reasons", "4", "--json"])
    assert done.exit_code == 0, done.output
    body = json.loads(done.stdout)
    assert body["model_version"] == facts["production"] and body["stage"] == "production"
    assert 0.0 <= body["probability"] <= 1.0
    assert body["delayed"] == (body["probability"] >= body["threshold"])
    assert len(body["reasons"]) == 4 and all("the risk by" in r["text"] for r in body["reasons"])
    shown = runner.invoke(app, base)
    assert shown.exit_code == 0 and "the risk by" in shown.output
    unknown = runner.invoke(app, [*base[:3], "1", facts["departure"], "--json"])
    assert unknown.exit_code != 0 and "truck 1" in unknown.stdout
