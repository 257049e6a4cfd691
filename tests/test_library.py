"""Library ingest on a real local Ray cluster (started here on 127.0.0.1): four shared clips plus bbb.mp4 cut
into parts give the serial run's index, even with a worker and then the driver killed mid-run; a rerun
writes nothing; parts are joined as if the video had been read in one pass.

Settings kept honest but fast: tags, vectors, subtitles and the frames layer on; OCR and speech off (they
are per-frame and per-window work that units carry the same way, and would triple the time); bbb.mp4 is
cut into parts of at most 200 s (split_seconds; the default, 20 min, would leave it whole)."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import ray  # the test extra installs it

from videoqa import IndexSettings, VideoQA

from .conftest import run_cli, video_path

SETTINGS = IndexSettings(ocr=False, speech_model=None, split_seconds=200.0)
CLIPS = ("ted", "bikes", "testvideo", "rabbit")  # ted has subtitles beside it
QUERIES = ("a man speaking", "a bird in a tree", "a rabbit", "bicycle race", "creativity", "forest at sunset")


def _paths() -> list[Path]:
    return [video_path(name) for name in (*CLIPS, "bbb")]


def _rows(store: Path) -> dict:
    """Every row that describes the videos, without row ids or timestamps."""
    conn = sqlite3.connect(store / "index.sqlite")
    try:
        queries = {
            "videos": "SELECT id, duration, status, stages, resume_time, resume_frame, resume_shot FROM videos ORDER BY id",
            "scenes": "SELECT video_id, idx, shot, start, end, start_frame, end_frame FROM scenes ORDER BY video_id, idx",
            "keyframes": "SELECT video_id, scene_idx, time, frame, change, thumbnail, tags FROM keyframes ORDER BY video_id, time",
            "frames": "SELECT video_id, time, frame, tags FROM frames ORDER BY video_id, time",
            "texts": "SELECT video_id, start, end, source, text, meta FROM texts ORDER BY video_id, start, source, text",
            "vectors": "SELECT modality, video_id, kind, start, end, vec FROM vectors ORDER BY modality, video_id, kind, start, end, vec",
        }
        return {name: conn.execute(sql).fetchall() for name, sql in queries.items()}
    finally:
        conn.close()


def _search(store: Path) -> list:
    with VideoQA(store=store, index=SETTINGS) as api:
        return [[(m.video, round(m.start, 3), round(m.end, 3), round(m.score, 4)) for m in api.search(None, q, k=5)] for q in QUERIES]


def _dump_hash(store: Path) -> str:
    conn = sqlite3.connect(store / "index.sqlite")
    try:
        return hashlib.sha256("\n".join(conn.iterdump()).encode()).hexdigest()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def serial_store(tmp_path_factory) -> Path:
    store = tmp_path_factory.mktemp("serial")
    with VideoQA(store=store, index=SETTINGS) as api:
        for path in _paths():
            api.index(path)
    return store


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False, _node_ip_address="127.0.0.1")
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


def _worker_pids(title: bytes) -> list[int]:
    """Our cluster's ingest workers: processes below this one whose title names the actor."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if title in (entry / "cmdline").read_bytes() and _descends_from(int(entry.name), os.getpid()):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _descends_from(pid: int, ancestor: int) -> bool:
    while pid > 1:
        if pid == ancestor:
            return True
        status = Path(f"/proc/{pid}/status").read_text()
        pid = int(next(line.split()[1] for line in status.splitlines() if line.startswith("PPid:")))
    return False


def _committed(store: Path) -> bool:
    """Whether any unit is committed: a stage marked, or a part of a video (its resume time moved)."""
    try:
        conn = sqlite3.connect(store / "index.sqlite", timeout=5)
        try:
            return conn.execute("SELECT count(*) FROM videos WHERE stages != '[]' OR resume_time > 0").fetchone()[0] > 0
        finally:
            conn.close()
    except sqlite3.Error:
        return False


@pytest.fixture(scope="module")
def ray_store(tmp_path_factory, cluster) -> tuple[Path, list, int, bool]:
    """The library indexed on the cluster by `videoqa index --ray`: one worker is SIGKILLed while it computes,
    then the driver itself once a unit is committed; a second run on 2 workers completes it."""
    store = tmp_path_factory.mktemp("ray")
    driver = subprocess.Popen(
        [sys.executable, "-m", "videoqa.cli.main", "--store", str(store), "index", "-q", "--no-ocr", "--no-speech",
         "--split", str(SETTINGS.split_seconds), "--ray", cluster, *map(str, _paths())],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline, killed = time.monotonic() + 600, 0
        while not killed and driver.poll() is None and time.monotonic() < deadline:
            busy = _worker_pids(b"IngestWorker.compute")
            if busy:
                time.sleep(3.0)  # mid-unit: models loaded, frames decoded, nothing of this unit returned yet
                os.kill(busy[0], signal.SIGKILL)
                killed = busy[0]
            time.sleep(0.2)
        while not _committed(store) and driver.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        reached = _committed(store)
    finally:
        driver.kill()
        driver.wait()
    with VideoQA(store=store, index=SETTINGS) as api:
        reports = api.index_library(_paths(), 2)
    return store, reports, killed, reached


def test_library_on_ray_equals_the_serial_run_after_a_worker_and_the_driver_are_killed(serial_store, ray_store):
    store, reports, killed, reached = ray_store
    assert killed, "no worker was seen computing"
    assert reached, "the driver was killed before any unit was committed"
    assert all(r.status in ("indexed", "already indexed") for r in reports), [(r.path, r.status, r.error) for r in reports]
    assert any(r.status == "indexed" for r in reports), "the driver had finished before it was killed"
    serial, distributed = _rows(serial_store), _rows(store)
    for table in serial:
        assert distributed[table] == serial[table], table
    assert serial["scenes"] and serial["vectors"] and any(r[3] == "subtitle" for r in serial["texts"])
    thumbs = sorted(p.relative_to(store) for p in (store / "thumbs").rglob("*.jpg"))
    assert thumbs == sorted(p.relative_to(serial_store) for p in (serial_store / "thumbs").rglob("*.jpg"))
    assert _search(store) == _search(serial_store)


def test_rerun_is_a_no_op(ray_store):
    store = ray_store[0]
    before = _dump_hash(store)
    with VideoQA(store=store, index=SETTINGS) as api:
        started = time.monotonic()
        reports = api.index_library(_paths(), 2)
    assert [r.status for r in reports] == ["already indexed"] * 5
    assert _dump_hash(store) == before
    assert time.monotonic() - started < 30


def test_parts_are_joined_as_if_read_in_one_pass(serial_store, tmp_path):
    """bbb.mp4 cut into parts against bbb.mp4 read whole: the same shots (cuts within one frame), the same
    frames layer and texts; keyframes differ only where a part boundary starts a chunk."""
    whole = tmp_path / "whole"
    with VideoQA(store=whole, index=SETTINGS.replace(split_seconds=0)) as api:
        api.index(video_path("bbb"))
    parts, one = _rows(serial_store), _rows(whole)
    vid = one["videos"][0][0]

    def shot_starts(rows):
        starts, last = [], None
        for row in rows["scenes"]:
            if row[0] == vid and row[2] != last:
                starts.append(row[5])
                last = row[2]
        return starts

    split, read_whole = shot_starts(parts), shot_starts(one)
    assert len(split) == len(read_whole) > 100
    assert all(abs(a - b) <= 1 for a, b in zip(split, read_whole))
    for table in ("frames", "texts"):
        assert [r for r in parts[table] if r[0] == vid] == one[table], table
    boundaries = {r[3] for r in parts["scenes"] if r[0] == vid} - {r[3] for r in one["scenes"]}
    assert 1 <= len(boundaries) <= 3  # at most one extra chunk start per part boundary (3 boundaries)
    kept = {r[2:] for r in one["keyframes"]}
    extra = [r for r in parts["keyframes"] if r[0] == vid and r[2:] not in kept]
    assert all(min(abs(r[2] - b) for b in boundaries) < 1.0 for r in extra), extra


def test_cli_joins_a_cluster_reports_a_bad_file_and_goes_on(cluster, tmp_path):
    folder = tmp_path / "library"
    folder.mkdir()
    for name in ("counter", "ntu"):
        (folder / video_path(name).name).symlink_to(video_path(name))
    (folder / "broken.mp4").write_bytes(b"not a video at all")
    store = tmp_path / "store"
    result = run_cli("index", str(folder), "--ray", cluster, "--no-ocr", "--no-speech", store=store)
    assert result.returncode == 1, result.stderr
    failures = [line for line in result.stderr.splitlines() if "broken.mp4" in line]
    assert len(failures) == 1 and "Traceback" not in result.stderr, result.stderr
    table = result.stdout.splitlines()
    assert table[0].split()[:2] == ["video", "status"]
    assert any("counter.mp4" in line and "indexed" in line for line in table)
    assert any("broken.mp4" in line and "failed" in line for line in table)
    assert "2 of 3 videos indexed" in result.stdout


def test_workers_without_ray_says_how_to_get_it(tmp_path):
    code = ("import sys; sys.modules['ray'] = None; from videoqa.cli.main import main; "
            f"sys.exit(main(['--store', {str(tmp_path)!r}, 'index', {str(video_path('counter'))!r}, '--workers', '2']))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0 and "pip install" in result.stderr and "ray" in result.stderr, result.stderr


def test_text_on_screen_across_a_part_boundary_is_one_row(tmp_path):
    """A card shown across the cut between two parts (and tags that do not change there) give the rows one
    pass over the whole video gives: the second part's fresh read continues the first part's row."""
    import av
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    video = tmp_path / "card across the cut.mp4"
    with av.open(str(video), "w") as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv420p"
        stream.codec_context.gop_size = 10  # a keyframe every second, so the 6-s video is cut at 3 s
        font = ImageFont.load_default(size=30)
        for i in range(60):
            image = Image.new("RGB", (640, 360), (40, 90, 160))
            draw = ImageDraw.Draw(image)
            draw.ellipse((20 + 8 * i, 250, 80 + 8 * i, 310), fill=(230, 200, 40))  # something moves below the card
            draw.text((60, 80), "Welcome to the garden show", fill="white", font=font)
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.asarray(image), format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)

    def rows(split: float) -> list[tuple]:
        with VideoQA(store=tmp_path / f"split{split}", index=IndexSettings(speech_model=None, split_seconds=split)) as api:
            indexed = api.index(video)
            return [(r.source, r.text, round(r.start, 2), round(r.end, 2))
                    for r in api.store.texts(indexed.id, sources=["ocr", "tags"])]

    from videoqa.memory.readers import probe
    from videoqa.memory.units import split_points

    assert [t for t, _ in split_points(video, probe(video), 3.0)] == [3.0]  # two parts, cut where the card shows
    whole, parts = rows(0.0), rows(3.0)
    cards = [r for r in parts if r[0] == "ocr" and "garden" in r[1].lower()]
    assert len(cards) == 1 and cards[0][2] == 0.0 and cards[0][3] >= 5.0, parts
    assert parts == whole
