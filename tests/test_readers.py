"""One contract for every video reader (PyAV for ingest, decord for the tools): the same frames, at the same
times, however they are reached (a full pass, a seek, a random access), so "12.0 s" means one picture.

Ground truth from MANIFEST.md: frames decoded by ffprobe -count_frames; counter.mp4 shows frame N at N/10 s;
in goldeneye-vfr-drop3.mp4 (variable frame rate) the 61st and 141st decoded frames, at 3.75375 s and 8.75875 s,
open the new shots."""

from __future__ import annotations

import functools
import threading

import av
import numpy as np
import pytest

from videoqa.errors import UnreadableVideoError
from videoqa.memory.readers import AVAILABLE_READERS, open_reader, probe

from .conftest import video_path

READERS = sorted(AVAILABLE_READERS)
FRAMES = {"goldeneye": 160, "counter": 30, "ntu": 103, "pancake": 310, "rabbit": 234}
# decord reports no presentation times for the AVI (B-frames, no timestamps in the container): it refuses the
# file, and "auto" reads it with PyAV, which rebuilds the times.
REFUSED = {("decord", "ntu")}


def _pairs(names) -> list[tuple[str, str]]:
    return [(reader, name) for reader in READERS for name in sorted(names) if (reader, name) not in REFUSED]
TOLERANCE = 1e-4  # seconds; decord keeps float32 times
WIDTH = 160


@functools.cache
def _opened(reader: str, name: str):
    path = video_path(name)
    return open_reader(path, probe(path), reader)


@functools.cache
def _full_pass(reader: str, name: str) -> tuple[np.ndarray, list[int]]:
    frames = list(_opened(reader, name).iter_frames())
    return np.array([f.time for f in frames]), [f.index for f in frames]


def _expected_at(times: np.ndarray, t: float) -> float:
    """The frame showing at `t`: the last one starting at or before it (the first one before the video starts)."""
    before = times[times <= t + 1e-6]
    return float(before[-1]) if len(before) else float(times[0])


@pytest.mark.parametrize("reader, name", _pairs(FRAMES))
def test_a_full_pass_gives_every_frame_once_in_time_order(reader, name):
    times, indexes = _full_pass(reader, name)
    duration = probe(video_path(name)).duration
    assert len(times) == FRAMES[name]
    assert indexes == list(range(len(times)))
    assert np.all(np.diff(times) > 0), "times must rise strictly"
    assert 0 <= times[0] < 0.1 and times[-1] < duration + TOLERANCE


@pytest.mark.parametrize("reader", READERS)
def test_frame_times_are_the_presentation_times(reader):
    counter, _ = _full_pass(reader, "counter")
    np.testing.assert_allclose(counter, np.arange(30) / 10, atol=TOLERANCE)  # "Frame = N", "PTS = (N-1)/10 s"
    vfr, _ = _full_pass(reader, "goldeneye")
    assert abs(vfr[60] - 3.75375) < TOLERANCE and abs(vfr[140] - 8.75875) < TOLERANCE
    gaps = np.diff(vfr)
    assert gaps.max() > 1.5 * gaps.min()  # really variable: the dropped frames are not papered over


@pytest.mark.parametrize("name", sorted(FRAMES))
def test_every_reader_agrees_on_every_frame_time(name):
    reference, _ = _full_pass("pyav", name)
    for reader in READERS:
        if (reader, name) in REFUSED:
            continue
        times, _ = _full_pass(reader, name)
        assert len(times) == len(reference), reader
        np.testing.assert_allclose(times, reference, atol=TOLERANCE, err_msg=reader)


@pytest.mark.parametrize("reader, name", _pairs(["goldeneye", "ntu"]))
def test_a_seek_resumes_at_the_same_frame_a_full_pass_reaches(reader, name):
    times, _ = _full_pass(reader, name)
    for start in (0.0, 1.0, float(times[60]), float(times[60]) - 0.001, float(times[60]) + 0.001, float(times[-1])):
        first = int(np.searchsorted(times, start - 1e-6))
        resumed = list(_opened(reader, name).iter_frames(start_time=start, start_index=first))
        assert [f.index for f in resumed] == list(range(first, len(times))), start
        np.testing.assert_allclose([f.time for f in resumed], times[first:], atol=TOLERANCE)


@pytest.mark.parametrize("reader, name", _pairs(["goldeneye", "counter", "ntu"]))
def test_frames_at_returns_the_frame_showing_at_each_time(reader, name):
    times, _ = _full_pass(reader, name)
    asked = sorted({0.0, 0.01, float(times[len(times) // 2]), float(times[20]) + 0.0001, float(times[20]) - 0.0001,
                    1.95, 2.0, 3.0, float(times[-1]), float(times[-1]) + 5.0})
    got = _opened(reader, name).frames_at(asked, WIDTH)
    assert len(got) == len(asked)
    for t, (frame_time, image) in zip(asked, got):
        assert abs(frame_time - _expected_at(times, t)) < TOLERANCE, (t, frame_time)
        assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[1] == WIDTH and image.shape[2] == 3
        [(alone, _)] = _opened(reader, name).frames_at([t], WIDTH)  # reached by a seek, not by a pass from the start
        assert abs(alone - frame_time) < TOLERANCE, (t, alone)


def test_the_readers_show_the_same_picture_at_the_same_time():
    # counter.mp4's background turns from red to green at 2.0 s: the frame before is red, the frame at 2.0 green.
    for reader in READERS:
        (_, before), (_, at) = _opened(reader, "counter").frames_at([1.95, 2.0], WIDTH)
        red, green = before.reshape(-1, 3).mean(axis=0), at.reshape(-1, 3).mean(axis=0)
        assert red[0] > red[1] and green[1] > green[0], reader
    pictures = [_opened(reader, "goldeneye").frames_at([3.76, 8.76], WIDTH) for reader in READERS]
    for (_, first), (_, second) in zip(*pictures):
        assert np.abs(first.astype(int) - second.astype(int)).mean() < 8  # one frame, two decoders and scalers


@pytest.mark.parametrize("reader, name", sorted(REFUSED))
def test_a_reader_refuses_what_it_cannot_time_and_auto_uses_another(reader, name):
    path = video_path(name)
    with pytest.raises(UnreadableVideoError, match="--reader pyav or auto"):
        open_reader(path, probe(path), reader)
    reader = open_reader(path, probe(path), "auto")
    times = [f.time for f in reader.iter_frames()]
    assert len(times) == FRAMES[name] and np.all(np.diff(times) > 0)


@pytest.mark.parametrize("reader", READERS)
def test_the_exact_time_of_a_frame_late_in_a_long_video_gives_that_frame(reader):
    # Ten minutes in, float32 times (decord's) are off by up to 3e-5 s: asked for a frame at the exact time
    # the index holds for it (PyAV's, from the packets' timestamps), a reader must not return the frame before.
    path = video_path("bbb")
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stamps = sorted(packet.pts for packet in container.demux(stream) if packet.pts is not None)
        exact = [(pts - (stream.start_time or 0)) * float(stream.time_base) for pts in stamps]
    late = [exact[i] for i in range(len(exact) - 400, len(exact), 20)]
    got = _opened(reader, "bbb").frames_at(late, 64)
    np.testing.assert_allclose([t for t, _ in got], late, atol=TOLERANCE)


@pytest.mark.parametrize("reader", READERS)
def test_one_frame_converted_on_two_threads_at_once(reader):
    # ingest's text thread and its decoding pass both convert the gate frames that are also samples, at
    # different sizes; PyAV keeps one scaler per frame, which crashed the process when shared unguarded
    import threading

    path = video_path("trailer")
    frames = []
    for frame in open_reader(path, probe(path), reader).iter_frames():
        frames.append(frame)
        if len(frames) == 20:
            break
    expected = {(id(f), w): f.rgb(w) for f in frames for w in (320, 640)}
    wrong = []

    def convert(frame, widths, start: threading.Barrier) -> None:
        start.wait()
        for width in widths * 25:
            if not np.array_equal(frame.rgb(width), expected[(id(frame), width)]):
                wrong.append(width)

    for frame in frames:
        start = threading.Barrier(2)
        threads = [threading.Thread(target=convert, args=(frame, order, start)) for order in ([320, 640], [640, 320])]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not wrong


def test_a_skimming_pass_leaves_only_frames_nothing_refers_to_undeblocked():
    """Ingest's pass (`skim`) skips deblocking where no other frame is predicted from the result: those
    frames (the trailer's B-frames) differ by a fraction of a grey level, every other frame is exact."""
    path = video_path("trailer")
    exact = open_reader(path, probe(path), "pyav").iter_frames(start_time=20.0)
    skimmed = open_reader(path, probe(path), "pyav", skim=True).iter_frames(start_time=20.0)
    kinds: dict[str, list[float]] = {"exact": [], "changed": []}
    for _, a, b in zip(range(72), exact, skimmed):
        assert (a.index, a.time) == (b.index, b.time)
        difference = float(np.abs(a.rgb(640).astype(np.int16) - b.rgb(640)).mean())
        kinds["exact" if difference == 0 else "changed"].append(difference)
    assert len(kinds["exact"]) >= 24 and len(kinds["changed"]) >= 12, {k: len(v) for k, v in kinds.items()}
    assert max(kinds["changed"]) < 1.0


def test_a_skimming_reader_decodes_on_a_thread_that_ends_when_its_caller_stops_reading():
    """A skimming pass decodes a few frames ahead on a thread of its own (FFmpeg itself on one thread). A
    caller that stops early (a unit of work ends, an error) leaves no decoding thread behind, and the
    frames it got are every frame of the full pass, in order."""
    path = video_path("counter")
    every = [(f.index, f.time) for f in open_reader(path, probe(path), "pyav").iter_frames()]
    frames = open_reader(path, probe(path), "pyav", skim=True).iter_frames()
    first = [(f.index, f.time) for _, f in zip(range(5), frames)]
    assert any(t.name == "videoqa-decode" and t.is_alive() for t in threading.enumerate())
    frames.close()
    assert not any(t.name == "videoqa-decode" and t.is_alive() for t in threading.enumerate())
    assert first == every[:5]
    assert [(f.index, f.time) for f in open_reader(path, probe(path), "pyav", skim=True).iter_frames()] == every
