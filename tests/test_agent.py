"""The full agent graph against a real loopback server speaking the OpenAI wire format, whose replies are
scripted here; the tools really run on real indexed videos."""

from __future__ import annotations

import json

import pytest

from videoqa.errors import ModelServerError
from videoqa.models.budget import Budget
from videoqa.results import ToolEvent

from .conftest import run_cli, scripted_api, tool_call
from .openai_server import ScriptedOpenAIServer




def test_graph_runs_real_tools_and_catches_fabricated_times(store_dir, indexed):
    script = [
        tool_call("search_memory", query="TINA SEELIG", k=1),
        tool_call("read_transcript", start=14, end=20),
        tool_call("finish", answer="The speaker is Tina Seelig; her name is shown at about 0:16.",
              moments=[{"start": 13, "end": 17, "why": "lower third", "evidence_ids": ["E1"]},
                       {"start": 500, "end": 510, "why": "fabricated: after the end of the video"},
                       {"start": 8, "end": 9, "why": "fabricated: nothing gathered there", "evidence_ids": ["E1"]}]),
    ]
    with ScriptedOpenAIServer(script) as server, scripted_api(store_dir, server) as api:
        events = list(api.stream(indexed["ted"], "What is the speaker's name?"))
    answer = events[-1]
    tool_events = [e for e in events if isinstance(e, ToolEvent)]
    assert [e.name for e in tool_events] == ["search_memory", "read_transcript"]
    assert "1 moment" in tool_events[0].summary and "1 moments" not in tool_events[0].summary
    assert answer.text == "The speaker is Tina Seelig; her name is shown at about 0:16."  # every claim found in evidence
    assert len(answer.moments) == 1 and answer.moments[0]["evidence_ids"][0] == "E1"
    assert 13 <= answer.moments[0]["start"] < answer.moments[0]["end"] <= 17  # trimmed to its evidence
    reasons = {(d["start"], d["reason"].split(" (")[0]) for d in answer.dropped}
    assert (500.0, "outside the video") in reasons and (8.0, "no evidence gathered for this question covers this time") in reasons
    # the evidence is real: it is what the store holds
    e1 = next(e for e in answer.evidence if e["id"] == "E1")
    assert "TINA" in e1["text"].upper() and e1["video"] == indexed["ted"].id
    assert answer.usage["steps"] == 3 and answer.usage["model_calls"] == 3 and answer.stop_reason == "finished"
    second = server.requests[1]["body"]["messages"]
    tool_reply = next(m for m in second if m["role"] == "tool")
    assert "TINASEELIG" in tool_reply["content"] and tool_reply["tool_call_id"] == "call_0"


def test_a_planner_that_never_stops_is_stopped_by_the_step_budget(store_dir, indexed):
    with ScriptedOpenAIServer([tool_call("search_memory", query="luck")]) as server, scripted_api(store_dir, server) as api:
        answer = api.ask(indexed["ted"], "What is luck?", max_steps=3)
    assert answer.stop_reason == "max_steps" and len(server.requests) == 3
    assert answer.text.startswith("I could not finish the analysis (the step limit was reached).")
    assert "luck" in answer.text.lower() and "'" in answer.text  # it quotes the evidence it found
    assert answer.moments and all(0 <= m["start"] <= m["end"] <= indexed["ted"].duration for m in answer.moments)


def test_frame_budget_stops_inspection(store_dir, indexed):
    # The first inspection is thinned to the 4 frames the budget allows; the second finds nothing left.
    script = [tool_call("inspect_frames", start=0, end=20, fps=1, question="what is shown?"), {"content": "A stage."},
              tool_call("inspect_frames", start=20, end=40, fps=1, question="and then?"), {"content": "never sent"}]
    with ScriptedOpenAIServer(script) as server, scripted_api(store_dir, server) as api:
        api.tool_context().vlm = api.chat_model()  # the scripted server is the VLM too
        answer = api.ask(indexed["ted"], "What is on screen?", budget=Budget(max_frames=4))
    assert answer.stop_reason == "budget:frames"
    assert answer.usage["frames_sent"] == 4  # never more than the budget
    images = sum(p.get("type") == "image_url" for r in server.requests for m in r["body"]["messages"]
                 if isinstance(m.get("content"), list) for p in m["content"])
    assert images == 4


def test_robust_to_no_tool_call_and_malformed_arguments(store_dir, indexed):
    script = [
        {"content": "I think it is at 0:14."},  # no tool call: the graph searches first
        {"tool_calls": [{"name": "read_transcript", "arguments": "{start: 12, end"}]},  # malformed JSON
        {"tool_calls": [{"name": "no_such_tool", "arguments": {}}]},
        tool_call("finish", answer="At 0:12 she says she spent two decades observing luck.",
              moments=[{"start": 12.4, "end": 18.6, "why": "the sentence"}]),
    ]
    with ScriptedOpenAIServer(script) as server, scripted_api(store_dir, server) as api:
        answer = api.ask(indexed["ted"], "When does she mention two decades?")
    messages = server.requests[-1]["body"]["messages"]
    contents = [m.get("content") or "" for m in messages]
    auto = [m for m in messages if m["role"] == "tool" and m["tool_call_id"].startswith("auto_search")]
    assert len(auto) == 1 and "decades" in auto[0]["content"]  # the automatic search is a tool result, not a user turn
    assert [m["role"] for m in messages].count("user") == 1
    assert any("not valid JSON" in c for c in contents) and any("unknown tool 'no_such_tool'" in c for c in contents)
    assert answer.moments and abs(answer.moments[0]["start"] - 12.4) < 0.1 and answer.moments[0]["evidence_ids"]


def test_follow_up_sees_earlier_turns_after_a_restart(store_dir, indexed):
    first = [tool_call("search_memory", query="TINA SEELIG", k=1), tool_call("finish", answer="She is Tina Seelig.", moments=[])]
    with ScriptedOpenAIServer(first) as server, scripted_api(store_dir, server) as api:
        answer = api.ask(indexed["ted"], "Who is the speaker?", thread="restart-thread")
    assert answer.thread == "restart-thread"
    with ScriptedOpenAIServer([{"content": "She teaches entrepreneurship (0:22)."}]) as server, scripted_api(store_dir, server) as api:
        follow = api.ask(indexed["ted"], "And what does she teach?", thread="restart-thread")
    sent = server.requests[0]["body"]["messages"]
    texts = " ".join(m.get("content") or "" for m in sent)
    assert "Who is the speaker?" in texts and "She is Tina Seelig." in texts and "And what does she teach?" in texts
    assert follow.text.startswith("She teaches")


def test_a_failing_server_leaves_the_conversation_as_it_was(store_dir, indexed):
    with ScriptedOpenAIServer([{"content": "Luck is chance (0:35)."}]) as server, scripted_api(store_dir, server) as api:
        api.ask(indexed["ted"], "What is luck?", thread="rollback-thread")
        graph = api._graph(api.chat_model())
        config = {"configurable": {"thread_id": "rollback-thread"}}
        before = len(graph.get_state(config).values["messages"])
        server.replies = [{"status": 401}]
        with pytest.raises(ModelServerError):
            api.ask(indexed["ted"], "And then?", thread="rollback-thread")
        after = graph.get_state(config).values["messages"]
        assert len(after) == before and "And then?" not in " ".join(str(m.content) for m in after)


def test_retrieval_only_answers_when_the_bird_appears(store_dir, indexed):
    with scripted_api(store_dir) as api:
        answer = api.ask(indexed["bbb"], "when does the bird appear?")
    assert answer.mode == "retrieval" and "chat model" in answer.text
    assert any(15.0 <= m["start"] and m["end"] <= 21.0 for m in answer.moments), answer.moments


def test_ask_cli_json(store_dir, indexed, monkeypatch):
    script = [tool_call("search_memory", query="Revenge is coming"),
              tool_call("finish", answer="At 0:48 the text says &#34;Revenge is coming&#34;.", moments=[{"start": 48, "end": 51}])]
    with ScriptedOpenAIServer(script) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "k")
        monkeypatch.setenv("VIDEOQA_CHAT_MODEL", "test-model")
        monkeypatch.setenv("VIDEOQA_VLM", "none")
        result = run_cli("ask", "trailer_bbb.mp4", "When is revenge coming?", "--json", store=store_dir)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert set(document) >= {"answer", "moments", "evidence", "usage"}
    assert document["answer"] == 'At 0:48 the text says "Revenge is coming".'  # entities from small models decoded
    assert set(document["usage"]) >= {"steps", "model_calls", "frames_sent", "input_tokens", "output_tokens", "seconds"}
    assert document["moments"][0]["start"] == 48 and document["moments"][0]["evidence_ids"]
    assert result.stderr == ""  # --json: stdout holds the document, and nothing else is said
    with ScriptedOpenAIServer(script) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        shown = run_cli("ask", "trailer_bbb.mp4", "When is revenge coming?", store=store_dir)
    assert shown.returncode == 0 and "searching 'Revenge is coming'" in shown.stderr and "0:48" in shown.stdout
