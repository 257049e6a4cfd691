"""Every real video indexes; the index is persistent and keyed by content (resume after SIGKILL, with every
stage on: tests/test_store_resume.py)."""

from __future__ import annotations

import shutil

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


def test_the_progress_log_says_plausible_rates_and_when_speech_is_done(tmp_path):
    # the log a pipe or a file gets: the transcript, often done before the picture, once showed '58101900x realtime'
    import io
    import re

    from videoqa.cli.index import ProgressBar

    log = io.StringIO()
    with VideoQA(store=tmp_path / "store") as api:
        api.index(video_path("ted"), progress=ProgressBar("test.mp4", log))
    lines = log.getvalue().splitlines()
    rates = [int(r) for r in re.findall(r"\((\d+)x realtime\)", log.getvalue())]
    assert rates and max(rates) < 1000, lines
    speech = [line for line in lines if "  speech" in line]
    assert speech[-1].endswith("done") and all("scenes" not in line for line in speech), lines
