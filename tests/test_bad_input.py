"""Bad input: one line saying what is wrong and what to do, a non-zero exit, and the store unchanged."""

from __future__ import annotations

import hashlib
import json
import os
import shutil

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


# -- settings, questions and the store: each one line, a non-zero exit, the store untouched --------------------

NOT_UTF8 = b"what is caf\xe9?".decode("utf-8", "surrogateescape")  # how Python receives a Latin-1 argument

SETTINGS_AND_QUESTIONS = {
    # case: (arguments with VIDEO for a video not in the store yet, extra environment, expected text)
    "fps_zero": (["index", "--fps", "0", "VIDEO"], {}, "sample_fps = 0.0 is not allowed"),
    "chunk_negative": (["index", "--max-chunk", "-5", "VIDEO"], {}, "max_chunk_seconds = -5.0 is not allowed"),
    "chunk_huge": (["index", "--max-chunk", "1e9", "VIDEO"], {}, "1 to 3600 seconds"),
    "detector_flag": (["index", "--detector", "magic", "VIDEO"], {}, "invalid choice: 'magic'"),
    "reader_flag": (["index", "--reader", "ffmpeg", "VIDEO"], {}, "invalid choice: 'ffmpeg'"),
    "detector_env": (["index", "VIDEO"], {"VIDEOQA_DETECTOR": "magic"}, "detector = 'magic' is not allowed"),
    "reader_env": (["index", "VIDEO"], {"VIDEOQA_READER": "ffmpeg"}, "reader = 'ffmpeg' is not allowed"),
    "fps_env": (["index", "VIDEO"], {"VIDEOQA_SAMPLE_FPS": "fast"}, "VIDEOQA_SAMPLE_FPS"),
    "vlm_spec": (["ask", "VIDEO", "what happens?"], {"VIDEOQA_VLM": "llava"}, "vlm = 'llava' is not allowed"),
    "chat_spec": (["ask", "VIDEO", "what happens?"], {"VIDEOQA_CHAT_MODEL": "gpt 4o"}, "chat_model = 'gpt 4o' is not allowed"),
    "base_url": (["ask", "VIDEO", "what happens?"], {"OPENAI_BASE_URL": "localhost:8000"}, "http:// or https://"),
    "question_empty": (["ask", "VIDEO", "  "], {}, "question is empty"),
    "question_20000": (["ask", "VIDEO", "why " * 5000], {}, "19,999 characters long"),
    "question_not_utf8": (["ask", "VIDEO", NOT_UTF8], {}, "not valid utf-8"),
}


@pytest.mark.parametrize("case", sorted(SETTINGS_AND_QUESTIONS))
def test_bad_settings_and_questions_stop_before_the_store_changes(tmp_path, case):
    store = tmp_path / "store"
    run_cli("index", "-q", "--no-speech", "--no-ocr", str(video_path("counter")), store=store, check=True)
    before = _store_state(store)
    arguments, env, expected = SETTINGS_AND_QUESTIONS[case]
    arguments = [str(video_path("bikes")) if a == "VIDEO" else a for a in arguments]  # would be indexed if accepted
    result = run_cli(*arguments, store=store, env=env)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("videoqa: "), result.stderr
    assert expected.lower() in lines[0].lower() and "unexpected" not in lines[0]
    assert _store_state(store) == before


def test_a_store_that_is_a_file(tmp_path):
    store = tmp_path / "store"
    store.write_text("not a directory")
    result = run_cli("index", str(video_path("counter")), store=store)
    lines = result.stderr.strip().splitlines()
    assert result.returncode != 0 and len(lines) == 1 and "a directory, not a file" in lines[0], result.stderr
    assert store.read_text() == "not a directory"


def _read_only(store):
    """A prefix that runs the command with `store` read-only. Root writes through permission bits, so as root
    the store is bind-mounted read-only in a private mount namespace; otherwise the bits suffice."""
    if os.geteuid() != 0:
        store.chmod(0o555)
        return ()
    return ("unshare", "--mount", "sh", "-c", 'mount --bind -o ro "$0" "$0" && exec "$@"', str(store))


@pytest.mark.parametrize("command", [("index", "VIDEO"), ("search", "counter.mp4", "frame"), ("list",)])
def test_a_read_only_store(tmp_path, command):
    store = tmp_path / "store"
    run_cli("index", "-q", "--no-speech", "--no-ocr", str(video_path("counter")), store=store, check=True)
    before = _store_state(store)
    arguments = [str(video_path("bikes")) if a == "VIDEO" else a for a in command]
    result = run_cli(*arguments, store=store, prefix=_read_only(store))
    store.chmod(0o755)
    lines = result.stderr.strip().splitlines()
    assert result.returncode != 0 and len(lines) == 1, result.stderr
    assert "read-only" in lines[0] and "--store" in lines[0] and "unexpected" not in lines[0]
    assert _store_state(store) == before


def test_a_path_with_spaces_and_non_ascii_letters_works(tmp_path):
    folder = tmp_path / "my videos Ω"
    folder.mkdir()
    video = folder / "Frühstück à l'école 日本.mp4"
    shutil.copy(video_path("counter"), video)
    store = tmp_path / "store"
    indexed = json.loads(run_cli("index", "--json", "--no-speech", "--no-ocr", str(video), store=store, check=True).stdout)
    assert indexed["videos"][0]["path"] == str(video)
    for reference in (video.name, str(video)):
        found = json.loads(run_cli("search", "--json", reference, "frame", store=store, check=True).stdout)
        assert found["moments"], reference
    listing = run_cli("list", store=store, check=True).stdout
    assert str(video) in listing
