"""Conversations on disk: LangGraph's SQLite checkpointer in the store directory, keyed by thread id."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from langgraph.checkpoint.sqlite import SqliteSaver

CONVERSATIONS = "conversations.sqlite"


def open_checkpointer(store_root: Path) -> SqliteSaver:
    # A long-lived saver (from_conn_string is a context manager meant for one block).
    conn = sqlite3.connect(Path(store_root) / CONVERSATIONS, check_same_thread=False)
    return SqliteSaver(conn)
