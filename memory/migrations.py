"""Numbered SQLite migrations, recorded in the database so a store knows what schema it has."""

from __future__ import annotations

import sqlite3
import time

MIGRATIONS: list[str] = [
    # 1: the hierarchical index
    """
    CREATE TABLE videos (
        id TEXT PRIMARY KEY,
        path TEXT NOT NULL,
        size INTEGER NOT NULL,
        duration REAL NOT NULL,
        fps REAL NOT NULL,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        has_audio INTEGER NOT NULL,
        status TEXT NOT NULL,            -- 'indexing' (resumable) or 'ready'
        resume_time REAL NOT NULL DEFAULT 0,   -- everything before this time is committed
        resume_frame INTEGER NOT NULL DEFAULT 0,
        resume_shot INTEGER NOT NULL DEFAULT 0,  -- shot number of the segment that starts at resume_time
        settings TEXT NOT NULL,
        created REAL NOT NULL,
        updated REAL NOT NULL
    );
    CREATE TABLE scenes (
        id INTEGER PRIMARY KEY,
        video_id TEXT NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        shot INTEGER NOT NULL,
        start REAL NOT NULL, end REAL NOT NULL,
        start_frame INTEGER NOT NULL, end_frame INTEGER NOT NULL,
        UNIQUE (video_id, idx)
    );
    CREATE TABLE keyframes (
        id INTEGER PRIMARY KEY,
        video_id TEXT NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
        scene_idx INTEGER NOT NULL,
        time REAL NOT NULL,
        frame INTEGER NOT NULL,
        change REAL NOT NULL,
        thumbnail TEXT NOT NULL
    );
    CREATE INDEX keyframes_by_time ON keyframes(video_id, time);
    CREATE TABLE frames (
        id INTEGER PRIMARY KEY,
        video_id TEXT NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
        time REAL NOT NULL,
        frame INTEGER NOT NULL
    );
    CREATE INDEX frames_by_time ON frames(video_id, time);
    CREATE TABLE texts (
        id INTEGER PRIMARY KEY,
        video_id TEXT NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
        start REAL NOT NULL, end REAL NOT NULL,
        source TEXT NOT NULL,     -- caption | subtitle | transcript | ocr | tags
        text TEXT NOT NULL,
        meta TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX texts_by_time ON texts(video_id, source, start);
    """,
]


def migrate(conn: sqlite3.Connection) -> int:
    """Apply the migrations the database lacks; returns the schema version."""
    conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied REAL NOT NULL)")
    done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
    for version, script in enumerate(MIGRATIONS, start=1):
        if version in done:
            continue
        conn.executescript(f"BEGIN; {script}; INSERT INTO schema_migrations VALUES ({version}, {time.time()}); COMMIT;")
    return len(MIGRATIONS)

MIGRATIONS.append(
    # 2: searchable memory: vectors (source of truth for the FAISS files), embedder identity, ingest stages
    """
    CREATE TABLE vectors (
        id INTEGER PRIMARY KEY,
        modality TEXT NOT NULL,      -- text | visual | clip
        video_id TEXT NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,          -- frame | keyframe | text
        ref INTEGER NOT NULL,        -- row id in frames, keyframes or texts
        start REAL NOT NULL, end REAL NOT NULL,
        vec BLOB NOT NULL
    );
    CREATE INDEX vectors_by_video ON vectors(modality, video_id);
    CREATE TABLE embedders (modality TEXT PRIMARY KEY, model TEXT NOT NULL, dim INTEGER NOT NULL);
    ALTER TABLE videos ADD COLUMN stages TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE keyframes ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE frames ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
    """
)
