"""A content-addressed artifact store on any fsspec file system (a local folder by default).

Each artifact is stored once under ``<root>/<sha256[:2]>/<sha256>``; an ``ArtifactRef`` (uri,
sha256, kind, size) is the small JSON value that steps return in their outputs and that the
next step hands back to ``get_*``. Reads verify the hash, so a reference always means the bytes
it was made from.
"""

from __future__ import annotations

import hashlib
import io
import pickle
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import fsspec

from truckflow.pipeline.errors import PipelineError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ArtifactError", "ArtifactRef", "ArtifactStore", "is_artifact_ref"]


class ArtifactError(PipelineError):
    """An artifact could not be stored, found or verified."""


@dataclass(frozen=True)
class ArtifactRef:
    """Where an artifact lives and what it must hash to."""

    uri: str
    sha256: str
    kind: str = "bytes"
    size: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "artifact",
            "uri": self.uri,
            "sha256": self.sha256,
            "kind": self.kind,
            "size": self.size,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ArtifactRef:
        if not is_artifact_ref(data):
            raise ArtifactError(f"not an artifact reference: {data!r}")
        return cls(
            str(data["uri"]),
            str(data["sha256"]),
            str(data.get("kind", "bytes")),
            int(data.get("size", 0)),
        )


def is_artifact_ref(value: Any) -> bool:
    return isinstance(value, Mapping) and value.get("type") == "artifact" and "sha256" in value


class ArtifactStore:
    """``ArtifactStore("s3://bucket/tf")``, ``ArtifactStore(Path(...))`` or ``memory://...``."""

    def __init__(self, root: str | Path, **storage_options: Any) -> None:
        self.url = str(root) if not isinstance(root, Path) else str(root.expanduser().resolve())
        self._storage_options = storage_options
        self.fs, self.root = fsspec.core.url_to_fs(self.url, **storage_options)
        self.fs.makedirs(self.root, exist_ok=True)

    def __reduce__(self) -> tuple[Any, ...]:
        # Runners ship the store to workers by its URL; the file system is rebuilt there.
        return (type(self), (self.url,), None, None, None)

    def _path(self, sha256: str) -> str:
        return f"{self.root.rstrip('/')}/{sha256[:2]}/{sha256}"

    def _uri(self, sha256: str) -> str:
        return self.fs.unstrip_protocol(self._path(sha256))  # type: ignore[no-any-return]

    # Bytes: everything else is built on these two.
    def put_bytes(self, data: bytes, kind: str = "bytes") -> ArtifactRef:
        sha = hashlib.sha256(data).hexdigest()
        path = self._path(sha)
        if not self.fs.exists(path):
            self.fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
            tmp = f"{path}.tmp-{id(data)}"
            with self.fs.open(tmp, "wb") as fh:
                fh.write(data)
            self.fs.mv(tmp, path)  # readers never see a partial file under the final name
        return ArtifactRef(self._uri(sha), sha, kind, len(data))

    def get_bytes(self, ref: ArtifactRef | Mapping[str, Any]) -> bytes:
        r = ref if isinstance(ref, ArtifactRef) else ArtifactRef.from_json(ref)
        path = self._path(r.sha256)
        try:
            with self.fs.open(path, "rb") as fh:
                data: bytes = fh.read()
        except FileNotFoundError:
            raise ArtifactError(
                f"artifact {r.sha256[:12]} ({r.kind}) not found in {self.url}"
            ) from None
        if hashlib.sha256(data).hexdigest() != r.sha256:
            raise ArtifactError(f"artifact {r.sha256[:12]} in {self.url} does not match its hash")
        return data

    def exists(self, ref: ArtifactRef | Mapping[str, Any]) -> bool:
        r = ref if isinstance(ref, ArtifactRef) else ArtifactRef.from_json(ref)
        return bool(self.fs.exists(self._path(r.sha256)))

    # Files.
    def put_file(self, path: str | Path) -> ArtifactRef:
        return self.put_bytes(Path(path).read_bytes(), kind="file")

    def get_file(self, ref: ArtifactRef | Mapping[str, Any], dest: str | Path) -> Path:
        target = Path(dest)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(self.get_bytes(ref))
        return target

    # Frames, as parquet.
    def put_frame(self, frame: pd.DataFrame) -> ArtifactRef:
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=True)
        return self.put_bytes(buffer.getvalue(), kind="frame")

    def get_frame(self, ref: ArtifactRef | Mapping[str, Any]) -> pd.DataFrame:
        import pandas as pd

        return pd.read_parquet(io.BytesIO(self.get_bytes(ref)))

    # Python objects (models), pickled with joblib (numpy arrays stored efficiently).
    def put_object(self, obj: Any) -> ArtifactRef:
        import joblib

        buffer = io.BytesIO()
        joblib.dump(obj, buffer, protocol=pickle.HIGHEST_PROTOCOL)
        return self.put_bytes(buffer.getvalue(), kind="object")

    def get_object(self, ref: ArtifactRef | Mapping[str, Any]) -> Any:
        import joblib

        return joblib.load(io.BytesIO(self.get_bytes(ref)))

    def __repr__(self) -> str:
        return f"ArtifactStore({self.url!r})"
