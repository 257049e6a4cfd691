"""Clip export from the CLI: `videoqa clip` and `videoqa ask --export`, checked by reading the MP4s back with
PyAV; bad spans are one line on stderr and leave no file behind."""

from __future__ import annotations

import json

import av
import pytest

from .conftest import run_cli, video_path


def _duration(path) -> float:
    with av.open(str(path)) as clip:
        stream = clip.streams.video[0]
        return float(stream.duration * stream.time_base)


def test_clip_cuts_the_span(tmp_path, store_dir):
    out = tmp_path / "moment.mp4"
    result = run_cli("clip", str(video_path("bbb")), "3:34.75", "3:56", "-o", str(out), store=store_dir, check=True)
    assert result.stdout.strip() == str(out)
    assert abs(_duration(out) - 21.25) < 0.1  # the rodents segment of the moviepy tutorial, 214.75-236 s
    with av.open(str(out)) as clip:
        assert clip.streams.audio and clip.streams.video[0].codec_context.name == "h264"


def test_ask_export_writes_a_clip_per_moment(tmp_path, vqa, store_dir):
    ted = vqa.index(video_path("ted"))
    result = run_cli("ask", ted.id, "When does she say she teaches entrepreneurship?", "--export", str(tmp_path), "--json",
                     store=store_dir, check=True)
    moments = json.loads(result.stdout)["moments"]
    clips = sorted(tmp_path.glob("*.mp4"))
    assert moments and len(clips) == len(moments)
    for moment in moments:
        clip = tmp_path / f"test_{moment['start']:.1f}-{moment['end']:.1f}.mp4"
        assert abs(_duration(clip) - (moment["end"] - moment["start"])) < 0.1
        assert f"clip {clip}" in result.stderr


@pytest.mark.parametrize("start, end, message", [
    ("7", "5", "0 <= START < END"),
    ("700", "710", "after the video's end"),
    ("0", "700", "at most 600 s"),
])
def test_bad_spans_are_one_line(tmp_path, store_dir, start, end, message):
    out = tmp_path / "bad.mp4"
    result = run_cli("clip", str(video_path("bbb")), start, end, "-o", str(out), store=store_dir)
    assert result.returncode == 1 and message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())  # nothing half-written
