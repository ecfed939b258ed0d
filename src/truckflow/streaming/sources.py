"""What each simulated day sends, as pure functions over the streaming files.

On day D (the course's schedule): the truck schedules departing on D, labels withheld; on the
first day of each week the forecasts for D..D+6 (city weather, route weather, traffic); and the
ground truth of the trips whose estimated arrival fell on D-1. The frames keep the course's
columns (datetimes parsed); ``DayBatch.to_csv`` writes them back in the course's format, so the
day can go through the same validated ingest path as any course file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from truckflow.streaming.clock import DAYS_PER_WEEK, ClockState
from truckflow.streaming.errors import StreamingError

__all__ = [
    "STREAMING_FILES",
    "DayBatch",
    "ForecastPieces",
    "StreamingSources",
    "day_batch",
    "forecast_window",
]

STREAMING_FILES = {
    "schedule": "streaming_schedule.csv",
    "city_weather": "streaming_city_weather.csv",
    "route_weather": "streaming_route_weather.csv",
    "traffic": "streaming_traffic.csv",
}
_REQUIRED = {
    "schedule": ("truck_id", "route_id", "departure_date", "estimated_arrival", "delay"),
    "city_weather": ("city_id", "date", "hour"),
    "route_weather": ("route_id", "Date"),
    "traffic": ("route_id", "date", "hour", "no_of_vehicles", "accident"),
}
_DATETIMES = {
    "schedule": ("departure_date", "estimated_arrival"),
    "city_weather": ("date",),
    "route_weather": ("Date",),
    "traffic": ("date",),
}
# How the course writes its datetimes (estimated_arrival carries nanoseconds).
_FORMATS = {
    "departure_date": "%Y-%m-%d %H:%M:%S",
    "estimated_arrival": "%Y-%m-%d %H:%M:%S.%f000",
    "Date": "%Y-%m-%d %H:%M:%S",
    "date": "%Y-%m-%d",
}


# Rows of a forecast file read at a time when only some days are kept: the read's memory is
# one piece and the days kept, not the file (a scale-10 traffic file is 400 MB of text).
_PIECE_ROWS = 500_000

# Which rows of a forecast file to keep, from its parsed datetimes (None: every row).
Keep = Callable[[pd.Series], pd.Series]


def _read(folder: Path, source: str, keep: Keep | None = None) -> pd.DataFrame:
    path = folder / STREAMING_FILES[source]
    try:
        if keep is None:
            return _prepared(pd.read_csv(path), source, str(path))
        return _read_kept(path, source, keep)
    except FileNotFoundError as exc:
        raise StreamingError(f"streaming source {source}: file {path} not found") from exc
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise StreamingError(f"streaming source {source}: cannot read {path}: {exc}") from exc


def _read_kept(path: Path, source: str, keep: Keep) -> pd.DataFrame:
    """The file's rows that ``keep`` wants, read a piece at a time."""
    kept = list(_kept_pieces(path, source, keep, _PIECE_ROWS))
    if not kept:  # a header and no rows
        return _prepared(pd.read_csv(path), source, str(path))
    return pd.concat(kept, ignore_index=True)


def _kept_pieces(path: Path, source: str, keep: Keep, piece_rows: int) -> Iterator[pd.DataFrame]:
    """Each piece of the file, prepared, with only the rows that ``keep`` wants."""
    first_line = 2  # the header is line 1
    with pd.read_csv(path, chunksize=piece_rows) as pieces:
        for piece in pieces:
            prepared = _prepared(piece, source, str(path), first_line)
            first_line += len(piece)
            yield prepared[keep(prepared[_DATETIMES[source][0]]).to_numpy()]


@dataclass
class ForecastPieces:
    """The rows of one forecast file dated in ``window`` and/or before ``before``, read and
    prepared a piece of ``piece_rows`` rows of the file at a time each time it is iterated,
    pieces without such rows left out: a week's forecasts (4M traffic rows at scale 10) can go
    into the ingest without ever being one frame. ``rows``: how many the iteration gave."""

    folder: Path
    source: str
    window: tuple[dt.date, dt.date] | None = None
    before: dt.date | None = None
    piece_rows: int = _PIECE_ROWS
    rows: int = 0

    def __iter__(self) -> Iterator[pd.DataFrame]:
        keep = _keeping(self.window, self.before)
        if keep is None or self.source == "schedule":
            raise ValueError(
                f"ForecastPieces({self.source!r}): a forecast file and its days needed"
            )
        path = Path(self.folder) / STREAMING_FILES[self.source]
        self.rows = 0
        try:
            for piece in _kept_pieces(path, self.source, keep, self.piece_rows):
                if len(piece):
                    self.rows += len(piece)
                    yield piece
        except FileNotFoundError as exc:
            raise StreamingError(f"streaming source {self.source}: file {path} not found") from exc
        except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
            raise StreamingError(
                f"streaming source {self.source}: cannot read {path}: {exc}"
            ) from exc


def _prepared(frame: pd.DataFrame, source: str, origin: str, first_line: int = 2) -> pd.DataFrame:
    missing = [c for c in _REQUIRED[source] if c not in frame.columns]
    if missing:
        raise StreamingError(f"streaming source {source}: {origin} lacks column(s) {missing}")
    frame = frame.copy()
    for column in _DATETIMES[source]:
        parsed = pd.to_datetime(frame[column], format="ISO8601", errors="coerce")
        bad = parsed.isna() & frame[column].notna()
        if bad.any():
            line = int(bad.to_numpy().nonzero()[0][0]) + first_line  # header is line 1
            raise StreamingError(
                f"streaming source {source}: {origin} line {line}, column {column}: "
                f"not a date/time: {frame[column][bad].iloc[0]!r}"
            )
        frame[column] = parsed
    return frame


@dataclass(frozen=True)
class StreamingSources:
    """The four streaming tables, read once (course format)."""

    schedule: pd.DataFrame
    city_weather: pd.DataFrame
    route_weather: pd.DataFrame
    traffic: pd.DataFrame

    @classmethod
    def from_folder(
        cls,
        folder: Path,
        *,
        window: tuple[dt.date, dt.date] | None = None,
        history_before: dt.date | None = None,
    ) -> StreamingSources:
        """Read ``streaming_*.csv`` from ``folder`` (the course's files or the generator's).

        With ``window`` (first and last day, both included) and/or ``history_before``, the
        forecast files keep only the rows dated inside the window or before that day, read a
        piece at a time: what one simulated day needs, in memory bounded by the week, not the
        file. The schedule is always read whole (the labels of any day come from it)."""
        folder = Path(folder)
        keep = _keeping(window, history_before)
        frames = {
            source: _read(folder, source, None if source == "schedule" else keep)
            for source in STREAMING_FILES
        }
        return cls(**frames)

    @classmethod
    def from_frames(
        cls,
        schedule: pd.DataFrame,
        city_weather: pd.DataFrame,
        route_weather: pd.DataFrame,
        traffic: pd.DataFrame,
    ) -> StreamingSources:
        """Frames already in memory, in the course's columns (datetimes parsed here)."""
        frames = {
            "schedule": schedule,
            "city_weather": city_weather,
            "route_weather": route_weather,
            "traffic": traffic,
        }
        return cls(**{s: _prepared(f, s, f"frame {s}") for s, f in frames.items()})

    @property
    def first_day(self) -> dt.date:
        """The first departure day of the streaming period."""
        if self.schedule.empty:
            raise StreamingError("streaming source schedule: no trips")
        return self.schedule["departure_date"].min().date()  # type: ignore[no-any-return]

    @property
    def last_day(self) -> dt.date:
        """The last day anything is sent: the day after the last estimated arrival."""
        if self.schedule.empty:
            raise StreamingError("streaming source schedule: no trips")
        last: dt.date = self.schedule["estimated_arrival"].max().date()
        return last + dt.timedelta(days=1)


@dataclass(frozen=True)
class DayBatch:
    """What arrives on one simulated day. Forecast frames are empty except on week starts."""

    day: dt.date
    is_week_start: bool
    schedules: pd.DataFrame
    labels: pd.DataFrame
    city_weather: pd.DataFrame
    route_weather: pd.DataFrame
    traffic: pd.DataFrame

    def counts(self) -> dict[str, int]:
        return {
            "schedule": len(self.schedules),
            "labels": len(self.labels),
            "city_weather": len(self.city_weather),
            "route_weather": len(self.route_weather),
            "traffic": len(self.traffic),
        }

    def to_csv(self, folder: Path) -> dict[str, Path]:
        """Write the non-empty parts in the course's format; returns source -> file written."""
        parts = {
            "schedule": self.schedules,
            "labels": self.labels,
            "city_weather": self.city_weather,
            "route_weather": self.route_weather,
            "traffic": self.traffic,
        }
        folder.mkdir(parents=True, exist_ok=True)
        written: dict[str, Path] = {}
        for source, frame in parts.items():
            if frame.empty:
                continue
            out = frame.copy()
            for column, fmt in _FORMATS.items():
                if column in out.columns:
                    out[column] = out[column].dt.strftime(fmt)
            name = "streaming_labels.csv" if source == "labels" else STREAMING_FILES[source]
            path = folder / f"{self.day.isoformat()}_{name}"
            out.to_csv(path, index=False)
            written[source] = path
        return written


def _keeping(window: tuple[dt.date, dt.date] | None, before: dt.date | None) -> Keep | None:
    if window is None and before is None:
        return None

    def keep(stamps: pd.Series) -> pd.Series:
        wanted = pd.Series(False, index=stamps.index)
        if window is not None:
            wanted |= _on_day(stamps, *window)
        if before is not None:
            wanted |= stamps < pd.Timestamp(before)
        return wanted

    return keep


def forecast_window(day: dt.date) -> tuple[dt.date, dt.date]:
    """The days a week-start forecast covers: ``day`` to ``day + 6``, both included."""
    return day, day + dt.timedelta(days=DAYS_PER_WEEK - 1)


def _on_day(stamps: pd.Series, first: dt.date, last: dt.date) -> pd.Series:
    days = stamps.dt.normalize()
    inside: pd.Series = (days >= pd.Timestamp(first)) & (days <= pd.Timestamp(last))
    return inside


def day_batch(sources: StreamingSources, day: dt.date, clock_state: ClockState) -> DayBatch:
    """The batch of ``day``, which must be the clock's current day."""
    if clock_state.current_day != day:
        raise StreamingError(
            f"day batch for {day} asked while the streaming clock is at {clock_state.current_day}"
        )
    schedule = sources.schedule
    departing = schedule[_on_day(schedule["departure_date"], day, day)]
    yesterday = day - dt.timedelta(days=1)
    arrived = schedule[_on_day(schedule["estimated_arrival"], yesterday, yesterday)]
    label_columns = ["truck_id", "route_id", "departure_date", "estimated_arrival", "delay"]
    if clock_state.is_week_start:
        first, last = forecast_window(day)
        city = sources.city_weather[_on_day(sources.city_weather["date"], first, last)]
        route = sources.route_weather[_on_day(sources.route_weather["Date"], first, last)]
        traffic = sources.traffic[_on_day(sources.traffic["date"], first, last)]
    else:
        city = sources.city_weather.iloc[0:0]
        route = sources.route_weather.iloc[0:0]
        traffic = sources.traffic.iloc[0:0]
    return DayBatch(
        day=day,
        is_week_start=clock_state.is_week_start,
        schedules=departing.drop(columns=["delay"]).reset_index(drop=True),
        labels=arrived[label_columns].reset_index(drop=True),
        city_weather=city.reset_index(drop=True),
        route_weather=route.reset_index(drop=True),
        traffic=traffic.reset_index(drop=True),
    )
