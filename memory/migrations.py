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

MIGRATIONS.append(
    # 3: vector ids are never reused (AUTOINCREMENT): a FAISS cache built before a delete can then never find
    #    an old vector under the id of a new row. The scene detector's state at the resume point. Per-video
    #    ingest leases (memory/lease.py).
    """
    CREATE TABLE vectors_v3 (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        modality TEXT NOT NULL,
        video_id TEXT NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        ref INTEGER NOT NULL,
        start REAL NOT NULL, end REAL NOT NULL,
        vec BLOB NOT NULL
    );
    INSERT INTO vectors_v3 (id, modality, video_id, kind, ref, start, end, vec)
        SELECT id, modality, video_id, kind, ref, start, end, vec FROM vectors;
    DROP TABLE vectors;
    ALTER TABLE vectors_v3 RENAME TO vectors;
    CREATE INDEX vectors_by_video ON vectors(modality, video_id);
    ALTER TABLE videos ADD COLUMN detector_state BLOB;  -- the scene detector just before resume_frame
    CREATE TABLE leases (
        video_id TEXT PRIMARY KEY,   -- no foreign key: the lease is taken before the video's row exists
        token TEXT NOT NULL,
        pid INTEGER NOT NULL,
        host TEXT NOT NULL,
        started REAL NOT NULL,
        heartbeat REAL NOT NULL
    );
    """
)


def schema_version(conn: sqlite3.Connection) -> int:
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_migrations'").fetchone() is None:
        return 0
    return conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()[0]


def migrate(conn: sqlite3.Connection) -> int:
    """Apply the migrations the database lacks; returns the schema version.

    Under the database's write lock (BEGIN IMMEDIATE): two processes opening a new store at once take turns,
    and the second finds the work done. Each statement runs on its own (not executescript, which would
    commit the lock away)."""
    if schema_version(conn) >= len(MIGRATIONS):
        return len(MIGRATIONS)
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied REAL NOT NULL)")
        done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
        for version, script in enumerate(MIGRATIONS, start=1):
            if version in done:
                continue
            for statement in _statements(script):
                conn.execute(statement)
            conn.execute("INSERT INTO schema_migrations VALUES (?, ?)", (version, time.time()))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return len(MIGRATIONS)


def _statements(script: str) -> list[str]:
    """Split a script into whole statements (sqlite3.complete_statement knows about quotes and comments)."""
    found, pending = [], ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            found.append(pending.strip())
            pending = ""
    if pending.strip():
        found.append(pending.strip())
    return found
