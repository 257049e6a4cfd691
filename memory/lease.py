"""Per-video ingest leases: one process at a time writes a video's rows.

A lease is a row in the store (video id, a random token, pid, host, heartbeat), taken inside a write
transaction so two processes cannot both get it. Whoever holds it may start, commit to or remove the video;
a second indexer of the same file is told which process is indexing it. A lease whose holder died (SIGKILL,
power cut) is taken over: on this host when its pid is gone, from another host when its heartbeat is old."""

from __future__ import annotations

import os
import socket
import sqlite3
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from videoqa.errors import StoreError

# A lease held from another host counts as abandoned once its heartbeat (renewed at every commit) is this old.
# Generous: the speech stage of a long video commits once, at its end.
STALE_SECONDS = 3600.0
HOST = socket.gethostname()

# Tokens of the leases this process holds, so a lease with our own pid is told apart from one left by an
# earlier process that had the same pid (containers restart pids from 1).
_HELD: set[str] = set()


@dataclass(frozen=True)
class Lease:
    video_id: str
    token: str


def acquire(conn: sqlite3.Connection, video_id: str, shown: str) -> Lease:
    """Take the lease of `video_id` (inside the caller's write transaction), or raise StoreError naming
    the process that holds it. `shown` names the video in the message."""
    row = conn.execute("SELECT pid, host, started, heartbeat, token FROM leases WHERE video_id=?", (video_id,)).fetchone()
    if row is not None and _alive(row[0], row[1], row[3], row[4]):
        pid, host, started = row[0], row[1], row[2]
        where = "" if host == HOST else f" on {host}"
        raise StoreError(
            f"{shown} is being indexed by process {pid}{where} (for {_age(time.time() - started)}). "
            "Wait for it to finish, then run the command again."
        )
    token = uuid.uuid4().hex
    now = time.time()
    conn.execute(
        "INSERT OR REPLACE INTO leases (video_id, token, pid, host, started, heartbeat) VALUES (?,?,?,?,?,?)",
        (video_id, token, os.getpid(), HOST, now, now),
    )
    _HELD.add(token)
    return Lease(video_id, token)


def renew(conn: sqlite3.Connection, lease: Lease) -> None:
    """Inside a write transaction: check the lease is still ours and move its heartbeat."""
    cur = conn.execute("UPDATE leases SET heartbeat=? WHERE video_id=? AND token=?", (time.time(), lease.video_id, lease.token))
    if cur.rowcount != 1:
        raise StoreError(
            f"Another process took over the indexing of video {lease.video_id} (this one looked dead to it). "
            "Nothing more is written by this process; check with videoqa verify."
        )


def release(conn: sqlite3.Connection, lease: Lease) -> None:
    conn.execute("DELETE FROM leases WHERE video_id=? AND token=?", (lease.video_id, lease.token))
    _HELD.discard(lease.token)


def _alive(pid: int, host: str, heartbeat: float, token: str) -> bool:
    if host != HOST:
        return time.time() - heartbeat < STALE_SECONDS
    if pid == os.getpid():
        return token in _HELD
    return pid_alive(pid)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    # A killed process its parent has not reaped yet is a zombie: it exists but will never write again.
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _age(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds} s" if seconds < 120 else f"{seconds // 60} min"
