"""The Stack v2 in small: metadata shards in both layouts, and their blobs in an S3 bucket.

A file here is a :class:`StackFile`: its metadata as The Stack v2 publishes it
(``blob_id``, ``path``, ``language``, ``src_encoding``, ``length_bytes``,
licences, ``is_vendor``, ``is_generated``, line statistics) and the bytes its
blob holds. Blob ids are Software Heritage's: the SHA-1 of ``blob <size>\\0``
and the bytes (git's object id), so equal contents share one blob.
:func:`write_repository_shard` writes the ``-train-smol-ids`` layout (one row
per repository, a nested ``files`` list), :func:`write_file_shard` the
per-file layout; :func:`upload_blobs` puts each blob gzip'd under a prefix,
as Software Heritage's bucket holds them.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "StackFile",
    "blob_id_of",
    "upload_blobs",
    "write_file_shard",
    "write_repository_shard",
]


def blob_id_of(data: bytes) -> str:
    """Software Heritage's (and git's) id of a blob: SHA-1 of ``blob <size>\\0`` + bytes."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class StackFile:
    """One file of a repository: its metadata, and ``data``, the bytes of its blob.

    ``blob_id`` defaults to the id of ``data``; ``length_bytes`` to its size.
    """

    path: str
    data: bytes
    repo_name: str = "example/repo"
    language: str = "Python"
    src_encoding: str = "UTF-8"
    license_type: str = "permissive"
    is_vendor: bool = False
    is_generated: bool = False
    blob_id: str = ""
    length_bytes: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.blob_id = self.blob_id or blob_id_of(self.data)
        if self.length_bytes is None:
            self.length_bytes = len(self.data)

    def metadata(self) -> dict[str, Any]:
        """The file's own columns, as in a repository row's ``files`` list."""
        lines = self.data.count(b"\n") + 1
        return {
            "blob_id": self.blob_id,
            "path": self.path,
            "content_id": hashlib.sha1(self.data).hexdigest(),
            "language": self.language,
            "length_bytes": self.length_bytes,
            "detected_licenses": ["MIT"] if self.license_type == "permissive" else [],
            "license_type": self.license_type,
            "src_encoding": self.src_encoding,
            "is_vendor": self.is_vendor,
            "is_generated": self.is_generated,
            "num_lines": lines,
            "avg_line_length": len(self.data) / lines,
            **self.extra,
        }


def _repository_columns(name: str) -> dict[str, Any]:
    return {
        "repo_name": name,
        "revision_id": hashlib.sha1(name.encode()).hexdigest(),
        "branch_name": "refs/heads/main",
        "star_events_count": len(name),
        "fork_events_count": 1,
        "gha_language": "Python",
    }


def write_repository_shard(path: Path, files: Iterable[StackFile]) -> None:
    """A shard in the repository layout: one row per ``repo_name``, files nested."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows: dict[str, dict[str, Any]] = {}
    for item in files:
        row = rows.setdefault(item.repo_name, {**_repository_columns(item.repo_name), "files": []})
        row["files"].append(item.metadata())
    for row in rows.values():
        row["num_files"] = len(row["files"])
    pq.write_table(pa.Table.from_pylist(list(rows.values())), path)


def write_file_shard(path: Path, files: Iterable[StackFile]) -> None:
    """A shard in the per-file layout: one row per file, its repository's columns beside."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [{**_repository_columns(item.repo_name), **item.metadata()} for item in files]
    pq.write_table(pa.Table.from_pylist(rows), path)


def upload_blobs(
    client: Any, bucket: str, prefix: str, blobs: dict[str, bytes], compress: bool = True
) -> None:
    """Put each ``blob_id -> bytes`` under ``prefix``, gzip'd unless ``compress`` is False."""
    for blob_id, data in blobs.items():
        body = gzip.compress(data, mtime=0) if compress else data
        client.put_object(Bucket=bucket, Key=prefix + blob_id, Body=body)
