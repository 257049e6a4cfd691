"""Vectors: rows in SQLite are the truth; one FAISS file per modality is a derived, incrementally updated
cache of them (ids = vector row ids), written atomically (temporary file, then rename).

Index type by size: exact inner product (IndexFlatIP) up to FLAT_LIMIT vectors, where a full scan is
fast and recall is perfect; HNSW (M=32, efSearch=128) above it, where a scan of hundreds of thousands of
vectors would cost tens of milliseconds and HNSW answers in about one at >95% recall."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from pathlib import Path

import faiss
import numpy as np

from videoqa.errors import IncompatibleStoreError

FLAT_LIMIT = 50_000
BACKGROUND_SAMPLE = 2_000

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


class VectorIndex:
    """The FAISS index of one modality across the whole store."""

    def __init__(self, root: Path, modality: str, conn: sqlite3.Connection) -> None:
        self.path = root / "faiss" / f"{modality}.index"
        self.meta_path = self.path.with_suffix(".json")
        self.modality = modality
        self.conn = conn
        self.index: faiss.Index | None = None
        self.max_id = 0
        self.dim = 0
        self.background: np.ndarray | None = None
        self._synced_at: tuple[int, int] | None = None
        self._lock = threading.Lock()

    def _write_stamp(self) -> tuple[int, int]:
        # data_version moves when another connection commits, total_changes when this one writes: together
        # they say for free whether anything changed, where counting the vector rows costs ~10 ms per query.
        return self.conn.execute("PRAGMA data_version").fetchone()[0], self.conn.total_changes

    def sync(self) -> None:
        """Bring the index up to date with the vector rows (load, add what is new, save)."""
        with self._lock:
            stamp = self._write_stamp()
            if stamp == self._synced_at:
                return
            self._sync()
            self._synced_at = stamp

    def _sync(self) -> None:
        row = self.conn.execute("SELECT dim FROM embedders WHERE modality=?", (self.modality,)).fetchone()
        if row is None:
            self.index = None
            return
        self.dim = row[0]
        total = self.conn.execute("SELECT count(*) FROM vectors WHERE modality=?", (self.modality,)).fetchone()[0]
        if self.index is None:
            self._load()
        new_rows = self._count_after(self.max_id)
        if self.index is None or self.index.ntotal + new_rows != total or self._wants_hnsw(total):
            # first build, rows were removed, or the store outgrew exact search: rebuild from the rows
            self.index, self.max_id, new_rows = self._empty(total), 0, total
        if new_rows:
            self._add_after(self.max_id)
            self._save()
            self.background = None

    def _count_after(self, max_id: int) -> int:
        return self.conn.execute("SELECT count(*) FROM vectors WHERE modality=? AND id>?", (self.modality, max_id)).fetchone()[0]

    def _wants_hnsw(self, total: int) -> bool:
        return total > FLAT_LIMIT and self.index is not None and not _is_hnsw(self.index)

    def _empty(self, total: int) -> faiss.Index:
        if total > FLAT_LIMIT:
            inner = faiss.IndexHNSWFlat(self.dim, 32, faiss.METRIC_INNER_PRODUCT)
            inner.hnsw.efConstruction = 80
            inner.hnsw.efSearch = 128
        else:
            inner = faiss.IndexFlatIP(self.dim)
        return faiss.IndexIDMap2(inner)

    def _add_after(self, max_id: int) -> None:
        faiss.omp_set_num_threads(os.cpu_count() or 1)  # building (HNSW above all) uses every core
        try:
            self._add_rows_after(max_id)
        finally:
            faiss.omp_set_num_threads(1)

    def _add_rows_after(self, max_id: int) -> None:
        cursor = self.conn.execute("SELECT id, vec FROM vectors WHERE modality=? AND id>? ORDER BY id", (self.modality, max_id))
        while batch := cursor.fetchmany(20_000):
            ids = np.array([r[0] for r in batch], dtype=np.int64)
            self.index.add_with_ids(from_blobs([r[1] for r in batch], self.dim), ids)
            self.max_id = int(ids[-1])

    def _load(self) -> None:
        if not (self.path.exists() and self.meta_path.exists()):
            return
        meta = json.loads(self.meta_path.read_text())
        if meta.get("dim") != self.dim:
            return
        self.index = faiss.read_index(str(self.path))
        self.max_id = int(meta["max_id"])
        if _is_hnsw(self.index):
            faiss.downcast_index(self.index.index).hnsw.efSearch = 128

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".index.tmp")
        faiss.write_index(self.index, str(temporary))
        os.replace(temporary, self.path)
        meta_tmp = self.meta_path.with_suffix(".json.tmp")
        meta_tmp.write_text(json.dumps({"max_id": self.max_id, "dim": self.dim, "ntotal": int(self.index.ntotal)}))
        os.replace(meta_tmp, self.meta_path)

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

    def remove_files(self) -> None:
        for path in (self.path, self.meta_path):
            path.unlink(missing_ok=True)
        self.index, self.max_id, self.background, self._synced_at = None, 0, None, None


def _is_hnsw(index: faiss.Index) -> bool:
    inner = faiss.downcast_index(index.index) if isinstance(index, faiss.IndexIDMap2) else index
    return isinstance(inner, faiss.IndexHNSW)
