"""The store never serves stale or half-written data: vector caches match their rows, damage to derived
files is repaired, an old store migrates, subtitle files are part of what a video is indexed from."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from videoqa import IndexSettings, VideoQA
from videoqa.memory.migrations import MIGRATIONS
from videoqa.memory.vectors import from_blobs

from .conftest import VIDEOS, run_cli, video_path

FIXTURE = Path(__file__).parent / "fixtures" / "store_v2"
RABBIT_VTT = VIDEOS / "mdn" / "subtitles_en.vtt"  # 3 cues; the third (6.901-8.000) ends after the video (7.8 s)
LIGHT = IndexSettings(ocr=False, speech_model=None)  # tags, vectors and text rows; no OCR or speech: quick


def _cache_matches_rows(store, modality: str) -> None:
    """Every vector row, looked up in the FAISS cache by its own vector, is found under its own id (or under
    a row with the very same vector), and the cache holds nothing else."""
    index = store.vector_index(modality)
    index.sync()
    rows = store.conn.execute("SELECT id, vec FROM vectors WHERE modality=? ORDER BY id", (modality,)).fetchall()
    matrix = from_blobs([r[1] for r in rows], index.index.d)
    assert index.index.ntotal == len(rows)
    _, found = index.search(matrix, 1)
    by_id = {r[0]: i for i, r in enumerate(rows)}
    for i, hit in enumerate(found[:, 0]):
        assert int(hit) in by_id, f"the cache returned id {hit}, which no row has"
        assert np.allclose(matrix[by_id[int(hit)]], matrix[i], atol=1e-5), f"id {hit} holds another row's vector"


def test_reindexing_the_newest_video_never_serves_stale_vectors(tmp_path):
    # The scenario of issue 13: re-index the most recently indexed video with settings that write more
    # vectors than it had. Ids of deleted rows must never come back, and the store-wide cache must notice.
    with VideoQA(store=tmp_path, index=LIGHT) as api:
        rabbit = api.index(video_path("rabbit"), subtitles=RABBIT_VTT)
        bikes = api.index(video_path("bikes"))
        assert api.search(None, "bikes on a road")  # builds the store-wide caches
        before = api.store.conn.execute("SELECT max(id) FROM vectors").fetchone()[0]
        api.configure_index(sample_fps=2.0)
        again = api.index(video_path("bikes"))
        assert again.frames > bikes.frames
        first_new = api.store.conn.execute("SELECT min(id) FROM vectors WHERE video_id=?", (bikes.id,)).fetchone()[0]
        assert first_new > before, "a deleted vector id was given to a new row"
        for modality in ("text", "visual"):
            _cache_matches_rows(api.store, modality)
        top = api.search(None, "This is the second", k=3)[0]
        assert top.video == rabbit.id and (top.start, top.end) == pytest.approx((5.739, 6.074), abs=1e-3)


def _old_store(tmp_path) -> Path:
    store = tmp_path / "old store"
    shutil.copytree(FIXTURE, store)
    return store


def test_a_store_made_by_the_previous_schema_migrates_and_answers(tmp_path):
    store = _old_store(tmp_path)
    raw = sqlite3.connect(store / "index.sqlite")
    assert raw.execute("SELECT max(version) FROM schema_migrations").fetchone()[0] == 2
    vectors = raw.execute("SELECT id, modality, video_id, kind, ref, vec FROM vectors ORDER BY id").fetchall()
    second = raw.execute("SELECT video_id, start, end FROM texts WHERE text='This is the second.'").fetchone()
    raw.close()
    with VideoQA(store=store) as api:
        conn = api.store.conn
        assert conn.execute("SELECT max(version) FROM schema_migrations").fetchone()[0] == len(MIGRATIONS)
        assert [tuple(r) for r in conn.execute("SELECT id, modality, video_id, kind, ref, vec FROM vectors ORDER BY id")] == vectors
        assert "AUTOINCREMENT" in conn.execute("SELECT sql FROM sqlite_master WHERE name='vectors'").fetchone()[0]
        assert sorted(Path(v.path).name for v in api.videos()) == ["counter.mp4", "rabbit320.mp4"]
        top = api.search(None, "This is the second", k=3)[0]
        assert (top.video, top.start, top.end) == second
        _cache_matches_rows(api.store, "text")
        assert not list((store / "faiss").glob("text.index")), "the schema-2 cache file is replaced"
        # The old store did not record subtitle files: indexing again with them redoes the subtitles only
        # (the webvtt-py rounding of the old version is gone), not the picture.
        frames = [tuple(r) for r in conn.execute("SELECT id FROM frames ORDER BY id")]
        video = api.index(video_path("rabbit"), subtitles=RABBIT_VTT)
        assert [tuple(r) for r in conn.execute("SELECT id FROM frames ORDER BY id")] == frames
        cues = [(t.start, t.end) for t in api.store.texts(video.id, sources=["subtitle"])]
        assert cues == [(2.01, 3.5), (5.739, 6.074), (6.901, video.duration)]


def test_verify_and_search_repair_a_corrupt_cache_and_a_deleted_thumbnail(tmp_path):
    store = _old_store(tmp_path)
    with VideoQA(store=store) as api:
        api.search(None, "rabbit")  # migrate and write the caches
    cache = store / "faiss" / "text.faiss"
    thumbnails = sorted((store / "thumbs").rglob("*.jpg"))
    pictures = [p.read_bytes() for p in thumbnails]

    def damage():
        cache.write_bytes(cache.read_bytes()[:200] + b"\0garbage" * 50)
        for path in thumbnails:
            path.unlink()

    damage()
    (thumbnails[0].parent / f".{thumbnails[0].name}.123.tmp").write_bytes(b"\xff\xd8 half a JPEG")
    result = run_cli("verify", store=store)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "text.faiss was corrupt" in result.stdout and "made again" in result.stdout and "unfinished files" in result.stdout
    assert "Traceback" not in result.stderr
    assert all(p.read_bytes()[:2] == b"\xff\xd8" for p in thumbnails)  # JPEGs again
    assert [len(p.read_bytes()) for p in thumbnails] == pytest.approx([len(b) for b in pictures], rel=0.2)
    assert run_cli("verify", store=store).stdout.strip().splitlines() == ["ok: checked 2 videos, 28 vectors, 2 caches, 2 thumbnails"]

    damage()
    with VideoQA(store=store) as api:
        moments = api.search(None, "This is the second", k=3)
        assert moments[0].text == "This is the second."
        assert all(Path(m.thumbnail).read_bytes()[:2] == b"\xff\xd8" for m in moments)
        _cache_matches_rows(api.store, "text")


def test_verify_exits_non_zero_on_damage_it_cannot_repair(tmp_path):
    store = _old_store(tmp_path)
    conn = sqlite3.connect(store / "index.sqlite")
    with conn:  # the video file of counter.mp4 "moved away": its thumbnail cannot be made again
        conn.execute("UPDATE videos SET path='/nonexistent/counter.mp4' WHERE path LIKE '%counter.mp4'")
    conn.close()
    next((store / "thumbs").glob("02d5686ce7516f10d617/*.jpg")).unlink()
    result = run_cli("verify", store=store)
    assert result.returncode == 1
    assert "cannot be made" in result.stdout and "/nonexistent/counter.mp4" in result.stdout
    assert result.stdout.strip().splitlines()[-1].startswith("DAMAGED")


def test_remove_deletes_a_video_and_search_no_longer_finds_it(tmp_path):
    store = _old_store(tmp_path)
    result = run_cli("remove", "rabbit320.mp4", store=store)
    assert result.returncode == 0 and "rabbit320.mp4" in result.stdout, result.stderr
    with VideoQA(store=store) as api:
        assert [Path(v.path).name for v in api.videos()] == ["counter.mp4"]
        assert all(m.video != "6325c482cd960fd66990" for m in api.search(None, "This is the second", k=5))
        assert not (store / "thumbs" / "6325c482cd960fd66990").exists()
        _cache_matches_rows(api.store, "text")
    again = run_cli("remove", "rabbit320.mp4", store=store)
    assert again.returncode == 1 and "No indexed video matches" in again.stderr and len(again.stderr.splitlines()) == 1


def test_adding_a_subtitle_file_indexes_it_and_spans_are_clamped(tmp_path):
    folder = tmp_path / "videos"
    folder.mkdir()
    video_file = folder / "rabbit.mp4"
    shutil.copy(video_path("rabbit"), video_file)
    with VideoQA(store=tmp_path / "store", index=LIGHT) as api:
        video = api.index(video_file)
        assert api.store.texts(video.id, sources=["subtitle"]) == []
        frames = api.store.conn.execute("SELECT id FROM frames ORDER BY id").fetchall()
        shutil.copy(RABBIT_VTT, folder / "rabbit.vtt")  # a sidecar appears: the next index picks it up
        video = api.index(video_file)
        cues = api.store.texts(video.id, sources=["subtitle"])
        assert [c.text for c in cues] == ["This is the first subtitle.", "This is the second.", "And this is the third!"]
        assert cues[-1].end == video.duration < 8.0  # the file says 8.000; the video ends at 7.8
        assert api.store.conn.execute("SELECT id FROM frames ORDER BY id").fetchall() == frames  # the picture was not redone
        assert max(t.end for t in api.store.texts(video.id)) <= video.duration
        assert api.search(None, "This is the second")[0].start == pytest.approx(5.739)
        (folder / "rabbit.vtt").unlink()  # and it goes away again
        assert api.store.texts(api.index(video_file).id, sources=["subtitle"]) == []


def test_a_lease_is_taken_over_only_from_a_dead_holder(tmp_path):
    from videoqa.errors import StoreError
    from videoqa.memory.hashing import content_hash
    from videoqa.memory.lease import HOST, STALE_SECONDS

    clip = video_path("counter")
    video_id = content_hash(clip)
    holder = subprocess.Popen(["sleep", "60"])  # a live process of this host that "indexes" the video
    try:
        with VideoQA(store=tmp_path, index=LIGHT) as api:
            conn = api.store.conn

            def held_by(pid: int, host: str, heartbeat_age: float) -> None:
                with conn:
                    conn.execute("INSERT OR REPLACE INTO leases VALUES (?, 'token', ?, ?, ?, ?)",
                                 (video_id, pid, host, time.time() - 5, time.time() - heartbeat_age))

            held_by(holder.pid, HOST, 0)
            with pytest.raises(StoreError, match=f"counter.mp4 is being indexed by process {holder.pid} "):
                api.index(clip)
            held_by(holder.pid, "another-host", 10)
            with pytest.raises(StoreError, match=f"process {holder.pid} on another-host"):
                api.index(clip)
            assert api.store.video_row(video_id) is None  # nothing was written while refused
            held_by(holder.pid, "another-host", STALE_SECONDS + 1)  # its heartbeat stopped long ago
            assert api.index(clip).frames == 3
            holder.kill()
            holder.wait()
            api.configure_index(sample_fps=2.0)
            held_by(holder.pid, HOST, 0)  # killed: its lease is taken over
            assert api.index(clip).frames == 6
            assert conn.execute("SELECT count(*) FROM leases").fetchone()[0] == 0
    finally:
        holder.kill()
        holder.wait()


def test_a_database_that_is_not_sqlite_is_one_line_and_left_alone(tmp_path):
    (tmp_path / "index.sqlite").write_bytes(b"not a database\n" * 100)
    for command in (("list",), ("verify",)):
        result = run_cli(*command, store=tmp_path)
        assert result.returncode == 1 and "file is not a database" in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert (tmp_path / "index.sqlite").read_bytes() == b"not a database\n" * 100
