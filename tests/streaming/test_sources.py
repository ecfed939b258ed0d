from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from truckflow.streaming import (
    ClockState,
    StreamingError,
    StreamingSources,
    day_batch,
    forecast_window,
)

D = dt.date
SCHEDULE = """truck_id,route_id,departure_date,estimated_arrival,delay
11111111,R-a,2019-02-15 07:00:00,2019-02-15 15:00:00.000000000,0
22222222,R-b,2019-02-15 07:00:00,2019-02-16 03:30:12.000000000,1
33333333,R-a,2019-02-16 07:00:00,2019-02-16 20:00:00.000000000,0
44444444,R-a,2019-02-21 07:00:00,2019-02-22 09:00:00.000000000,0
11111111,R-b,2019-02-22 07:00:00,2019-02-23 01:00:00.000000000,1
"""
WEATHER_COLUMNS = "temp,wind_speed,description,precip,humidity,visibility,pressure,chanceofrain,chanceoffog,chanceofsnow,chanceofthunder"
WEATHER_VALUES = "30,10,Light snow,0.0,80,6,1020,0,0,0,0"


def _write_course_files(folder: Path) -> Path:
    days = pd.date_range("2019-02-15", "2019-02-28", freq="D")
    (folder / "streaming_schedule.csv").write_text(SCHEDULE)
    city = [f"C-1,{d:%Y-%m-%d},{h},{WEATHER_VALUES}" for d in days for h in (0, 1200)]
    (folder / "streaming_city_weather.csv").write_text(
        f"city_id,date,hour,{WEATHER_COLUMNS}\n" + "\n".join(city) + "\n"
    )
    slots = pd.date_range("2019-02-15", "2019-02-28 18:00", freq="6h")
    route = [f"R-a,{s:%Y-%m-%d %H:%M:%S},{WEATHER_VALUES}" for s in slots]
    (folder / "streaming_route_weather.csv").write_text(
        f"route_id,Date,{WEATHER_COLUMNS}\n" + "\n".join(route) + "\n"
    )
    traffic = [f"R-a,{d:%Y-%m-%d},{h},{300.0 if h else ''},0" for d in days for h in (0, 100)]
    (folder / "streaming_traffic.csv").write_text(
        "route_id,date,hour,no_of_vehicles,accident\n" + "\n".join(traffic) + "\n"
    )
    return folder


@pytest.fixture
def sources(tmp_path: Path) -> StreamingSources:
    return StreamingSources.from_folder(_write_course_files(tmp_path))


def _state(day: dt.date, day_in_week: int) -> ClockState:
    return ClockState(day, day, day_in_week, day_in_week == 1 and day != D(2019, 2, 15))


def test_first_day_of_a_week_sends_schedules_and_seven_days_of_forecasts(
    sources: StreamingSources,
) -> None:
    batch = day_batch(sources, D(2019, 2, 15), _state(D(2019, 2, 15), 1))
    assert batch.is_week_start
    assert batch.schedules["truck_id"].tolist() == [11111111, 22222222]
    assert "delay" not in batch.schedules.columns  # labels are withheld
    assert batch.labels.empty  # nothing arrived on 2019-02-14
    assert sorted(batch.city_weather["date"].dt.date.unique()) == [
        D(2019, 2, 15) + dt.timedelta(days=i) for i in range(7)
    ]
    assert batch.counts() == {
        "schedule": 2,
        "labels": 0,
        "city_weather": 14,
        "route_weather": 28,
        "traffic": 14,
    }
    assert batch.route_weather["Date"].max() == pd.Timestamp("2019-02-21 18:00")
    assert batch.traffic["hour"].tolist()[:2] == [0, 100]  # HHMM integers kept


def test_ordinary_day_sends_schedules_and_yesterdays_ground_truth(
    sources: StreamingSources,
) -> None:
    batch = day_batch(sources, D(2019, 2, 16), _state(D(2019, 2, 16), 2))
    assert not batch.is_week_start
    assert batch.schedules["truck_id"].tolist() == [33333333]
    assert batch.labels[["truck_id", "delay"]].values.tolist() == [[11111111, 0]]
    assert batch.city_weather.empty and batch.route_weather.empty and batch.traffic.empty
    later = day_batch(sources, D(2019, 2, 17), _state(D(2019, 2, 17), 3))
    assert later.schedules.empty
    assert later.labels["truck_id"].tolist() == [22222222, 33333333]  # arrived 02-16, any hour
    assert later.labels["estimated_arrival"].iloc[0] == pd.Timestamp("2019-02-16 03:30:12")


def test_second_week_start(sources: StreamingSources) -> None:
    batch = day_batch(sources, D(2019, 2, 22), _state(D(2019, 2, 22), 1))
    assert batch.schedules["truck_id"].tolist() == [11111111]
    assert batch.labels.empty  # truck 4 arrives on the 22nd: its label comes on the 23rd
    assert batch.city_weather["date"].min() == pd.Timestamp("2019-02-22")
    assert batch.city_weather["date"].max() == pd.Timestamp("2019-02-28")
    assert forecast_window(D(2019, 2, 22)) == (D(2019, 2, 22), D(2019, 2, 28))
    assert sources.first_day == D(2019, 2, 15) and sources.last_day == D(2019, 2, 24)


def test_batch_written_back_in_course_format(sources: StreamingSources, tmp_path: Path) -> None:
    batch = day_batch(sources, D(2019, 2, 17), _state(D(2019, 2, 17), 3))
    written = batch.to_csv(tmp_path / "out")
    assert set(written) == {"labels"}
    lines = written["labels"].read_text().splitlines()
    assert lines[0] == "truck_id,route_id,departure_date,estimated_arrival,delay"
    assert lines[1] == "22222222,R-b,2019-02-15 07:00:00,2019-02-16 03:30:12.000000000,1"
    first = day_batch(sources, D(2019, 2, 15), _state(D(2019, 2, 15), 1)).to_csv(tmp_path / "w")
    assert written["labels"].name.startswith("2019-02-17_")
    city = first["city_weather"].read_text().splitlines()
    assert city[1].startswith("C-1,2019-02-15,0,30")
    assert first["route_weather"].read_text().splitlines()[1].startswith("R-a,2019-02-15 00:00:00,")


def test_day_must_be_the_clocks_day(sources: StreamingSources) -> None:
    with pytest.raises(StreamingError, match="clock is at 2019-02-16"):
        day_batch(sources, D(2019, 2, 15), _state(D(2019, 2, 16), 2))


def test_bad_files_are_named(tmp_path: Path) -> None:
    folder = _write_course_files(tmp_path)
    (folder / "streaming_traffic.csv").unlink()
    with pytest.raises(StreamingError, match=r"streaming_traffic\.csv not found"):
        StreamingSources.from_folder(folder)
    _write_course_files(folder)
    (folder / "streaming_schedule.csv").write_text(
        SCHEDULE.replace("2019-02-16 07:00:00", "yesterday")
    )
    with pytest.raises(StreamingError, match="line 4, column departure_date"):
        StreamingSources.from_folder(folder)
    (folder / "streaming_schedule.csv").write_text("truck_id,route_id\n1,R-a\n")
    with pytest.raises(StreamingError, match="lacks column"):
        StreamingSources.from_folder(folder)


@pytest.mark.parametrize("piece_rows", [3, 500_000])
def test_a_window_keeps_its_days_of_the_forecasts_read_a_piece_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, piece_rows: int
) -> None:
    from truckflow.streaming import sources as module

    monkeypatch.setattr(module, "_PIECE_ROWS", piece_rows)
    folder = _write_course_files(tmp_path)
    whole = StreamingSources.from_folder(folder)
    window = forecast_window(D(2019, 2, 22))
    kept = StreamingSources.from_folder(folder, window=window, history_before=D(2019, 2, 17))
    pd.testing.assert_frame_equal(kept.schedule, whole.schedule)
    for name, column in (("city_weather", "date"), ("route_weather", "Date"), ("traffic", "date")):
        frame = getattr(whole, name)
        day = frame[column].dt.normalize()
        wanted = (day >= pd.Timestamp(window[0])) & (day <= pd.Timestamp(window[1]))
        expected = frame[wanted | (frame[column] < pd.Timestamp("2019-02-17"))]
        assert 0 < len(expected) < len(frame)
        pd.testing.assert_frame_equal(getattr(kept, name), expected.reset_index(drop=True))
    # The batch of the window's first day is the same as from the whole files.
    state = _state(D(2019, 2, 22), 1)
    for a, b in zip(
        day_batch(kept, D(2019, 2, 22), state).counts().items(),
        day_batch(whole, D(2019, 2, 22), state).counts().items(),
        strict=True,
    ):
        assert a == b


def test_a_bad_date_in_a_later_piece_names_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from truckflow.streaming import sources as module

    monkeypatch.setattr(module, "_PIECE_ROWS", 4)
    folder = _write_course_files(tmp_path)
    path = folder / "streaming_traffic.csv"
    lines = path.read_text().splitlines()
    lines[10] = lines[10].replace("2019-02-19", "the 19th")  # line 11 of the file
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(StreamingError, match="line 11, column date"):
        StreamingSources.from_folder(folder, window=forecast_window(D(2019, 2, 22)))
