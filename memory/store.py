"""The on-disk store: one directory holding many videos. SQLite for metadata, JPEG thumbnails, and
(from step 2) FAISS files for vectors. Every multi-row write is one transaction."""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from videoqa.errors import IncompatibleStoreError, StoreError, VideoNotIndexedError
from videoqa.results import IndexedVideo, Scene

from .migrations import MIGRATIONS, migrate
from .readers import VideoInfo
from .scenes import Segment

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
    meta: dict


class Store:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(self.root / DB_NAME, check_same_thread=False, timeout=30)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"Cannot open the store at {self.root}: {exc}. Pass --store DIR or set VIDEOQA_STORE.") from exc
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA foreign_keys=ON")
        if self._has_table("schema_migrations"):
            version = self.conn.execute("SELECT max(version) FROM schema_migrations").fetchone()[0] or 0
            if version > len(MIGRATIONS):
                raise IncompatibleStoreError(
                    f"The store at {self.root} was written by a newer videoqa (schema {version}). "
                    "Upgrade videoqa or use another --store."
                )
        migrate(self.conn)

    def _has_table(self, name: str) -> bool:
        return self.conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)).fetchone() is not None

    def close(self) -> None:
        self.conn.close()

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
        """Create the row for a new ingest, or restart one whose settings changed."""
        now = time.time()
        with self.conn:
            self._delete_rows(video_id)
            self.conn.execute("DELETE FROM videos WHERE id=?", (video_id,))
            self.conn.execute(
                "INSERT INTO videos VALUES (?,?,?,?,?,?,?,?,'indexing',0,0,0,?,?,?)",
                (video_id, str(path), size, info.duration, info.fps, info.width, info.height,
                 int(info.has_audio), json.dumps(settings, sort_keys=True), now, now),
            )
        shutil.rmtree(self.thumbnail_dir(video_id), ignore_errors=True)
        return self.video_row(video_id)  # type: ignore[return-value]

    def update_path(self, video_id: str, path: Path) -> None:
        with self.conn:
            self.conn.execute("UPDATE videos SET path=?, updated=? WHERE id=?", (str(path), time.time(), video_id))

    def commit_progress(
        self,
        video_id: str,
        segments: Sequence[Segment],
        first_segment_idx: int,
        keyframes: Iterable[KeyframeRow],
        frames: Iterable[tuple[float, int]],
        resume_time: float,
        resume_frame: int,
        resume_shot: int,
        texts: Iterable[TextRow] = (),
        duration: float | None = None,
    ) -> None:
        """Everything before `resume_time`, in one transaction: a crash leaves the previous checkpoint."""
        with self.conn:
            self.conn.executemany(
                "INSERT INTO scenes (video_id, idx, shot, start, end, start_frame, end_frame) VALUES (?,?,?,?,?,?,?)",
                [(video_id, first_segment_idx + i, s.shot, s.start, s.end, s.start_frame, s.end_frame) for i, s in enumerate(segments)],
            )
            self.conn.executemany(
                "INSERT INTO keyframes (video_id, scene_idx, time, frame, change, thumbnail) VALUES (?,?,?,?,?,?)",
                [(video_id, k.scene_idx, k.time, k.frame, k.change, k.thumbnail) for k in keyframes],
            )
            self.conn.executemany("INSERT INTO frames (video_id, time, frame) VALUES (?,?,?)", [(video_id, t, f) for t, f in frames])
            self.add_texts(video_id, texts, commit=False)
            self.conn.execute(
                "UPDATE videos SET resume_time=?, resume_frame=?, resume_shot=?, updated=?, duration=coalesce(?, duration)"
                " WHERE id=?",
                (resume_time, resume_frame, resume_shot, time.time(), duration, video_id),
            )

    def finish_video(self, video_id: str) -> None:
        with self.conn:
            self.conn.execute("UPDATE videos SET status='ready', updated=? WHERE id=?", (time.time(), video_id))

    def remove_video(self, video_id: str) -> None:
        with self.conn:
            self._delete_rows(video_id)
            self.conn.execute("DELETE FROM videos WHERE id=?", (video_id,))
        shutil.rmtree(self.thumbnail_dir(video_id), ignore_errors=True)

    def _delete_rows(self, video_id: str) -> None:
        for table in ("scenes", "keyframes", "frames", "texts"):
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
    def add_texts(self, video_id: str, texts: Iterable[TextRow], commit: bool = True) -> list[int]:
        ids: list[int] = []
        def insert() -> None:
            for t in texts:
                cur = self.conn.execute(
                    "INSERT INTO texts (video_id, start, end, source, text, meta) VALUES (?,?,?,?,?,?)",
                    (video_id, t.start, t.end, t.source, t.text, json.dumps(t.meta)),
                )
                ids.append(int(cur.lastrowid))
        if commit:
            with self.conn:
                insert()
        else:
            insert()
        return ids

    def texts(self, video_id: str, start: float = 0.0, end: float = float("inf"), sources: Sequence[str] | None = None) -> list[TextRow]:
        query = "SELECT * FROM texts WHERE video_id=? AND end>=? AND start<=?"
        params: list[object] = [video_id, start, end]
        if sources:
            query += f" AND source IN ({','.join('?' * len(sources))})"
            params += list(sources)
        return [
            TextRow(r["start"], r["end"], r["source"], r["text"], json.loads(r["meta"]))
            for r in self.conn.execute(query + " ORDER BY start", params)
        ]

    # -- files --------------------------------------------------------------------------------
    def thumbnail_dir(self, video_id: str) -> Path:
        return self.root / "thumbs" / video_id

    def absolute(self, relative: str) -> Path:
        return self.root / relative


def _video_row(row: sqlite3.Row) -> VideoRow:
    return VideoRow(
        id=row["id"], path=row["path"], size=row["size"], duration=row["duration"], fps=row["fps"],
        width=row["width"], height=row["height"], has_audio=bool(row["has_audio"]), status=row["status"],
        resume_time=row["resume_time"], resume_frame=row["resume_frame"], resume_shot=row["resume_shot"], settings=json.loads(row["settings"]),
    )
