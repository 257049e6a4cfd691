"""Vectors: rows in SQLite are the truth; one FAISS file per modality is a derived cache of them (ids =
vector row ids, which are never reused: the table is AUTOINCREMENT).

Every cache file carries a stamp of the rows it was built from (their count, largest id and a checksum of
their ids). A cache is used only while its stamp matches the rows; when rows were only added after it, the
new ones are appended; any other difference (rows removed, ids changed, a file from another store) rebuilds
it from the rows. The file is one piece (header, then the FAISS bytes), written to a unique temporary file
and renamed, so readers see a whole old file or a whole new one; a missing or unreadable file is rebuilt.

Index type by size: exact inner product (IndexFlatIP) up to FLAT_LIMIT vectors, where a full scan is
fast and recall is perfect; HNSW (M=32, efSearch=128) above it, where a scan of hundreds of thousands of
vectors would cost tens of milliseconds and HNSW answers in about one at >95% recall."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

import faiss
import numpy as np

from videoqa.errors import IncompatibleStoreError

log = logging.getLogger(__name__)

FLAT_LIMIT = 50_000
BACKGROUND_SAMPLE = 2_000
MAGIC = b"VIDEOQA-FAISS 1\n"
LEGACY_SUFFIXES = (".index", ".json")  # schema-2 caches: index and meta in two files, replaced separately

faiss.omp_set_num_threads(1)  # single queries are 2-4x faster without OpenMP's thread start-up


def check_embedder(conn: sqlite3.Connection, modality: str, model: str, dim: int | None, store: Path) -> None:
    """Refuse to mix vectors of different models in one store: their spaces are not comparable.
    `dim` None compares the model names only (the model need not be loaded for that)."""
    row = conn.execute("SELECT model, dim FROM embedders WHERE modality=?", (modality,)).fetchone()
    if row is None:
        return
    if row[0] != model or (dim is not None and row[1] != dim):
        raise IncompatibleStoreError(
            f"The store at {store} holds {modality} vectors from {row[0]} ({row[1]}-d), but {model}"
            f"{f' ({dim}-d)' if dim else ''} is configured. "
            f"Use the same model, or another --store for this one."
        )


def register_embedder(conn: sqlite3.Connection, modality: str, model: str, dim: int) -> None:
    conn.execute("INSERT OR IGNORE INTO embedders VALUES (?,?,?)", (modality, model, dim))


def to_blob(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def from_blobs(blobs: list[bytes], dim: int) -> np.ndarray:
    if not blobs:
        return np.zeros((0, dim), np.float32)
    return np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(blobs), dim)


@dataclass(frozen=True)
class Stamp:
    """What a cache was built from: the modality's vector rows (up to `max_id`)."""

    dim: int
    count: int
    max_id: int
    checksum: int


def rows_stamp(conn: sqlite3.Connection, modality: str, dim: int, up_to: int | None = None) -> Stamp:
    """The stamp of the modality's rows now (those with id <= `up_to` when given)."""
    # The checksum mixes each id through a multiplicative hash, so different id sets with the same count,
    # maximum and plain sum still differ.
    query = "SELECT count(*), coalesce(max(id), 0), coalesce(sum((id * 2654435761) % 4294967291), 0) FROM vectors WHERE modality=?"
    params: tuple = (modality,)
    if up_to is not None:
        query += " AND id<=?"
        params += (up_to,)
    count, max_id, checksum = conn.execute(query, params).fetchone()
    return Stamp(dim, count, max_id, checksum)


class VectorIndex:
    """The FAISS index of one modality across the whole store."""

    def __init__(self, root: Path, modality: str, conn: sqlite3.Connection) -> None:
        self.path = root / "faiss" / f"{modality}.faiss"
        self.modality = modality
        self.conn = conn
        self.index: faiss.Index | None = None
        self.stamp: Stamp | None = None  # of what self.index holds
        self.background: np.ndarray | None = None
        self._synced_at: tuple[int, int] | None = None
        self._lock = threading.Lock()

    def _write_stamp(self) -> tuple[int, int]:
        # data_version moves when another connection commits, total_changes when this one writes: together
        # they say for free whether anything changed, where stamping the vector rows costs a scan of their ids.
        return self.conn.execute("PRAGMA data_version").fetchone()[0], self.conn.total_changes

    def sync(self) -> None:
        """Bring the index up to date with the vector rows (load, add what is new or rebuild, save)."""
        with self._lock:
            stamp = self._write_stamp()
            if stamp == self._synced_at:
                return
            self._sync()
            self._synced_at = stamp

    def _sync(self) -> None:
        row = self.conn.execute("SELECT dim FROM embedders WHERE modality=?", (self.modality,)).fetchone()
        if row is None:
            self.index, self.stamp = None, None
            return
        want = rows_stamp(self.conn, self.modality, row[0])
        if self.index is not None and self.stamp == want:
            return
        if self.index is None or self.stamp is None or self.stamp.dim != want.dim:
            self.index, self.stamp = self._load(want.dim)
            if self.stamp == want:
                return
        if self.stamp is not None and self.stamp.count and not self._wants_hnsw(want.count) \
                and rows_stamp(self.conn, self.modality, want.dim, self.stamp.max_id) == self.stamp:
            self._add_after(self.stamp.max_id, want.max_id)  # only rows added since: append them
        else:
            self.index = self._empty(want.dim, want.count)
            self._add_after(0, want.max_id)
        self._saved(want)

    def _saved(self, stamp: Stamp) -> None:
        self.stamp = stamp
        self.background = None
        self._save()

    def _wants_hnsw(self, total: int) -> bool:
        return total > FLAT_LIMIT and self.index is not None and not _is_hnsw(self.index)

    @staticmethod
    def _empty(dim: int, total: int) -> faiss.Index:
        if total > FLAT_LIMIT:
            inner = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
            inner.hnsw.efConstruction = 80
            inner.hnsw.efSearch = 128
        else:
            inner = faiss.IndexFlatIP(dim)
        return faiss.IndexIDMap2(inner)

    def _add_after(self, max_id: int, up_to: int) -> None:
        """Add the rows with max_id < id <= up_to: rows a writer adds meanwhile (higher ids, never reused) wait
        for the next sync, so the index holds exactly what its stamp says."""
        faiss.omp_set_num_threads(os.cpu_count() or 1)  # building (HNSW above all) uses every core
        try:
            cursor = self.conn.execute(
                "SELECT id, vec FROM vectors WHERE modality=? AND id>? AND id<=? ORDER BY id", (self.modality, max_id, up_to)
            )
            while batch := cursor.fetchmany(20_000):
                ids = np.array([r[0] for r in batch], dtype=np.int64)
                self.index.add_with_ids(from_blobs([r[1] for r in batch], self.index.d), ids)
        finally:
            faiss.omp_set_num_threads(1)

    def read_file(self, dim: int) -> tuple[faiss.Index | None, Stamp | None, str]:
        """(index, stamp, problem) of the cache file; problem is "" when it is whole and of this dimension."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None, None, "missing"
        except OSError as exc:
            return None, None, f"unreadable ({exc.strerror})"
        try:
            if not data.startswith(MAGIC):
                raise ValueError("not a videoqa cache file")
            end = data.index(b"\n", len(MAGIC))
            stamp = Stamp(**json.loads(data[len(MAGIC):end]))
            index = faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8, offset=end + 1))
            if index.ntotal != stamp.count or index.d != stamp.dim:
                raise ValueError(f"holds {index.ntotal} vectors of {index.d} dimensions, its stamp says {stamp.count} of {stamp.dim}")
        except (ValueError, TypeError, RuntimeError) as exc:  # RuntimeError: FAISS on a truncated or garbled file
            return None, None, f"corrupt ({str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__})"
        if stamp.dim != dim:
            return None, None, f"of another dimension ({stamp.dim}, the rows have {dim})"
        return index, stamp, ""

    def _load(self, dim: int) -> tuple[faiss.Index | None, Stamp | None]:
        index, stamp, problem = self.read_file(dim)
        if problem and problem != "missing":
            log.warning("rebuilding the %s vector cache %s: it is %s", self.modality, self.path, problem)
        if index is not None and _is_hnsw(index):
            faiss.downcast_index(index.index).hnsw.efSearch = 128
        return index, stamp

    def _save(self) -> None:
        """Header and index in one file, through a temporary file of our own: concurrent savers never mix."""
        assert self.index is not None and self.stamp is not None
        header = MAGIC + json.dumps(asdict(self.stamp)).encode() + b"\n"
        temporary = self.path.parent / f".{self.modality}.{uuid.uuid4().hex}.tmp"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask decides, as for thumbnails
        except OSError as exc:  # a read-only store still answers, from the index in memory
            log.debug("cannot save %s: %s", self.path, exc)
            return
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(header)
                out.write(faiss.serialize_index(self.index).tobytes())
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path)
        except OSError as exc:
            log.debug("cannot save %s: %s", self.path, exc)
            temporary.unlink(missing_ok=True)
            return
        for suffix in LEGACY_SUFFIXES:
            self.path.with_suffix(suffix).unlink(missing_ok=True)

    def rebuild_if_damaged(self) -> str:
        """For `videoqa verify`: check the file on disk against the rows; rebuild it when it does not match.
        Returns what was wrong ("" when nothing)."""
        with self._lock:
            row = self.conn.execute("SELECT dim FROM embedders WHERE modality=?", (self.modality,)).fetchone()
            if row is None:
                return ""
            want = rows_stamp(self.conn, self.modality, row[0])
            _, stamp, problem = self.read_file(row[0])
            if not problem and stamp != want:
                problem = "stale (built from other rows)"
            if problem:
                self.index = self._empty(want.dim, want.count)
                self._add_after(0, want.max_id)
                self._saved(want)
                self._synced_at = self._write_stamp()
            return problem

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        if self.index is None or self.index.ntotal == 0:
            return np.zeros((len(queries), 0), np.float32), np.zeros((len(queries), 0), np.int64)
        scores, ids = self.index.search(np.ascontiguousarray(queries, dtype=np.float32), min(k, self.index.ntotal))
        return scores, ids

    def background_vectors(self) -> np.ndarray:
        """A fixed random sample of the modality's vectors, for calibrating scores per query."""
        if self.background is None:
            dim = self.conn.execute("SELECT dim FROM embedders WHERE modality=?", (self.modality,)).fetchone()
            rows = self.conn.execute(
                "SELECT vec FROM vectors WHERE modality=? ORDER BY (id * 2654435761) % 4294967291 LIMIT ?",
                (self.modality, BACKGROUND_SAMPLE),
            ).fetchall()
            self.background = from_blobs([r[0] for r in rows], dim[0] if dim else 0)
        return self.background


def _is_hnsw(index: faiss.Index) -> bool:
    inner = faiss.downcast_index(index.index) if isinstance(index, faiss.IndexIDMap2) else index
    return isinstance(inner, faiss.IndexHNSW)
