"""Conversations on disk: LangGraph's SQLite checkpointer in the store directory, keyed by thread id, and
the last moment of each retrieval-only thread (so "right after that" works without a chat model)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from langgraph.checkpoint.sqlite import SqliteSaver

from videoqa.memory.store import OPEN_TIMEOUT, switch_to_wal

CONVERSATIONS = "conversations.sqlite"


def open_checkpointer(store_root: Path) -> SqliteSaver:
    # A long-lived saver (from_conn_string is a context manager meant for one block).
    conn = sqlite3.connect(Path(store_root) / CONVERSATIONS, check_same_thread=False, timeout=OPEN_TIMEOUT)
    switch_to_wal(conn)  # before the saver's setup does it, racing other processes' first questions
    conn.execute("CREATE TABLE IF NOT EXISTS retrieval_turns (thread TEXT PRIMARY KEY, moment TEXT NOT NULL)")
    conn.commit()
    return SqliteSaver(conn)


def last_moment(saver: SqliteSaver, thread: str) -> dict | None:
    row = saver.conn.execute("SELECT moment FROM retrieval_turns WHERE thread=?", (thread,)).fetchone()
    return json.loads(row[0]) if row else None


def remember_moment(saver: SqliteSaver, thread: str, moment: dict) -> None:
    with saver.conn:
        saver.conn.execute("INSERT OR REPLACE INTO retrieval_turns (thread, moment) VALUES (?, ?)", (thread, json.dumps(moment)))
