"""Search: text and image hits from every source, calibrated onto one scale, merged into moments.

Why calibrate: cosine scores of different models (MiniLM on text, CLIP on frames) live on different
scales, so they cannot be compared as they are. Each hit's raw similarity is turned into a z-score
against the same query's similarity to a fixed random sample of that modality's vectors ("how far
above a typical item of this kind is this hit"), plus a lexical bonus when the text contains the query's
words (OCR and subtitles often hold the exact phrase). The z-score goes through a logistic curve to a
0-1 score: 0.5 means two standard deviations above typical."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from videoqa.errors import QueryError, VideoNotIndexedError
from videoqa.models.registry import IndexModels

from . import thumbnails
from .store import Store
from .vectors import check_embedder

CANDIDATES = 200  # hits per modality before merging
MERGE_GAP = 1.0  # seconds between hits that still make one moment
MAX_MOMENT = 30.0  # seconds: a moment never grows longer than this by merging
Z_MIDPOINT = 2.0
JOIN_MARGIN = 1.0  # a hit joins a stronger overlapping one if its z-score is at most this much lower


@dataclass
class Hit:
    video: str
    start: float
    end: float
    source: str  # frame | keyframe | tags | ocr | subtitle | transcript | caption
    z: float
    text: str = ""


@dataclass
class Moment:
    video: str
    start: float
    end: float
    score: float
    sources: list[str] = field(default_factory=list)
    text: str = ""
    thumbnail: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def search(store: Store, models: IndexModels, query: str, video_ids: Sequence[str] | None = None, k: int = 5) -> list[Moment]:
    """The `k` best moments for `query` in the given videos (all indexed videos when None)."""
    query = " ".join((query or "").split())
    if not query:
        raise QueryError("The query is empty. Say what to look for, e.g. videoqa search VIDEO \"red car\".")
    if k < 1:
        raise QueryError(f"-k must be at least 1 (got {k}).")
    for vid in video_ids or []:
        row = store.video_row(vid)
        if row is None or row.status != "ready":
            raise VideoNotIndexedError(f"Video {vid} is not (fully) indexed. Run: videoqa index PATH")
    hits = _text_hits(store, models, query, video_ids)
    if models.clip is not None and store.embedder("clip") is not None:
        hits += _clip_hits(store, models, query, video_ids)
    return _moments(store, hits, k)


def _text_hits(store: Store, models: IndexModels, query: str, video_ids: Sequence[str] | None) -> list[Hit]:
    if store.embedder("text") is None:
        return []
    vector = models.text.embed_texts([query])[0]  # loads the model, which fixes its real dimension
    check_embedder(store.conn, "text", models.text.name, len(vector), store.root)
    ids, scores = _nearest(store, "text", vector, video_ids)
    mean, std = _background(store, "text", vector)
    rows = store.vector_rows(ids)
    texts = store.text_rows([rows[i][2] for i in ids if i in rows])
    words = _words(query)
    hits = []
    for vid, score in zip(ids, scores):
        video, _, ref, start, end = rows[vid]
        text = texts.get(ref)
        if text is None:
            continue
        z = (score - mean) / std + _lexical_bonus(words, query, text.text)
        hits.append(Hit(video, text.start, text.end, text.source, z, text.text))
    return hits


def _clip_hits(store: Store, models: IndexModels, query: str, video_ids: Sequence[str] | None) -> list[Hit]:
    vector = models.clip.embed_texts([query])[0]
    check_embedder(store.conn, "clip", models.clip.name, len(vector), store.root)
    ids, scores = _nearest(store, "clip", vector, video_ids)
    mean, std = _background(store, "clip", vector)
    rows = store.vector_rows(ids)
    return [
        Hit(rows[i][0], rows[i][3], rows[i][4], rows[i][1], (s - mean) / std)
        for i, s in zip(ids, scores) if i in rows
    ]


def _nearest(store: Store, modality: str, vector: np.ndarray, video_ids: Sequence[str] | None) -> tuple[list[int], list[float]]:
    if video_ids:
        # One video (or a few): exact search over just their vectors beats filtering a store-wide index.
        ids, scores = [], []
        for video in video_ids:
            rows, matrix = store.video_vectors(modality, video)
            if not rows:
                continue
            sims = matrix @ vector
            best = np.argsort(-sims)[:CANDIDATES]
            ids += [rows[i][0] for i in best]
            scores += [float(sims[i]) for i in best]
        return ids, scores
    index = store.vector_index(modality)
    index.sync()
    found_scores, found_ids = index.search(vector[None, :], CANDIDATES)
    keep = found_ids[0] >= 0
    return [int(i) for i in found_ids[0][keep]], [float(s) for s in found_scores[0][keep]]


def _background(store: Store, modality: str, vector: np.ndarray) -> tuple[float, float]:
    sample = store.vector_index(modality).background_vectors()
    if len(sample) < 2:
        return 0.0, 0.1
    sims = sample @ vector
    return float(sims.mean()), max(float(sims.std()), 0.02)


def _words(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) > 1]


def _squash(text: str) -> str:
    return "".join(re.findall(r"[a-z0-9]+", text.lower()))


def _lexical_bonus(words: list[str], query: str, text: str) -> float:
    """Exact phrase (ignoring spaces and case, as OCR often drops spaces): +3; else +1.5 x word overlap."""
    squashed_query = _squash(query)
    if len(squashed_query) >= 4 and squashed_query in _squash(text):
        return 3.0
    if not words:
        return 0.0
    present = set(_words(text))
    return 1.5 * sum(1 for w in words if w in present) / len(words)


def _moments(store: Store, hits: list[Hit], k: int) -> list[Moment]:
    """Greedy: the strongest hit not yet covered seeds a moment; hits that overlap it (within MERGE_GAP)
    and are nearly as strong join it and widen its span. Weaker overlapping hits are dropped as echoes."""
    hits = sorted(hits, key=lambda h: -h.z)
    by_video: dict[str, list[Hit]] = {}
    for hit in hits:
        by_video.setdefault(hit.video, []).append(hit)
    moments: list[Moment] = []
    covered: list[tuple[str, float, float]] = []
    for seed in hits:
        if len(moments) == k:
            break
        if any(v == seed.video and seed.start <= e + MERGE_GAP and seed.end >= s - MERGE_GAP for v, s, e in covered):
            continue
        start, end, sources = seed.start, seed.end, [seed.source]
        for other in by_video[seed.video]:  # strongest first: stop once they are too weak to join
            if other.z < seed.z - JOIN_MARGIN:
                break
            if other is seed:
                continue
            if other.start <= end + MERGE_GAP and other.end >= start - MERGE_GAP:
                if max(end, other.end) - min(start, other.start) <= MAX_MOMENT:
                    start, end = min(start, other.start), max(end, other.end)
                    if other.source not in sources:
                        sources.append(other.source)
        score = min(1.0, _logistic(seed.z - Z_MIDPOINT) + 0.05 * (len(sources) - 1))
        keyframe = store.nearest_keyframe(seed.video, (seed.start + seed.end) / 2)
        thumbnail = thumbnails.ensure(store, seed.video, keyframe) if keyframe else None  # remade if it went missing
        moments.append(Moment(seed.video, start, end, score, sources, seed.text, thumbnail))
        covered.append((seed.video, start, end))
    moments.sort(key=lambda m: -m.score)
    return moments


def _logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))
