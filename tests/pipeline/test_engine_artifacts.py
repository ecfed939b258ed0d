"""The content-addressed artifact store: a local folder and fsspec URLs."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from truckflow.pipeline import ArtifactError, ArtifactRef, ArtifactStore


@pytest.fixture(params=["folder", "file-url", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ArtifactStore:
    if request.param == "folder":
        return ArtifactStore(tmp_path / "artifacts")
    if request.param == "file-url":
        return ArtifactStore(f"file://{tmp_path / 'by-url'}")
    return ArtifactStore(f"memory://tf-tests/{tmp_path.name}")


def test_bytes_are_content_addressed(store: ArtifactStore) -> None:
    one = store.put_bytes(b"abc")
    assert one.sha256 == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert one.size == 3 and one.kind == "bytes"
    assert store.put_bytes(b"abc") == one  # stored once, same reference
    assert store.get_bytes(one) == b"abc"
    assert store.get_bytes(one.to_json()) == b"abc"
    assert store.exists(one)
    assert store.put_bytes(b"abd").sha256 != one.sha256


def test_reference_is_small_json(store: ArtifactStore) -> None:
    ref = store.put_bytes(b"x", kind="report")
    doc = json.loads(json.dumps(ref.to_json()))
    assert set(doc) == {"type", "uri", "sha256", "kind", "size"}
    assert ArtifactRef.from_json(doc) == ref
    assert doc["uri"].endswith(ref.sha256)


def test_frames_objects_and_files(store: ArtifactStore, tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    ref = store.put_frame(frame)
    assert ref.kind == "frame"
    pd.testing.assert_frame_equal(store.get_frame(ref), frame)

    model = {"weights": [0.5, 1.5], "name": "m"}
    assert store.get_object(store.put_object(model)) == model

    source = tmp_path / "in.txt"
    source.write_text("hello")
    file_ref = store.put_file(source)
    assert store.get_file(file_ref, tmp_path / "out" / "copy.txt").read_text() == "hello"


def test_missing_and_corrupted_artifacts_are_errors(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path)
    ref = store.put_bytes(b"payload")
    with pytest.raises(ArtifactError, match="not found"):
        store.get_bytes(ArtifactRef("file:///x", "0" * 64))
    (tmp_path / ref.sha256[:2] / ref.sha256).write_bytes(b"tampered")
    with pytest.raises(ArtifactError, match="does not match its hash"):
        store.get_bytes(ref)
    with pytest.raises(ArtifactError, match="not an artifact reference"):
        store.get_bytes({"uri": "x"})


def test_store_travels_by_url(tmp_path: Path) -> None:
    import pickle

    store = ArtifactStore(tmp_path)
    ref = store.put_bytes(b"z")
    copy = pickle.loads(pickle.dumps(store))
    assert copy.get_bytes(ref) == b"z"
