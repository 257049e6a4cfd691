"""Bad input: one line saying what is wrong and what to do, a non-zero exit, and the store unchanged."""

from __future__ import annotations

import hashlib

import av
import numpy as np
import pytest

from .conftest import run_cli, video_path


def _store_state(store):
    files = sorted(p for p in store.rglob("*") if p.is_file() and not p.name.endswith(("-wal", "-shm")))
    import sqlite3

    conn = sqlite3.connect(store / "index.sqlite")
    dump = "\n".join(conn.iterdump())
    conn.close()
    return [str(p.relative_to(store)) for p in files if p.name != "index.sqlite"], hashlib.sha256(dump.encode()).hexdigest()


def _audio_only(path):
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=44100)
        for _ in range(20):
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            frame.sample_rate = 44100
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def _faststart_truncated(path):
    """A copy of bikes.mp4 with the index at the front, cut in half: it opens, but the end is missing."""
    whole = path.with_name("whole.mp4")
    with av.open(str(video_path("bikes"))) as src, av.open(str(whole), "w", options={"movflags": "faststart"}) as out:
        stream = src.streams.video[0]
        target = out.add_stream_from_template(stream)
        for packet in src.demux(stream):
            if packet.dts is not None:
                packet.stream = target
                out.mux(packet)
    data = whole.read_bytes()
    path.write_bytes(data[: len(data) // 2])


BAD_INPUTS = {
    "missing": (lambda p: None, "no such file"),
    "directory": (lambda p: p.mkdir(), "is a directory"),
    "empty": (lambda p: p.write_bytes(b""), "empty"),
    "text": (lambda p: p.write_text("this is not a video\n" * 50), "not a video file"),
    "truncated": (lambda p: p.write_bytes(video_path("testvideo").read_bytes()[:1_000_000]), "truncated"),
    "truncated_faststart": (_faststart_truncated, "truncated"),
    "audio_only": (_audio_only, "no video stream"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_gives_one_line_and_leaves_the_store_unchanged(tmp_path, case):
    store = tmp_path / "store"
    run_cli("index", "-q", str(video_path("counter")), store=store, check=True)
    before = _store_state(store)
    make, expected = BAD_INPUTS[case]
    target = tmp_path / "input" / ("clip.mp4" if case != "directory" else "folder")
    target.parent.mkdir()
    make(target)
    result = run_cli("index", str(target), store=store)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert expected in lines[0].lower() and "Traceback" not in result.stderr
    assert _store_state(store) == before


def test_unknown_video_for_info(tmp_path):
    result = run_cli("info", "nothing-like-this.mp4", store=tmp_path)
    assert result.returncode != 0 and "videoqa index" in result.stderr and len(result.stderr.strip().splitlines()) == 1
