"""Tagging at ingest: a picture already tagged is not tagged again, and shares the tags it was given."""

from __future__ import annotations

from videoqa.memory.enrich import MODEL_IMAGE_WIDTH, Enricher, KeyframeJob, SampleJob, thumbnail_writer
from videoqa.memory.keyframes import signature
from videoqa.memory.readers import open_reader, probe
from videoqa.memory.store import KeyframeRow
from videoqa.models.efficientnet_tagger import EfficientNetTagger
from videoqa.models.registry import IndexModels, load_models
from videoqa.settings import IndexSettings

from .conftest import video_path


class CountingTagger(EfficientNetTagger):
    images = 0

    def tag(self, images):
        self.images += len(images)
        return super().tag(images)


def _frames_at(name: str, times: list[float]):
    """(time, index, RGB image, signature) of the first frame at or after each time."""
    path = video_path(name)
    found, wanted = [], sorted(times)
    for frame in open_reader(path, probe(path), "pyav").iter_frames():
        while wanted and frame.time >= wanted[0] - 1e-6:
            wanted.pop(0)
            found.append((frame.time, frame.index, frame.rgb(MODEL_IMAGE_WIDTH), signature(frame.detect_image(160))))
    return found


def test_a_keyframe_showing_the_picture_of_its_nearest_sample_shares_its_tags():
    # bikes.mp4 cuts to a new shot at 3.04 s: the keyframe at 2 s is the sample's own frame, the one at
    # 3.04 s shows a picture no sample shows.
    samples = [SampleJob(t, i, image, sig, None) for t, i, image, sig in _frames_at("bikes", [float(s) for s in range(10)])]
    keyframes = [KeyframeJob(t, image, sig, KeyframeRow(0, t, i, 1.0, f"thumbs/{i:08d}.jpg"))
                 for t, i, image, sig in _frames_at("bikes", [2.0, 3.04])]
    text = load_models(IndexSettings().text_model, False, None, False, None).text
    alone = CountingTagger()
    Enricher(IndexModels(text, alone), 1.0).frames(samples, [], thumbnail_writer({}, 320))
    tagger = CountingTagger()
    frames, tagged_keyframes, _ = Enricher(IndexModels(text, tagger), 1.0).frames(samples, keyframes, thumbnail_writer({}, 320))
    assert tagger.images == alone.images + 1
    assert tagged_keyframes[0].tags == frames[2].tags
    assert tagged_keyframes[0].vectors["visual"] is frames[2].vectors["visual"]
    assert float(tagged_keyframes[1].vectors["visual"] @ frames[3].vectors["visual"]) < 0.95  # tagged on its own
