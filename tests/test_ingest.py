"""Every real video indexes; the index is persistent, keyed by content, and resumable after SIGKILL."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from videoqa import VideoQA

from .conftest import CATALOG, run_cli, video_path


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_every_video_indexes_with_the_manifest_duration(indexed, name):
    video = indexed[name]
    expected = CATALOG[name][1]
    assert abs(video.duration - expected) < 0.05, (video.duration, expected)
    # the frames layer: one row per second (+-1)
    assert abs(video.frames - video.duration) <= 1.5, (video.frames, video.duration)
    assert video.keyframes >= len(video.scenes) >= 1


def test_corrupt_frames_do_not_stop_the_ingest(vqa, indexed):
    # mmaction2/demo.mp4 is badly corrupted around 8.6-9.0 s; frames after it are still indexed.
    video = indexed["demo"]
    times = [t for t, _ in vqa.store.frames(video.id)]
    assert max(times) >= 9.0


def test_reindexing_is_a_no_op_and_a_renamed_file_is_found(vqa, indexed, tmp_path):
    video = indexed["bikes"]
    again = vqa.index(video_path("bikes"))
    assert again == video
    renamed = tmp_path / "renamed clip.mp4"
    shutil.copy(video_path("bikes"), renamed)
    found = vqa.index(renamed)  # how long this takes: benchmarks/reindex.py
    assert found.id == video.id and found.scenes == video.scenes
    assert found.path == str(renamed)
    vqa.index(video_path("bikes"))  # put the path back for other tests


# Tags, vectors and text rows on; OCR and speech off to keep the three ingests of a 10-minute video short.
LIGHT = ("--no-ocr", "--no-speech")


def _snapshot(store_dir):
    conn = sqlite3.connect(store_dir / "index.sqlite")
    try:
        vid = conn.execute("SELECT id FROM videos").fetchone()[0]
        return {
            "scenes": conn.execute("SELECT idx, shot, start, end, start_frame, end_frame FROM scenes ORDER BY idx").fetchall(),
            "keyframes": conn.execute("SELECT scene_idx, time, frame, thumbnail FROM keyframes ORDER BY time").fetchall(),
            "frames": conn.execute("SELECT time, frame, tags FROM frames ORDER BY time").fetchall(),
            "texts": conn.execute("SELECT start, end, source, text FROM texts ORDER BY start, source, text").fetchall(),
            "vectors": conn.execute("SELECT modality, kind, count(*) FROM vectors GROUP BY modality, kind").fetchall(),
            "status": conn.execute("SELECT status FROM videos").fetchone()[0],
            "id": vid,
        }
    finally:
        conn.close()


def test_sigkill_mid_ingest_then_resume_equals_a_clean_run(indexed, tmp_path):
    clean_dir, killed_dir = tmp_path / "clean", tmp_path / "killed"
    bbb = str(video_path("bbb"))
    process = subprocess.Popen(
        [sys.executable, "-m", "videoqa.cli.main", "--store", str(killed_dir), "index", "-q", *LIGHT, bbb],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    resume_time = 0.0
    while time.monotonic() < deadline and resume_time < 120:
        time.sleep(0.3)
        try:
            conn = sqlite3.connect(killed_dir / "index.sqlite", timeout=5)
            row = conn.execute("SELECT resume_time FROM videos").fetchone()
            conn.close()
            resume_time = row[0] if row else 0.0
        except sqlite3.Error:
            continue
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    partial = _snapshot(killed_dir)
    assert partial["status"] == "indexing" and 0 < len(partial["scenes"]) < len(indexed["bbb"].scenes)

    resumed = run_cli("index", "-q", *LIGHT, bbb, store=killed_dir)
    assert resumed.returncode == 0, resumed.stderr
    run_cli("index", "-q", *LIGHT, bbb, store=clean_dir, check=True)
    after, clean = _snapshot(killed_dir), _snapshot(clean_dir)
    assert after["status"] == "ready"
    for table in ("scenes", "keyframes", "frames", "texts", "vectors"):
        assert after[table] == clean[table], table


def test_index_json_document(store_dir, indexed):
    from .conftest import run_cli_json

    document = run_cli_json("index", str(video_path("goldeneye")), store=store_dir)
    (video,) = document["videos"]
    assert set(video) >= {"id", "path", "duration", "fps", "width", "height", "scenes", "keyframes", "frames"}
    assert (video["width"], video["height"]) == (1280, 544)
    assert all(set(s) >= {"start", "end", "start_frame", "end_frame"} for s in video["scenes"])
    assert isinstance(video["scenes"][1]["start"], float) and abs(video["scenes"][1]["start"] - 3.754) < 0.07
    listing = run_cli_json("list", store=store_dir)
    assert {v["id"] for v in listing["videos"]} >= {indexed[n].id for n in CATALOG}
    info = run_cli("info", "goldeneye-vfr-drop3.mp4", store=store_dir, check=True).stdout
    assert "3.754" in info


def test_api_returns_typed_results(tmp_path):
    with VideoQA(store=tmp_path) as api:
        video = api.index(video_path("counter"))
        assert api.video(video.id) == video
        assert api.video("counter.mp4") == video
        assert [v.id for v in api.videos()] == [video.id]
