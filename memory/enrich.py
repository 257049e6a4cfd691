"""What ingest learns about frames besides their time: visual tags and vectors, and the text embeddings of
everything that becomes text. Runs on a worker thread beside the decoding pass. (On-screen text is found
by `onscreen.TextTracker`, on a thread of its own.)"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import cv2
import numpy as np

from videoqa.models.registry import IndexModels

from .picture import brightness_word, colour_words, motion_word
from .store import KeyframeRow, NewFrame, NewKeyframe, NewText, TextRow

MODEL_IMAGE_WIDTH = 320  # frames go to taggers and CLIP at this width (they resize further themselves)
# The picture's and the speech's workers share one text model; its tokenizer must not be used by two threads.
_EMBEDDING = threading.Lock()
TAG_BATCH = 8  # images per tagger call: ONNX Runtime keeps the memory of its largest batch for the whole run
SAME_PICTURE = 1.5  # mean grey difference (0-255) of tiny images below which two frames count as one picture


@dataclass
class SampleJob:
    """A frames-layer sample, already converted: the decoded frame is not kept."""

    time: float
    index: int
    image: np.ndarray  # RGB, MODEL_IMAGE_WIDTH wide
    signature: np.ndarray
    change: float | None  # picture change since the previous sample


@dataclass
class KeyframeJob:
    time: float
    image: np.ndarray  # RGB, at least thumbnail and MODEL_IMAGE_WIDTH wide; the worker writes the thumbnail
    signature: np.ndarray
    row: KeyframeRow


@dataclass
class Enricher:
    models: IndexModels
    sample_step: float

    def embedders(self) -> dict[str, str]:
        """Modality -> model name, for every vector this enricher can make."""
        found = {"text": self.models.text.name}
        if self.models.tagger is not None:
            found["visual"] = self.models.tagger.name
        if self.models.clip is not None:
            found["clip"] = self.models.clip.name
        return found

    def frames(self, samples: list[SampleJob], keyframes: list[KeyframeJob], thumbnails) -> tuple[list[NewFrame], list[NewKeyframe], list[NewText]]:
        """Tags and vectors for samples and keyframes, and the tag text rows (embedded)."""
        for job in keyframes:
            thumbnails(job.row.thumbnail, job.image)
        images = [s.image for s in samples] + [_shrink(k.image, MODEL_IMAGE_WIDTH) for k in keyframes]
        signatures = [s.signature for s in samples] + [k.signature for k in keyframes]
        visual = self._tag(images, signatures, [s.index for s in samples], [k.row.frame for k in keyframes])
        clip = self.models.clip.embed_images(images) if self.models.clip else None

        def vectors(i: int) -> dict:
            found = {}
            if visual:
                found["visual"] = visual[i].features
            if clip is not None:
                found["clip"] = clip[i]
            return found

        new_frames = []
        run: list[tuple[float, str, list]] = []
        for i, sample in enumerate(samples):
            words = _picture_words(visual[i], sample.image, sample.change) if visual else []
            new_frames.append(NewFrame(sample.time, sample.index, words, vectors(i)))
            run.append((sample.time, ", ".join(words), words))
        texts = self._tag_rows(run)
        new_keyframes = []
        for j, job in enumerate(keyframes):
            i = len(samples) + j
            new_keyframes.append(NewKeyframe(job.row, _picture_words(visual[i], images[i], None) if visual else [], vectors(i)))
        self.embed(texts)
        return new_frames, new_keyframes, texts

    def _tag(self, images: list[np.ndarray], signatures: list[np.ndarray], sample_frames: list[int],
             keyframe_frames: list[int]) -> list:
        """Tag each image (the samples', then the keyframes'), except a sample that looks the same as the last
        sample tagged, or a keyframe that is a sample's very frame (37 of bbb.mp4's 149): it shares that one's
        result. (Static shots are common; the tagger is the most expensive model at ingest.) A keyframe is
        matched by its frame, not by its look: a look-alike sample may fall in another checkpoint, and a
        video read in parts must get the tags it gets read whole."""
        if self.models.tagger is None:
            return []
        results: list = [None] * len(images)
        todo: list[int] = []
        same_as: dict[int, int] = {}
        reference: int | None = None
        for i, sig in enumerate(signatures[: len(sample_frames)]):
            if reference is not None and float(np.abs(sig - signatures[reference]).mean()) < SAME_PICTURE:
                same_as[i] = reference
            else:
                reference = i
                todo.append(i)
        by_frame = {frame: i for i, frame in enumerate(sample_frames)}
        for i, frame in enumerate(keyframe_frames, start=len(sample_frames)):
            if (sample := by_frame.get(frame)) is not None:
                same_as[i] = same_as.get(sample, sample)
            else:
                todo.append(i)
        for first in range(0, len(todo), TAG_BATCH):
            part = todo[first : first + TAG_BATCH]
            for i, tags in zip(part, self.models.tagger.tag([images[i] for i in part])):
                results[i] = tags
        for i, ref in same_as.items():
            results[i] = results[ref]
        return results

    def _tag_rows(self, run: list[tuple[float, str, list]]) -> list[NewText]:
        """One row per stretch of consecutive samples with the same tags."""
        rows: list[NewText] = []
        for time, text, words in run:
            if not text:
                continue
            if rows and rows[-1].row.text == text and time - rows[-1].row.end < 1e-3 + self.sample_step * 0.5:
                last = rows[-1].row
                rows[-1] = NewText(TextRow(last.start, time + self.sample_step, "tags", text, last.meta))
            else:
                rows.append(NewText(TextRow(time, time + self.sample_step, "tags", text, {"tags": words})))
        return rows

    def embed(self, texts: list[NewText]) -> None:
        """Text vectors for new rows. A tag row ("bird, tree, green") is the normalised mean of its words'
        vectors: the tagger's vocabulary is small, so each word is embedded once per process, where embedding
        every row (nearly all differ) cost more CPU than tagging itself."""
        if not texts:
            return
        tagged = [t for t in texts if t.row.source == "tags" and t.row.meta.get("tags")]
        rest = [t for t in texts if not (t.row.source == "tags" and t.row.meta.get("tags"))]
        with _EMBEDDING:
            vectors = self.models.text.embed_texts([t.row.text for t in rest]) if rest else []
            words = _word_vectors(self.models.text, {w for t in tagged for w in t.row.meta["tags"]})
        for text, vector in zip(rest, vectors):
            text.vectors["text"] = vector
        for text in tagged:
            mean = np.mean([words[w] for w in text.row.meta["tags"]], axis=0)
            text.vectors["text"] = (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32)


_WORDS: dict[tuple[str, str], np.ndarray] = {}  # (text model, word) -> vector; guarded by _EMBEDDING


def _word_vectors(model, words: set[str]) -> dict[str, np.ndarray]:
    missing = sorted(w for w in words if (model.name, w) not in _WORDS)
    if missing:
        for word, vector in zip(missing, model.embed_texts(missing)):
            _WORDS[(model.name, word)] = vector
    return {w: _WORDS[(model.name, w)] for w in words}


def _picture_words(tags, image: np.ndarray, change: float | None) -> list[str]:
    """Tagger labels plus cheap picture facts (colours, dark/bright, motion): the frame's searchable words."""
    facts = [w for w in (brightness_word(image), motion_word(change)) if w]
    return [name for name, _ in tags.labels] + colour_words(image) + facts


def _shrink(image: np.ndarray, width: int) -> np.ndarray:
    if image.shape[1] <= width:
        return image
    height = round(image.shape[0] * width / image.shape[1])
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)


def thumbnail_writer(files: dict[str, bytes], thumbnail_width: int):
    """Encode thumbnails into `files` (relative path -> JPEG bytes); the checkpoint that names them carries
    them to the store, so a worker on another machine writes nothing itself."""
    def write(relative: str, image: np.ndarray) -> None:
        small = cv2.cvtColor(_shrink(image, thumbnail_width), cv2.COLOR_RGB2BGR)
        files[relative] = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes()

    return write
