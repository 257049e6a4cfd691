"""Search: text and image hits from every source, calibrated onto one scale, merged into moments.

Why calibrate: cosine scores of different models (MiniLM on text, CLIP on frames) live on different
scales, so they cannot be compared as they are. Each hit's raw similarity is turned into a z-score
against the same query's similarity to a fixed random sample of that modality's vectors ("how far
above a typical item of this kind is this hit"), plus a lexical bonus when the text holds the query's
words. The lexical side is fuzzy (RapidFuzz on text with spaces, case and OCR look-alikes folded), and it
finds rows of its own, so on-screen text misread by a letter, or a query with a typo, still lands on its
row even when the embedding does not rank it. The z-score goes through a logistic curve to a 0-1 score:
0.5 means two standard deviations above typical.

A moment is as long as its evidence: the strongest hit seeds it and only hits that lie mostly inside the
seed's span join it, so a chain of weak neighbours cannot grow a long moment; each other source that
agrees on those seconds adds to the score."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from videoqa.errors import QueryError, VideoNotIndexedError
from videoqa.models.registry import IndexModels

from . import thumbnails
from .store import Store
from .textmatch import fuzzy_containment, same_words, similarity, squash
from .vectors import check_embedder

CANDIDATES = 200  # hits per modality before merging
Z_MIDPOINT = 2.0
JOIN_MARGIN = 1.0  # a hit joins a stronger overlapping one if its z-score is at most this much lower
JOIN_OVERLAP = 0.5  # ... and if at least this share of it lies inside the seed's span
CONTIGUOUS_LIMIT = 4.0  # an abutting stretch of the same evidence grows to at most this many times the seed
ABUT = 0.1  # seconds between two hits that still count as touching
SAME_TEXT = 85  # RapidFuzz ratio (0-100) above which two hits say the same
AGREEING_SOURCE = 0.5  # z added for each other source that agrees on the seed's seconds
EXACT_TEXT = 3.0  # z added when the text holds the query verbatim (spaces and case aside)
FUZZY_FLOOR = 0.65  # fuzzy containment (0-1) below which the lexical bonus is only word overlap
FUZZY_FULL = 0.85  # ... and from which it is full: one letter off in a six-letter name is 0.83
CARD_GAP = 1.5  # line heights between two on-screen lines of one card
CARD_SHARED = 0.5  # ... which are shown together for at least this share of the shorter one's span
LEXICAL_SOURCES = ("ocr", "subtitle", "transcript", "caption")
# A text embedding's z saturates above this: past it, meaning-alike is weaker evidence than words-alike
# (MiniLM finds all short nonsense words alike, so a misread OCR scrap can sit 4 z above typical).
Z_SATURATES = 2.5


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
    similarity = {rows[i][2]: _saturate((s - mean) / std) for i, s in zip(ids, scores) if i in rows}
    # Rows the embedding did not rank but whose words match (a misread name, a typo in the query).
    for ref, z in _lexical_candidates(store, query, video_ids).items():
        similarity.setdefault(ref, z)
    texts = store.text_rows(list(similarity))
    videos = _text_videos(store, list(texts))
    words = _words(query)
    layouts: dict[str, _OcrLayout] = {}  # per video, loaded once per search
    hits = []
    for ref, z in similarity.items():
        text = texts.get(ref)
        if text is None:
            continue
        bonus = _lexical_bonus(words, query, text.text, fuzzy=text.source in LEXICAL_SOURCES)
        if text.source == "ocr" and bonus < EXACT_TEXT and len(card := _card_lines(layouts, store, videos[ref], ref, text)) > 1:
            # A card's lines are rows of their own: "Produced by" above "Ton Roosendaal" holds the query only
            # read together. The row's own line must be part of the match: in a roll, the lines around one
            # line are not its card.
            together = _lexical_bonus(words, query, " ".join(card))
            if together > bonus and together > _lexical_bonus(words, query, " ".join(line for line in card if line != text.text)):
                bonus = together
        hits.append(Hit(videos[ref], text.start, text.end, text.source, z + bonus, text.text))
    return hits


@dataclass
class _OcrLayout:
    """One video's OCR rows as arrays: where each line was (its box when its row was written) and when."""

    ids: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    boxes: np.ndarray  # rows of x0, y0, x1, y1
    texts: list[str]

    @classmethod
    def load(cls, store: Store, video: str) -> "_OcrLayout":
        rows = []
        for ref, start, end, text, meta in store.conn.execute(
                "SELECT id, start, end, text, meta FROM texts WHERE video_id=? AND source='ocr'", (video,)):
            box = json.loads(meta).get("box")
            if box and len(box) == 4:
                rows.append((ref, start, end, text, box))
        return cls(np.array([r[0] for r in rows], np.int64), np.array([r[1] for r in rows], np.float64),
                   np.array([r[2] for r in rows], np.float64), np.array([r[4] for r in rows], np.float64).reshape(-1, 4),
                   [r[3] for r in rows])


def _card_lines(layouts: dict[str, _OcrLayout], store: Store, video: str, ref: int, row) -> list[str]:
    """The on-screen line `row` with the lines of its card: OCR rows shown over mostly the same
    seconds, stacked within CARD_GAP line heights of it and overlapping it across; in reading order, which
    is the order they appeared in, and top to bottom among lines that appeared together (a row's box is
    where the line was when the row was written: a roll moves it)."""
    box = row.meta.get("box")
    if not box or len(box) != 4:
        return [row.text]
    if video not in layouts:
        layouts[video] = _OcrLayout.load(store, video)
    layout = layouts[video]
    others = layout.boxes
    shared = np.minimum(layout.ends, row.end) - np.maximum(layout.starts, row.start)
    gap = np.maximum(others[:, 1] - box[3], box[1] - others[:, 3])
    across = np.minimum(others[:, 2], box[2]) - np.maximum(others[:, 0], box[0])
    card = ((layout.starts < row.end) & (layout.ends > row.start) & (layout.ids != ref) & (across > 0)
            & (shared >= CARD_SHARED * np.minimum(layout.ends - layout.starts, row.end - row.start))
            & (gap <= CARD_GAP * (box[3] - box[1])))
    lines = [(row.start, box[1], row.text)] + [(layout.starts[i], others[i, 1], layout.texts[i]) for i in np.flatnonzero(card)]
    return [text for _, _, text in sorted(lines)]


def _saturate(z: float) -> float:
    return z if z <= Z_SATURATES else Z_SATURATES + 0.3 * (z - Z_SATURATES)


def _lexical_candidates(store: Store, query: str, video_ids: Sequence[str] | None) -> dict[int, float]:
    """Text rows whose words fuzzily hold the query -> a neutral embedding z of 0 (they are scored by
    their lexical bonus). Only worth it for queries with some letters to match."""
    if len(squash(query)) < 4:
        return {}
    sql = f"SELECT id, text FROM texts WHERE source IN ({','.join('?' * len(LEXICAL_SOURCES))})"
    params: list[object] = list(LEXICAL_SOURCES)
    if video_ids:
        sql += f" AND video_id IN ({','.join('?' * len(video_ids))})"
        params += list(video_ids)
    found = {}
    for ref, text in store.conn.execute(sql, params):
        if fuzzy_containment(query, text) >= FUZZY_FLOOR:
            found[ref] = 0.0
    return found


def _text_videos(store: Store, refs: list[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    for i in range(0, len(refs), 900):
        part = refs[i : i + 900]
        for ref, video in store.conn.execute(f"SELECT id, video_id FROM texts WHERE id IN ({','.join('?' * len(part))})", part):
            found[ref] = video
    return found


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


def _lexical_bonus(words: list[str], query: str, text: str, fuzzy: bool = True) -> float:
    """The query verbatim in the text (spaces, case and OCR look-alikes aside): +3, and up to +0.5 more the
    less else the text holds (a card that says just that beats a long line that includes it); nearly
    verbatim (a letter or two off, only where `fuzzy`: text read or heard, not a list of tag words): up to
    +3; else +1.5 x the share of query words present."""
    overlap = 1.5 * sum(1 for w in words if w in set(_words(text))) / len(words) if words else 0.0
    containment = fuzzy_containment(query, text)
    if not fuzzy and containment < 1.0:
        return overlap
    if containment < FUZZY_FLOOR:
        return overlap
    fuzzy = EXACT_TEXT * min(1.0, (containment - FUZZY_FLOOR) / (FUZZY_FULL - FUZZY_FLOOR))
    return max(overlap, fuzzy + 0.5 * containment * similarity(query, text) / 100.0)


def _moments(store: Store, hits: list[Hit], k: int) -> list[Moment]:
    """Greedy: the strongest hit not yet covered seeds a moment; hits that lie mostly inside the seed's
    span and are nearly as strong join it (and may widen it a little); each other source among them adds
    to the score. Weaker overlapping hits are dropped as echoes."""
    hits = sorted(hits, key=lambda h: -h.z)
    by_video: dict[str, list[Hit]] = {}
    for hit in hits:
        by_video.setdefault(hit.video, []).append(hit)
    moments: list[Moment] = []
    covered: list[tuple[str, float, float]] = []
    for seed in hits:
        if len(moments) == k:
            break
        if any(v == seed.video and seed.start < e and seed.end > s for v, s, e in covered):
            continue
        start, end, sources = seed.start, seed.end, [seed.source]
        strong = [h for h in by_video[seed.video] if h.z >= seed.z - JOIN_MARGIN and h is not seed]  # strongest first
        for other in strong:
            inside = min(seed.end, other.end) - max(seed.start, other.start)
            if inside >= JOIN_OVERLAP * (other.end - other.start):
                start, end = min(start, other.start), max(end, other.end)
                if other.source not in sources:
                    sources.append(other.source)
        start, end = _contiguous(seed, strong, start, end)
        z = seed.z + AGREEING_SOURCE * (len(sources) - 1)
        keyframe = store.nearest_keyframe(seed.video, (seed.start + seed.end) / 2)
        thumbnail = thumbnails.ensure(store, seed.video, keyframe) if keyframe else None  # remade if it went missing
        moments.append(Moment(seed.video, start, end, _logistic(z - Z_MIDPOINT), sources, seed.text, thumbnail))
        covered.append((seed.video, start, end))
    moments.sort(key=lambda m: -m.score)
    return moments


def _contiguous(seed: Hit, strong: list[Hit], start: float, end: float) -> tuple[float, float]:
    """Hits of the seed's source that abut the moment and say the same (the same tags on consecutive
    frames-layer seconds, one line seen on the next sample) are one stretch of evidence, not separate
    moments; the stretch grows to at most CONTIGUOUS_LIMIT times the seed's length."""
    limit = CONTIGUOUS_LIMIT * max(seed.end - seed.start, 1.0)
    same = [h for h in strong if h.source == seed.source and same_words(h.text, seed.text, SAME_TEXT)]
    grew = True
    while grew:
        grew = False
        for other in same:
            abuts = other.start <= end + ABUT and other.end >= start - ABUT
            if abuts and (other.start < start or other.end > end) and max(end, other.end) - min(start, other.start) <= limit:
                start, end, grew = min(start, other.start), max(end, other.end), True
    return start, end


def _logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))
