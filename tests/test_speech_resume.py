"""Speech is transcribed beside the picture and committed a window at a time: a kill during transcription
keeps the windows already committed, and the resumed run transcribes only the rest."""

from __future__ import annotations

import json
import sqlite3

from videoqa.memory.speech import STAGE, window_stage

from .conftest import kill_index_when, run_cli, video_path

LIGHT = ("--no-tags", "--no-ocr")


def _stages(conn: sqlite3.Connection) -> set[str]:
    row = conn.execute("SELECT stages FROM videos").fetchone()
    return set(json.loads(row[0])) if row else set()


def _state(store) -> tuple[set[str], str, list[tuple]]:
    conn = sqlite3.connect(store / "index.sqlite", timeout=10)
    try:
        status = conn.execute("SELECT status FROM videos").fetchone()[0]
        rows = conn.execute("SELECT id, start, end, text FROM texts WHERE source='transcript' ORDER BY start").fetchall()
        return _stages(conn), status, rows
    finally:
        conn.close()


def test_a_kill_during_transcription_keeps_committed_windows_and_resume_completes(vqa, indexed, tmp_path):
    bbb = str(video_path("bbb"))
    store = tmp_path / "store"
    kill_index_when(store, [*LIGHT, bbb], lambda conn: window_stage(1) in _stages(conn))
    stages, status, before = _state(store)
    assert status == "indexing" and window_stage(0) in stages and STAGE not in stages, stages
    committed = sorted(int(s.split(":")[1]) for s in stages if s.startswith(STAGE + ":"))

    resumed = run_cli("index", "-q", *LIGHT, bbb, store=store)
    assert resumed.returncode == 0, resumed.stderr
    stages, status, after = _state(store)
    assert status == "ready" and STAGE in stages
    assert {s for s in stages if s.startswith(STAGE + ":")} == {window_stage(i) for i in range(10)}  # 596 s: 10 windows
    # The rows committed before the kill are kept as they were (same ids), none is written twice ...
    assert set(before) <= set(after)
    assert len({(r[1], r[3]) for r in after}) == len(after)
    # ... and the whole transcript equals that of an uninterrupted run (the session's index of bbb.mp4).
    clean = [(t.start, t.end, t.text) for t in vqa.store.texts(indexed["bbb"].id, sources=["transcript"])]
    assert [(r[1], r[2], r[3]) for r in after] == clean
    assert committed  # at least one window survived the kill
