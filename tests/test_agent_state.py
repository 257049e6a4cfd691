"""Budgets and evidence live in the graph state: the graph as langgraph.json names it runs on
{"video", "question"} alone; concurrent threads keep their own budgets and evidence; a finish that crosses
the budget still answers; tool failures of any type are observations; questions over the whole library."""

from __future__ import annotations

import importlib.util
import json
import threading
from pathlib import Path

from videoqa.models.budget import Budget

from .conftest import scripted_api, tool_call
from .openai_server import ScriptedOpenAIServer

ROOT = Path(__file__).resolve().parents[1]




def test_the_graph_langgraph_json_names_answers_from_video_and_question_alone(store_dir, indexed, monkeypatch):
    module_path, function = json.loads((ROOT / "langgraph.json").read_text())["graphs"]["videoqa"].split(":")
    script = [tool_call("search_memory", query="TINA SEELIG", k=2),
              tool_call("finish", answer="The speaker is Tina Seelig.", moments=[{"start": 13, "end": 17, "why": "Tina Seelig"}])]
    with ScriptedOpenAIServer(script) as server:
        for name, value in {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "k", "VIDEOQA_CHAT_MODEL": "test-model",
                            "VIDEOQA_VLM": "none", "VIDEOQA_STORE": str(store_dir)}.items():
            monkeypatch.setenv(name, value)
        # as LangGraph's tooling does: the file by path, outside the package
        spec = importlib.util.spec_from_file_location("studio_graph", ROOT / module_path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        graph = getattr(module, function)()
        state = graph.invoke({"video": "test.mp4", "question": "Who is the speaker?"})
    assert state["video"] == indexed["ted"].id  # a file name, resolved through the store
    assert state["answer"]["answer"] == "The speaker is Tina Seelig." and state["answer"]["moments"]
    assert state["limits"] == Budget().limits() and state["usage"]["model_calls"] == 2


def test_two_threads_on_one_videoqa_keep_their_own_budgets_and_evidence(store_dir, indexed):
    # Every reply is the same search: each question runs until its own step limit.
    results = {}
    with ScriptedOpenAIServer([tool_call("search_memory", query="luck", k=2)]) as server, scripted_api(store_dir, server) as api:
        def ask(name, steps):
            results[name] = api.ask(indexed["ted"], f"What is luck? ({name})", thread=f"concurrent-{name}", max_steps=steps)

        workers = [threading.Thread(target=ask, args=("a", 2)), threading.Thread(target=ask, args=("b", 4))]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        graph = api._graph(api.chat_model())
        evidence = {n: graph.get_state({"configurable": {"thread_id": f"concurrent-{n}"}}).values["evidence"] for n in "ab"}
    assert results["a"].usage["model_calls"] == 2 and results["b"].usage["model_calls"] == 4
    assert results["a"].usage["steps"] == 2 and results["b"].usage["steps"] == 4
    assert len(evidence["a"]) == 4 and len(evidence["b"]) == 8  # 2 and 4 searches of 2 hits each
    assert [e["id"] for e in evidence["b"]] == [f"E{i}" for i in range(1, 9)]


def test_a_finish_that_crosses_the_budget_still_answers_and_an_unknown_price_is_said(store_dir, indexed):
    script = [tool_call("search_memory", query="TINA SEELIG", k=1),
              tool_call("finish", answer="The speaker is Tina Seelig.", moments=[{"start": 13, "end": 17, "why": "name"}])]
    with ScriptedOpenAIServer(script) as server, scripted_api(store_dir, server) as api:
        first = api.ask(indexed["ted"], "Who is the speaker?")
    # half of what the two calls cost: the first call stays under it, the second (the finish) crosses it
    half = (first.usage["input_tokens"] + first.usage["output_tokens"]) // 2
    with ScriptedOpenAIServer(script) as server, scripted_api(store_dir, server) as api:
        answer = api.ask(indexed["ted"], "Who is the speaker?", budget=Budget(max_tokens=half))
    assert answer.stop_reason == "budget:tokens"
    assert answer.text.startswith("The speaker is Tina Seelig.") and "Stopped early" in answer.text and answer.moments
    assert any("no price is known for model 'test-model'" in note for note in answer.usage["notes"])


def test_any_tool_failure_is_an_observation_naming_the_tool_and_arguments(store_dir, indexed):
    script = [tool_call("search_memory", query="luck", k="many"), tool_call("browse", start="the start", end=5),
              tool_call("finish", answer="Luck is not defined.", moments=[])]
    with ScriptedOpenAIServer(script) as server, scripted_api(store_dir, server) as api:
        answer = api.ask(indexed["ted"], "What is luck?")
    tools = [m["content"] for m in server.requests[-1]["body"]["messages"] if m["role"] == "tool"]
    assert tools[0].startswith('search_memory({"query": "luck", "k": "many"}) failed: ValidationError')
    assert tools[1].startswith('browse({"start": "the start", "end": 5}) failed: ValidationError')
    assert answer.stop_reason == "finished" and not answer.moments  # a negative answer points at nothing


def test_asking_over_the_library_names_the_video(store_dir, indexed):
    trailer = indexed["trailer"].id
    with scripted_api(store_dir) as api:
        retrieval = api.ask(None, "When does the text 'Revenge is coming' appear?")
    assert retrieval.moments[0]["video"] == trailer and "trailer_bbb.mp4" in retrieval.text
    script = [tool_call("search_memory", query="Revenge is coming", k=3),
              {"tool_calls": [{"name": "read_transcript", "arguments": {"start": 46, "end": 52, "video_id": trailer}}]},
              tool_call("finish", answer="It appears at 0:48 in the trailer.",
                    moments=[{"start": 47.5, "end": 51, "why": "Revenge is coming", "video_id": trailer}])]
    with ScriptedOpenAIServer(script) as server, scripted_api(store_dir, server) as api:
        answer = api.ask(None, "When does the text 'Revenge is coming' appear?")
    tools = server.requests[0]["body"]["tools"]
    assert any("video_id" in t["function"]["parameters"]["properties"] for t in tools)  # shown only over the library
    assert [m["video"] for m in answer.moments] == [trailer] and 47.5 <= answer.moments[0]["start"] < 49
    search_reply = next(m for m in server.requests[1]["body"]["messages"] if m["role"] == "tool")["content"]
    assert f"video_id {trailer}" in search_reply and "trailer_bbb.mp4" in search_reply


def test_retrieval_follow_ups_read_the_time_after_and_before_the_last_moment(store_dir, indexed):
    with scripted_api(store_dir) as api:
        first = api.ask(indexed["ted"], "What does she teach?", thread="follow-retrieval")
        after = api.ask(indexed["ted"], "and what does she say right after that?", thread="follow-retrieval")
        before = api.ask(indexed["ted"], "and before that?", thread="follow-retrieval")
    assert "entrepreneurship" in first.text.lower() and not first.text.lower().count("what does she teach")
    anchor = first.moments[0]
    assert after.text.startswith("Right after that") and after.moments[0]["start"] >= anchor["end"] - 0.1
    assert "SOUND EFFECT" not in after.text and after.moments[0]["end"] - after.moments[0]["start"] < 10
    assert before.text.startswith("Just before that") and before.moments[0]["end"] <= after.moments[0]["start"] + 0.1


def test_a_tool_call_written_as_text_is_run(store_dir, indexed):
    # small local models often write the call as JSON in the message instead of calling the tool
    script = [{"content": 'search_memory:\n{&#34;query&#34;: &#34;TINA SEELIG&#34;, &#34;k&#34;: 1}'},
              {"content": '{"name": "finish", "arguments": {"answer": "The speaker is Tina Seelig."}}'}]
    with ScriptedOpenAIServer(script) as server, scripted_api(store_dir, server) as api:
        events = list(api.stream(indexed["ted"], "Who is the speaker?"))
    assert [e.name for e in events[:-1]] == ["search_memory"] and events[0].args == {"query": "TINA SEELIG", "k": 1}
    assert events[-1].text == "The speaker is Tina Seelig." and events[-1].stop_reason == "finished"


def test_a_model_that_only_writes_calls_gets_the_evidence_quoted_with_its_moments(store_dir, indexed):
    # the packaged 0.5B model's way of failing: the same call written as text until the step limit, the last
    # one escaped twice and naming no real tool; none of it is an answer, and the user still gets the evidence
    written = 'search_memory:\n{&#34;query&#34;: &#34;teach&#34;}'
    for last in ('functions.read_it:\n{&#34;query&#34;: &amp;#34;teach&#34;}', "finish: What does she teach?",
                 "The answer is: What does she teach?"):
        script = [{"content": written}, {"content": written}, {"content": last}]
        with ScriptedOpenAIServer(script) as server, scripted_api(store_dir, server) as api:
            answer = api.ask(indexed["ted"], "What does she teach?", max_steps=3)
        assert "query" not in answer.text and "finish:" not in answer.text and "answer is" not in answer.text and "entrepreneurship" in answer.text.lower()
        assert any(m["start"] <= 25.6 and m["end"] >= 22.6 for m in answer.moments), answer.moments
        assert answer.text.count("I teach entrepreneurship") == 1  # two searches found it: quoted once


def test_an_unconfirmed_answer_points_at_the_evidence_it_quotes(store_dir, indexed):
    script = [tool_call("search_memory", query="teach"), tool_call("finish", answer="She teaches at Harvard University.")]
    with ScriptedOpenAIServer(script) as server, scripted_api(store_dir, server) as api:
        answer = api.ask(indexed["ted"], "What does she teach?")
    assert answer.text.startswith("I could not confirm") and "Harvard" in answer.text, answer.text
    quoted = answer.text.split("What the evidence shows:", 1)[1]
    assert answer.moments and all(f"{int(m['start']) // 60}:{int(m['start']) % 60:02d}" in quoted for m in answer.moments)
