"""The on-disk store: one directory holding many videos. SQLite for metadata, JPEG thumbnails, and FAISS
files for vectors (a cache of the vector rows). Every multi-row write is one transaction, taken with
BEGIN IMMEDIATE so concurrent writers queue on SQLite's lock instead of failing on a lock upgrade.

Who writes a video's rows: the holder of its ingest lease (`Store.lease`, memory/lease.py). `start_video`
and `remove_video` require it; `commit` checks it is still ours when we hold it (a writer that only adds to
a finished video, such as a lazily made caption, commits without one)."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from videoqa.errors import IncompatibleStoreError, StoreError, VideoNotIndexedError
from videoqa.results import IndexedVideo, Scene

from . import lease as leases
from .migrations import MIGRATIONS, migrate, schema_version
from .readers import VideoInfo
from .scenes import Segment
from .vectors import VectorIndex, from_blobs, register_embedder, to_blob

DB_NAME = "index.sqlite"


@dataclass(frozen=True)
class VideoRow:
    id: str
    path: str
    size: int
    duration: float
    fps: float
    width: int
    height: int
    has_audio: bool
    status: str
    resume_time: float
    resume_frame: int
    resume_shot: int
    settings: dict
    detector_state: bytes | None = None  # the scene detector just before resume_frame (memory/scenes.py)


@dataclass(frozen=True)
class KeyframeRow:
    scene_idx: int
    time: float
    frame: int
    change: float
    thumbnail: str  # relative to the store


@dataclass(frozen=True)
class TextRow:
    start: float
    end: float
    source: str
    text: str
    meta: dict = field(default_factory=dict)


@dataclass
class NewKeyframe:
    row: KeyframeRow
    tags: list = field(default_factory=list)
    vectors: dict = field(default_factory=dict)  # modality -> vector


@dataclass
class NewFrame:
    time: float
    frame: int
    tags: list = field(default_factory=list)
    vectors: dict = field(default_factory=dict)


@dataclass
class NewText:
    row: TextRow
    vectors: dict = field(default_factory=dict)


@dataclass
class Checkpoint:
    """One atomic write of ingest progress."""

    segments: Sequence[Segment] = ()
    first_segment_idx: int = 0
    keyframes: list[NewKeyframe] = field(default_factory=list)
    frames: list[NewFrame] = field(default_factory=list)
    texts: list[NewText] = field(default_factory=list)
    extend_texts: list[tuple[int, float]] = field(default_factory=list)  # (text id, new end)
    embedders: dict[str, str] = field(default_factory=dict)  # modality -> model name, registered once it has vectors
    resume: tuple[float, int, int] | None = None  # time, frame, shot (with the last segment's detector state)
    duration: float | None = None  # the video's final duration: every text span of the video is clamped to it
    stage_done: str | tuple[str, ...] | None = None  # a unit committed whole may finish several stages
    files: dict[str, bytes] = field(default_factory=dict)  # thumbnails: path relative to the store -> JPEG bytes


OPEN_TIMEOUT = 30.0  # seconds a store waits for another process's lock


def switch_to_wal(conn: sqlite3.Connection) -> None:
    """Put the database in WAL mode. SQLite changes the journal mode without calling the busy handler, so
    two processes opening a new store at once can see "database is locked" here: wait and retry."""
    deadline = time.monotonic() + OPEN_TIMEOUT
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


class Store:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            if not os.access(self.root, os.W_OK):  # SQLite's WAL needs to write beside the database, even to read
                raise StoreError(f"The store at {self.root} is read-only: videoqa writes its index there. Make it "
                                 "writable, or pass --store DIR (or set VIDEOQA_STORE) to another directory.")
            self.conn = sqlite3.connect(self.root / DB_NAME, check_same_thread=False, timeout=OPEN_TIMEOUT)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"Cannot open the store at {self.root}: {exc}. Pass --store DIR or set VIDEOQA_STORE.") from exc
        self.conn.row_factory = sqlite3.Row
        self._indexes: dict[str, VectorIndex] = {}
        self._leases: dict[str, leases.Lease] = {}
        self._write_lock = threading.RLock()  # one connection, shared by the ingest's threads
        try:
            switch_to_wal(self.conn)
            # Search looks up a few hundred random rows of a large vectors table: memory-mapped reads are
            # ~4x faster there than read() into SQLite's small page cache.
            self.conn.execute("PRAGMA mmap_size=2147483648")
            self.conn.execute("PRAGMA foreign_keys=ON")
            version = schema_version(self.conn)
            if version > len(MIGRATIONS):
                raise IncompatibleStoreError(
                    f"The store at {self.root} was written by a newer videoqa (schema {version}). "
                    "Upgrade videoqa or use another --store."
                )
            migrate(self.conn)
        except sqlite3.Error as exc:  # not a database, read-only, locked for longer than the timeout
            self.conn.close()
            raise StoreError(f"Cannot open the store at {self.root}: {exc}. Check it is a videoqa store you can write to, "
                             "or pass another --store.") from exc

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        with self._write_lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    # -- leases -------------------------------------------------------------------------------
    def acquire_lease(self, video_id: str, shown: str) -> None:
        """Take the video's ingest lease; a StoreError names the live process that holds it. `shown` names
        the video in that message (e.g. its file name)."""
        with self._transaction():
            self._leases[video_id] = leases.acquire(self.conn, video_id, shown)

    def release_lease(self, video_id: str) -> None:
        """Let go of the video's lease, if this store holds it."""
        held = self._leases.pop(video_id, None)
        if held is not None:
            with self._transaction():
                leases.release(self.conn, held)

    @contextmanager
    def lease(self, video_id: str, shown: str) -> Iterator[None]:
        """Hold the video's ingest lease for the block."""
        self.acquire_lease(video_id, shown)
        try:
            yield
        finally:
            self.release_lease(video_id)

    def _require_lease(self, video_id: str) -> None:
        if video_id not in self._leases:
            raise StoreError(f"Internal: video {video_id} is written without its ingest lease (Store.lease).")
        leases.renew(self.conn, self._leases[video_id])

    # -- videos -------------------------------------------------------------------------------
    def video_row(self, video_id: str) -> VideoRow | None:
        row = self.conn.execute("SELECT * FROM videos WHERE id=?", (video_id,)).fetchone()
        return _video_row(row) if row else None

    def videos(self) -> list[VideoRow]:
        return [_video_row(r) for r in self.conn.execute("SELECT * FROM videos ORDER BY created")]

    def resolve(self, ref: str) -> VideoRow:
        """Find a video by id, id prefix, path or file name."""
        ref = str(ref)
        rows = self.videos()
        for match in (
            lambda r: r.id == ref,
            lambda r: Path(r.path) == Path(ref).expanduser().resolve() if ref else False,
            lambda r: len(ref) >= 6 and r.id.startswith(ref),
            lambda r: Path(r.path).name == ref,
        ):
            found = [r for r in rows if match(r)]
            if len(found) == 1:
                return found[0]
        raise VideoNotIndexedError(f"No indexed video matches {ref!r}. Index it first: videoqa index PATH (videoqa list shows what is indexed).")

    def start_video(self, video_id: str, path: Path, size: int, info: VideoInfo, settings: dict) -> VideoRow:
        """Create the row for a new ingest, or restart one whose settings changed. Needs the video's lease."""
        now = time.time()
        with self._transaction():
            self._require_lease(video_id)
            self._delete_rows(video_id)
            self.conn.execute("DELETE FROM videos WHERE id=?", (video_id,))
            self.conn.execute(
                "INSERT INTO videos (id, path, size, duration, fps, width, height, has_audio, status, resume_time, resume_frame,"
                " resume_shot, settings, created, updated) VALUES (?,?,?,?,?,?,?,?,'indexing',0,0,0,?,?,?)",
                (video_id, str(path), size, info.duration, info.fps, info.width, info.height,
                 int(info.has_audio), json.dumps(settings, sort_keys=True), now, now),
            )
        shutil.rmtree(self.thumbnail_dir(video_id), ignore_errors=True)
        return self.video_row(video_id)  # type: ignore[return-value]

    def update_path(self, video_id: str, path: Path) -> None:
        with self._transaction():
            self.conn.execute("UPDATE videos SET path=?, updated=? WHERE id=?", (str(path), time.time(), video_id))

    def commit(self, video_id: str, checkpoint: "Checkpoint") -> list[int]:
        """Everything in `checkpoint`, in one transaction: a crash leaves the previous checkpoint.
        Text spans are clamped to the video. Returns the row ids of the texts it added, in order."""
        self.write_files(checkpoint.files)
        with self._transaction():
            if video_id in self._leases:
                leases.renew(self.conn, self._leases[video_id])
            return self._commit(video_id, checkpoint)

    def restart_source(self, video_id: str, source: str, stage: str, settings: dict) -> None:
        """Forget every text row of one source and the stage that makes them (e.g. the subtitles, when their
        files changed) and record the `settings` that will make them again, in one transaction; the video is
        'indexing' until that stage is committed again. Needs the video's lease."""
        with self._transaction():
            self._require_lease(video_id)
            self.conn.execute(
                "DELETE FROM vectors WHERE video_id=? AND kind='text' AND ref IN (SELECT id FROM texts WHERE video_id=? AND source=?)",
                (video_id, video_id, source),
            )
            self.conn.execute("DELETE FROM texts WHERE video_id=? AND source=?", (video_id, source))
            stages = self.stages(video_id) - {stage}
            self.conn.execute("UPDATE videos SET settings=?, stages=?, status='indexing', updated=? WHERE id=?",
                              (json.dumps(settings, sort_keys=True), json.dumps(sorted(stages)), time.time(), video_id))

    def write_files(self, files: dict[str, bytes]) -> None:
        """Files (thumbnails) by path relative to the store, each whole or not at all (temporary file, then
        rename), before the rows that name them are committed."""
        for relative, data in files.items():
            target = self.absolute(relative)
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            temporary.write_bytes(data)
            os.replace(temporary, target)

    def _commit(self, video_id: str, c: "Checkpoint") -> list[int]:
        if c.duration is not None:
            self.conn.execute("UPDATE videos SET duration=? WHERE id=?", (c.duration, video_id))
            self._clamp_texts(video_id, c.duration)
        duration = self.conn.execute("SELECT duration FROM videos WHERE id=?", (video_id,)).fetchone()[0]
        self.conn.executemany(
            "INSERT INTO scenes (video_id, idx, shot, start, end, start_frame, end_frame) VALUES (?,?,?,?,?,?,?)",
            [(video_id, c.first_segment_idx + i, s.shot, s.start, s.end, s.start_frame, s.end_frame) for i, s in enumerate(c.segments)],
        )
        for k in c.keyframes:
            cur = self.conn.execute(
                "INSERT INTO keyframes (video_id, scene_idx, time, frame, change, thumbnail, tags) VALUES (?,?,?,?,?,?,?)",
                (video_id, k.row.scene_idx, k.row.time, k.row.frame, k.row.change, k.row.thumbnail, json.dumps(k.tags)),
            )
            self._add_vectors(video_id, "keyframe", int(cur.lastrowid), k.row.time, k.row.time, k.vectors)
        for f in c.frames:
            cur = self.conn.execute(
                "INSERT INTO frames (video_id, time, frame, tags) VALUES (?,?,?,?)", (video_id, f.time, f.frame, json.dumps(f.tags))
            )
            self._add_vectors(video_id, "frame", int(cur.lastrowid), f.time, f.time, f.vectors)
        text_ids = []
        for t in c.texts:
            start, end = _clamp(t.row.start, t.row.end, duration)
            cur = self.conn.execute(
                "INSERT INTO texts (video_id, start, end, source, text, meta) VALUES (?,?,?,?,?,?)",
                (video_id, start, end, t.row.source, t.row.text, json.dumps(t.row.meta)),
            )
            text_ids.append(int(cur.lastrowid))
            self._add_vectors(video_id, "text", text_ids[-1], start, end, t.vectors)
        for text_id, end in c.extend_texts:
            end = _clamp(0.0, end, duration)[1]
            self.conn.execute("UPDATE texts SET end=max(start, ?) WHERE id=?", (end, text_id))
            self.conn.execute("UPDATE vectors SET end=max(start, ?) WHERE kind='text' AND ref=?", (end, text_id))
        dims = {modality: len(v) for item in (*c.keyframes, *c.frames, *c.texts) for modality, v in item.vectors.items()}
        for modality, dim in dims.items():
            register_embedder(self.conn, modality, c.embedders[modality], dim)
        if c.resume is not None:
            resume_time, resume_frame, resume_shot = c.resume
            state = c.segments[-1].detector_state if c.segments and c.segments[-1].end_frame == resume_frame else None
            self.conn.execute(
                "UPDATE videos SET resume_time=?, resume_frame=?, resume_shot=?, detector_state=?, updated=? WHERE id=?",
                (resume_time, resume_frame, resume_shot, state, time.time(), video_id),
            )
        if c.stage_done is not None:
            done = {c.stage_done} if isinstance(c.stage_done, str) else set(c.stage_done)
            self.conn.execute("UPDATE videos SET stages=? WHERE id=?", (json.dumps(sorted(self.stages(video_id) | done)), video_id))
        return text_ids

    def _clamp_texts(self, video_id: str, duration: float) -> None:
        """Clamp the spans already written (e.g. subtitles, before the true duration was known)."""
        for table, where in (("texts", ""), ("vectors", " AND kind='text'")):
            self.conn.execute(
                f"UPDATE {table} SET start=min(max(start, 0), :d), end=min(max(end, min(max(start, 0), :d)), :d)"
                f" WHERE video_id=:v{where} AND (start < 0 OR end > :d OR end < start)",
                {"d": duration, "v": video_id},
            )

    def _add_vectors(self, video_id: str, kind: str, ref: int, start: float, end: float, vectors: dict) -> None:
        self.conn.executemany(
            "INSERT INTO vectors (modality, video_id, kind, ref, start, end, vec) VALUES (?,?,?,?,?,?,?)",
            [(modality, video_id, kind, ref, start, end, to_blob(v)) for modality, v in vectors.items()],
        )

    def stages(self, video_id: str) -> set[str]:
        row = self.conn.execute("SELECT stages FROM videos WHERE id=?", (video_id,)).fetchone()
        return set(json.loads(row[0])) if row else set()

    def finish_video(self, video_id: str) -> None:
        with self._transaction():
            self.conn.execute("UPDATE videos SET status='ready', updated=? WHERE id=?", (time.time(), video_id))

    def remove_video(self, video_id: str) -> None:
        """Every row and thumbnail of the video. Needs its lease. The vector caches notice on their next sync."""
        with self._transaction():
            self._require_lease(video_id)
            self._delete_rows(video_id)
            self.conn.execute("DELETE FROM videos WHERE id=?", (video_id,))
        shutil.rmtree(self.thumbnail_dir(video_id), ignore_errors=True)

    def delete_orphan_vectors(self) -> int:
        """Delete vector rows whose text, frame or keyframe row is gone (they would be hits without content)."""
        removed = 0
        with self._transaction():
            for kind, table in (("text", "texts"), ("frame", "frames"), ("keyframe", "keyframes")):
                removed += self.conn.execute(
                    f"DELETE FROM vectors WHERE kind=? AND NOT EXISTS (SELECT 1 FROM {table} t WHERE t.id = vectors.ref)", (kind,)
                ).rowcount
        return removed

    def _delete_rows(self, video_id: str) -> None:
        for table in ("scenes", "keyframes", "frames", "texts", "vectors"):
            self.conn.execute(f"DELETE FROM {table} WHERE video_id=?", (video_id,))

    # -- reading ------------------------------------------------------------------------------
    def scenes(self, video_id: str) -> list[Scene]:
        return [
            Scene(r["start"], r["end"], r["start_frame"], r["end_frame"], r["shot"])
            for r in self.conn.execute("SELECT * FROM scenes WHERE video_id=? ORDER BY idx", (video_id,))
        ]

    def segment_count(self, video_id: str) -> int:
        return self.count("scenes", video_id)

    def keyframes(self, video_id: str, start: float = 0.0, end: float = float("inf")) -> list[KeyframeRow]:
        return [
            KeyframeRow(r["scene_idx"], r["time"], r["frame"], r["change"], r["thumbnail"])
            for r in self.conn.execute(
                "SELECT * FROM keyframes WHERE video_id=? AND time>=? AND time<? ORDER BY time", (video_id, start, end)
            )
        ]

    def frames(self, video_id: str) -> list[tuple[float, int]]:
        return [(r[0], r[1]) for r in self.conn.execute("SELECT time, frame FROM frames WHERE video_id=? ORDER BY time", (video_id,))]

    def count(self, table: str, video_id: str) -> int:
        return self.conn.execute(f"SELECT count(*) FROM {table} WHERE video_id=?", (video_id,)).fetchone()[0]

    def indexed_video(self, video_id: str) -> IndexedVideo:
        row = self.video_row(video_id)
        if row is None:
            raise VideoNotIndexedError(f"Video {video_id} is not in the store at {self.root}.")
        return IndexedVideo(
            id=row.id, path=row.path, duration=row.duration, fps=row.fps, width=row.width, height=row.height,
            scenes=self.scenes(video_id), keyframes=self.count("keyframes", video_id), frames=self.count("frames", video_id),
        )

    # -- texts --------------------------------------------------------------------------------
    def texts_ending(self, video_id: str, after: float, before: float, sources: Sequence[str]) -> list[tuple[int, TextRow]]:
        """(id, row) of the texts of `sources` that end between `after` and `before` and start before `before`."""
        query = (f"SELECT * FROM texts WHERE video_id=? AND end>=? AND end<=? AND start<? AND source IN ({','.join('?' * len(sources))}) "
                 "ORDER BY id")
        return [(int(r["id"]), _text_row(r)) for r in self.conn.execute(query, [video_id, after, before, before, *sources])]

    def texts(self, video_id: str, start: float = 0.0, end: float = float("inf"), sources: Sequence[str] | None = None) -> list[TextRow]:
        query = "SELECT * FROM texts WHERE video_id=? AND end>=? AND start<=?"
        params: list[object] = [video_id, start, end]
        if sources:
            query += f" AND source IN ({','.join('?' * len(sources))})"
            params += list(sources)
        return [_text_row(r) for r in self.conn.execute(query + " ORDER BY start", params)]

    # -- vectors ------------------------------------------------------------------------------
    def vector_index(self, modality: str) -> VectorIndex:
        if modality not in self._indexes:
            self._indexes[modality] = VectorIndex(self.root, modality, self.conn)
        return self._indexes[modality]

    def video_vectors(self, modality: str, video_id: str) -> tuple[list[tuple], np.ndarray]:
        """(rows of (id, kind, ref, start, end), matrix) of one video's vectors of a modality."""
        rows = self.conn.execute(
            "SELECT id, kind, ref, start, end, vec FROM vectors WHERE modality=? AND video_id=? ORDER BY id", (modality, video_id)
        ).fetchall()
        dim = self.embedder_dim(modality)
        return [tuple(r[:5]) for r in rows], from_blobs([r[5] for r in rows], dim or 0)

    def vector_rows(self, ids: Sequence[int]) -> dict[int, tuple]:
        """id -> (video_id, kind, ref, start, end)"""
        found: dict[int, tuple] = {}
        ids = list(ids)
        for i in range(0, len(ids), 900):
            part = ids[i : i + 900]
            for r in self.conn.execute(
                f"SELECT id, video_id, kind, ref, start, end FROM vectors WHERE id IN ({','.join('?' * len(part))})", part
            ):
                found[r[0]] = tuple(r[1:])
        return found

    def embedder_dim(self, modality: str) -> int | None:
        row = self.conn.execute("SELECT dim FROM embedders WHERE modality=?", (modality,)).fetchone()
        return row[0] if row else None

    def embedder(self, modality: str) -> tuple[str, int] | None:
        row = self.conn.execute("SELECT model, dim FROM embedders WHERE modality=?", (modality,)).fetchone()
        return (row[0], row[1]) if row else None

    def text_rows(self, ids: Sequence[int]) -> dict[int, TextRow]:
        found: dict[int, TextRow] = {}
        ids = list(ids)
        for i in range(0, len(ids), 900):
            part = ids[i : i + 900]
            for r in self.conn.execute(f"SELECT * FROM texts WHERE id IN ({','.join('?' * len(part))})", part):
                found[r["id"]] = _text_row(r)
        return found

    def frame_tags(self, video_id: str, start: float = 0.0, end: float = float("inf")) -> list[tuple[float, list[str]]]:
        """(time, visual tags) of the sampled frames in [start, end), in time order."""
        rows = self.conn.execute("SELECT time, tags FROM frames WHERE video_id=? AND time>=? AND time<? ORDER BY time", (video_id, start, end))
        return [(r[0], json.loads(r[1])) for r in rows]

    def nearest_frame_tags(self, video_id: str, at: float) -> tuple[float, list[str]] | None:
        row = self.conn.execute("SELECT time, tags FROM frames WHERE video_id=? ORDER BY abs(time - ?) LIMIT 1", (video_id, at)).fetchone()
        return (row[0], json.loads(row[1])) if row else None

    def keyframe_tags(self, video_id: str, frame: int) -> list[str]:
        row = self.conn.execute("SELECT tags FROM keyframes WHERE video_id=? AND frame=?", (video_id, frame)).fetchone()
        return json.loads(row[0]) if row else []

    def nearest_keyframe(self, video_id: str, at: float) -> KeyframeRow | None:
        row = self.conn.execute(
            "SELECT * FROM keyframes WHERE video_id=? ORDER BY abs(time - ?) LIMIT 1", (video_id, at)
        ).fetchone()
        return KeyframeRow(row["scene_idx"], row["time"], row["frame"], row["change"], row["thumbnail"]) if row else None

    # -- files --------------------------------------------------------------------------------
    def thumbnail_dir(self, video_id: str) -> Path:
        return self.root / thumbnail_folder(video_id)

    def absolute(self, relative: str) -> Path:
        return self.root / relative


def thumbnail_folder(video_id: str) -> str:
    """Where a video's thumbnails live, relative to the store (workers name files before the store sees them)."""
    return f"thumbs/{video_id}"


def _video_row(row: sqlite3.Row) -> VideoRow:
    return VideoRow(
        id=row["id"], path=row["path"], size=row["size"], duration=row["duration"], fps=row["fps"],
        width=row["width"], height=row["height"], has_audio=bool(row["has_audio"]), status=row["status"],
        resume_time=row["resume_time"], resume_frame=row["resume_frame"], resume_shot=row["resume_shot"], settings=json.loads(row["settings"]),
        detector_state=row["detector_state"],
    )


def _text_row(r: sqlite3.Row) -> TextRow:
    return TextRow(r["start"], r["end"], r["source"], r["text"], json.loads(r["meta"]))


def _clamp(start: float, end: float, duration: float) -> tuple[float, float]:
    """A span inside [0, duration] (when the duration is known), never ending before it starts."""
    start = max(start, 0.0)
    if duration > 0:
        start = min(start, duration)
        end = min(end, duration)
    return start, max(end, start)
