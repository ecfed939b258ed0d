"""A large file is ingested a piece of whole lines at a time; the outcome is the whole file's.

Pieces here are a few kilobytes (``chunk_bytes``), so the sample's traffic and route weather
files come in many pieces, with a malformed line, a wrong value, an exact repeat and a
conflicting repeat placed in later pieces than the rows they repeat.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from truckflow.data import IngestError
from truckflow.data.course_format import TABLE_SPECS
from truckflow.data.ingest import IngestReport, ingest_directory
from truckflow.data.ingest.reader import read_course_chunks, read_course_file
from truckflow.store import Database, connect
from truckflow.store.migrate import upgrade

PIECE = 16_384


def assert_balanced(report: IngestReport, folder: Path) -> None:
    """read = inserted + present + conflicting + quarantined, and a file's read = its lines."""
    for src in report.sources:
        assert src.read == (
            src.inserted + src.already_present + src.conflicting + src.quarantined
        ), src
        spec = TABLE_SPECS.get(src.table)
        if spec is not None and src.source in spec.files:
            assert src.read == (folder / src.source).read_bytes().count(b"\n") - 1, src


def _dirty(folder: Path) -> None:
    """Damage the traffic file far from its start, and repeat early rows at its end."""
    path = folder / "traffic_table.csv"
    lines = path.read_text().splitlines()
    lines[7_000] = lines[7_000] + ",extra"  # malformed: one field too many
    fields = lines[8_000].split(",")
    fields[-1] = "7"  # accident must be 0 or 1
    lines[8_000] = ",".join(fields)
    lines.append(lines[1])  # an exact repeat of the first row
    changed = lines[2].split(",")
    changed[-2] = "12345"  # same key as line 3, other vehicle count
    lines.append(",".join(changed))
    path.write_text("\n".join(lines) + "\n")


def _conflict_lines(dump: dict[str, list[tuple[Any, ...]]]) -> dict[str, Any]:
    # Whole file, a conflict's kept row is "line N of the file" and the rejected row is
    # recorded as the file wrote it; in pieces the kept row was loaded by an earlier piece, so
    # it is "the database" and the rejected row is recorded as the database columns hold it
    # (another row_hash). Which lines conflict, and everything else, is the same.
    return {**dump, "ingest_conflicts": [row[:3] for row in dump["ingest_conflicts"]]}


def test_pieces_number_lines_as_the_whole_file(small_sample: Path) -> None:
    path, spec = small_sample / "traffic_table.csv", TABLE_SPECS["traffic"]
    whole = read_course_file(path, spec)
    pieces = list(read_course_chunks(path, spec, chunk_bytes=PIECE))

    assert len(pieces) > 10
    assert [n for p in pieces for n in p.line_no.tolist()] == whole.line_no.tolist()
    assert sum(len(p) for p in pieces) == len(whole)


def test_pieces_load_what_the_whole_file_loads(
    db: Database, small_sample: Path, tmp_path: Path, dump: Callable[..., Any]
) -> None:
    _dirty(small_sample)
    whole_db = connect(f"sqlite:///{tmp_path / 'whole.db'}")
    upgrade(whole_db)
    try:
        whole = ingest_directory(whole_db, small_sample)
        pieces = ingest_directory(db, small_sample, chunk_bytes=PIECE)
        assert _conflict_lines(dump(db)) == _conflict_lines(dump(whole_db))
    finally:
        whole_db.dispose()

    assert_balanced(pieces, small_sample)
    assert pieces.tables() == whole.tables()
    traffic = pieces.tables()["traffic"]
    assert traffic.quarantined == 2 and traffic.conflicting == 1


def test_pieces_rerun_changes_nothing(any_db: Database, small_sample: Path) -> None:
    _dirty(small_sample)
    first = ingest_directory(any_db, small_sample, chunk_bytes=PIECE)
    again = ingest_directory(any_db, small_sample, chunk_bytes=PIECE)

    assert_balanced(first, small_sample)
    assert_balanced(again, small_sample)
    assert first.tables()["traffic"].conflicting == 1
    for table, counts in again.tables().items():
        assert counts.inserted == 0, table


def test_a_piece_that_cannot_be_read_rolls_back_the_run(
    db: Database, small_sample: Path, scalar: Callable[..., Any]
) -> None:
    path = small_sample / "traffic_table.csv"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 200] + b"\xff\xfe" + data[len(data) - 200 :])

    with pytest.raises(IngestError, match="not UTF-8"):
        ingest_directory(db, small_sample, chunk_bytes=PIECE)

    assert scalar(db, "SELECT count(*) FROM traffic") == 0
    assert scalar(db, "SELECT count(*) FROM trucks") == 0
    assert scalar(db, "SELECT source_file FROM ingest_log") == "traffic_table.csv"
