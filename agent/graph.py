"""The agent: a LangGraph StateGraph, begin → plan ⇄ tools → answer, with a SQLite checkpointer so a
thread's conversation survives restarts.

Dependencies (chat model, tool context) are bound when the graph is built. Everything a question needs
beyond them is in the state: the video (resolved by `begin` from an id, a path or a file name), its limits
and usage, so the same compiled graph runs from the API, the CLI and LangGraph's own tooling with nothing
but {"video", "question"} as input."""

from __future__ import annotations

import html
import json
import re

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, SystemMessage, ToolMessage
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph

from videoqa.errors import BudgetExceededError
from videoqa.models.base import ChatMessage, ChatModel, ToolCall
from videoqa.models.budget import Budget
from videoqa.prompts import render
from videoqa.tools.context import ToolContext, ToolRun
from videoqa.tools.evidence import EvidenceIds
from videoqa.tools.toolkit import TOOL_NAMES, run_tool, schemas

from .answer import check_moments, parse_final
from .finalize import compose_answer
from .matching import content_words, squash
from .state import AgentState

HISTORY_MESSAGES = 40  # older turns are left out of the prompt (they stay in the checkpoint)
LIBRARY = ("", "*")  # a `video` that means: every indexed video
AUTO_SEARCH = "auto_search"  # tool-call id prefix of the search made for a planner that answered without looking


def build_graph(chat: ChatModel, context: ToolContext, checkpointer=None):
    """Compile the agent graph for one chat model and tool context."""

    def begin(state: AgentState) -> dict:
        ref = str(state.get("video") or "")
        video = "" if ref in LIBRARY else context.video(ref).id
        limits = {**Budget().limits(), **(state.get("limits") or {})}
        return {"video": video, "limits": limits, "usage": Budget.from_state(limits, None).usage(),
                "messages": [HumanMessage(state["question"])], "steps": 0, "stop_reason": "", "answer": {},
                "turn_start": len(state.get("evidence", []))}

    def plan(state: AgentState) -> dict:
        budget = Budget.from_state(state["limits"], state["usage"])
        steps = state.get("steps", 0)
        if steps >= budget.max_steps:
            return {"stop_reason": "max_steps"}
        try:
            budget.check()
            reply = chat.chat(_prompt(state, budget, context), schemas(library=not state["video"]))
        except BudgetExceededError as exc:
            return {"stop_reason": f"budget:{exc.resource}", "usage": budget.usage(steps)}
        stop = ""
        try:
            budget.record(reply.usage, chat.name)
        except BudgetExceededError as exc:  # the reply is kept: a finish in it still answers
            stop = f"budget:{exc.resource}"
        calls = reply.tool_calls or _written_tool_call(reply.text, f"written_{steps}")
        valid = [c for c in calls if c.error is None]
        invalid = [c for c in calls if c.error is not None]
        message = AIMessage(
            content=reply.text[:4000],
            tool_calls=[{"id": c.id, "name": c.name, "args": c.arguments} for c in valid],
            invalid_tool_calls=[{"id": c.id, "name": c.name, "args": c.raw_arguments, "error": c.error} for c in invalid],
        )
        update = {"messages": [message], "steps": steps + 1, "usage": budget.usage(steps + 1)}
        if stop:
            update["stop_reason"] = stop
        return update

    def tools(state: AgentState) -> dict:
        budget = Budget.from_state(state["limits"], state["usage"])
        run = ToolRun(context.for_question(budget), state["video"], EvidenceIds(len(state.get("evidence", []))))
        write = get_stream_writer()
        last = state["messages"][-1]
        replies: list[AnyMessage] = []
        evidence = []
        stop = ""
        calls = list(last.tool_calls)
        if not calls and not last.invalid_tool_calls:
            # The model answered without looking: search for the question first, as a tool call and its result.
            call = {"id": f"{AUTO_SEARCH}_{state.get('steps', 0)}", "name": "search_memory", "args": {"query": state["question"]}}
            replies.append(AIMessage("", tool_calls=[call]))
            calls = [call]
        for call in calls:
            name, args = call["name"], call["args"]
            auto = call["id"].startswith(AUTO_SEARCH)
            try:
                result = run_tool(run, name, args)
            except BudgetExceededError as exc:
                stop = f"budget:{exc.resource}"
                replies.append(ToolMessage(f"{name} not run: {exc}", tool_call_id=call["id"], name=name))
                write({"event": "tool", "name": name, "args": args, "summary": f"{name}: budget spent"})
                continue
            evidence += result.evidence
            text = ("Searched for the question before answering; look at this evidence first.\n" if auto else "") + result.text
            replies.append(ToolMessage(text, tool_call_id=call["id"], name=name))
            write({"event": "tool", "name": name, "args": args, "summary": result.summary, "evidence": len(result.evidence), "auto": auto})
        for call in last.invalid_tool_calls:
            replies.append(ToolMessage(f"{call['name']}: {call['error']}. Call it again with a JSON object that matches its schema.",
                                       tool_call_id=call["id"], name=call["name"] or "unknown"))
            write({"event": "tool", "name": call["name"], "args": {}, "summary": f"{call['name']}: malformed arguments"})
        update: dict = {"messages": replies, "evidence": evidence, "usage": run.ctx.budget.usage(state.get("steps", 0))}
        if stop:
            update["stop_reason"] = stop
        return update

    def answer(state: AgentState) -> dict:
        last = state["messages"][-1]
        finish = next((c for c in getattr(last, "tool_calls", []) if c["name"] == "finish"), None)
        if finish is not None:
            text, proposed = str(finish["args"].get("answer", "")), finish["args"].get("moments") or []
        elif isinstance(last, AIMessage) and not last.tool_calls and not _looks_like_call(str(last.content)):
            text, proposed = parse_final(str(last.content))
        else:
            text, proposed = "", []
        text = _unescaped(text).strip()
        if text and not proposed and _restates(text, state["question"]):
            text = ""  # 'The answer is: What is said at the start?' answers nothing: the evidence is quoted instead
        closing: list[AnyMessage] = []
        if isinstance(last, AIMessage):  # every tool call gets its reply, so the thread stays valid for follow-ups
            closing += [ToolMessage("answer recorded" if c["name"] == "finish" else "not run: planning stopped",
                                    tool_call_id=c["id"], name=c["name"]) for c in last.tool_calls]
        stop = state.get("stop_reason") or ("finished" if finish is not None or text else "no_answer")
        evidence = state.get("evidence", [])
        turn = state.get("turn_start", 0)
        now, earlier = evidence[turn:], evidence[:turn]
        durations = {v: context.video(v).duration for v in {e["video"] for e in now} | ({state["video"]} if state["video"] else set())}
        proposed = [m for m in proposed if isinstance(m, dict)]
        moments, dropped = check_moments(proposed, now, earlier, state["video"], durations, text)
        result = compose_answer(text, state["question"], stop, moments, dropped, bool(proposed), now, earlier,
                                state["video"], durations, context)
        closing.append(AIMessage(result["answer"]))
        budget = Budget.from_state(state["limits"], state["usage"])
        return {"answer": result, "messages": closing, "usage": budget.usage(state.get("steps", 0))}

    def after_plan(state: AgentState) -> str:
        if state.get("stop_reason"):
            return "answer"
        last = state["messages"][-1]
        if any(c["name"] == "finish" for c in last.tool_calls):
            return "answer"
        if last.tool_calls or last.invalid_tool_calls:
            return "tools"
        # No tool call: an answer, unless nothing has been looked at for this question yet.
        return "answer" if _looked_this_turn(state) else "tools"

    def after_tools(state: AgentState) -> str:
        return "answer" if state.get("stop_reason") else "plan"

    graph = StateGraph(AgentState)
    graph.add_node("begin", begin)
    graph.add_node("plan", plan)
    graph.add_node("tools", tools)
    graph.add_node("answer", answer)
    graph.add_edge(START, "begin")
    graph.add_edge("begin", "plan")
    graph.add_conditional_edges("plan", after_plan, ["tools", "answer"])
    graph.add_conditional_edges("tools", after_tools, ["plan", "answer"])
    graph.add_edge("answer", END)
    return graph.compile(checkpointer=checkpointer)


def _written_tool_call(text: str, call_id: str) -> list[ToolCall]:
    """A tool call the model wrote as text instead of calling it, as small local models often do
    ('{"name": "search_memory", "arguments": {...}}' or 'search_memory: {...}'): taken as the call it
    means, so it runs instead of becoming the answer."""
    text = _unescaped(text or "")
    match = re.search(r"\{.*\}", text, re.S)
    if not match:
        return []
    try:
        data = json.loads(match.group(0))
    except json.JSONDecodeError:
        return []
    if not isinstance(data, dict):
        return []
    named = re.match(r"\s*[`*]*(\w+)[`*]*\s*[:(]?\s*$", text[: match.start()])
    if data.get("name") in TOOL_NAMES and isinstance(data.get("arguments", {}), dict):
        name, args = data["name"], data.get("arguments", {})
    elif named and named.group(1) in TOOL_NAMES:
        name, args = named.group(1), data
    else:
        return []
    return [ToolCall(call_id, name, args, json.dumps(args))]


def _unescaped(text: str) -> str:
    """Small local models sometimes escape quotes as &#34;, and at times escape the escape (&amp;#34;)."""
    for _ in range(3):
        text, before = html.unescape(text), text
        if text == before:
            break
    return text


def _looks_like_call(text: str) -> bool:
    """A message that is a tool call written as text, even one naming no real tool or with broken JSON
    ('functions.browse_or_read_transcript: {"query": ...}'): not an answer to show the user."""
    text = _unescaped(text).strip()
    if _written_tool_call(text, "probe") or re.fullmatch(r"[`*]*[\w.]+[`*]*\s*[:(]?\s*\{.*\}\s*\)?", text, re.S):
        return True
    # 'finish: In which year was the talk given?': a tool's name, then its arguments as plain words
    named = re.match(r"[`*]*(?:functions\.)?(\w+)[`*]*\s*[:(]", text)
    return bool(named and named.group(1) in TOOL_NAMES)


def _restates(text: str, question: str) -> bool:
    """The answer repeats the question and says nothing more (small models do this when they find nothing)."""
    asked = squash(question.rstrip(" ?"))
    return bool(asked) and asked in squash(text) and set(content_words(text)) <= set(content_words(question))


def _looked_this_turn(state: AgentState) -> bool:
    for message in reversed(state["messages"]):
        if isinstance(message, ToolMessage):
            return True
        if isinstance(message, HumanMessage):
            return False
    return False


def _prompt(state: AgentState, budget: Budget, context: ToolContext) -> list[ChatMessage]:
    if state["video"]:
        scope = f"one video ({context.video(state['video']).duration:.1f} s long)"
    else:
        scope = (f"a library of {len(context.store.videos())} videos (search results name each video's video_id; "
                 "pass it to the other tools, and in each moment)")
    note = f"Budget: at most {budget.frames_left()} more frames for inspect_frames, {budget.max_steps - state.get('steps', 0)} more steps."
    messages = [ChatMessage("system", render("planner", scope=scope, budget_note=note))]
    history = state["messages"][-HISTORY_MESSAGES:]
    while history and isinstance(history[0], ToolMessage):  # never start on an orphaned tool reply
        history = history[1:]
    for message in history:
        messages.append(_to_chat(message))
    return messages


def _to_chat(message: AnyMessage) -> ChatMessage:
    if isinstance(message, HumanMessage):
        return ChatMessage("user", str(message.content))
    if isinstance(message, SystemMessage):
        return ChatMessage("system", str(message.content))
    if isinstance(message, ToolMessage):
        return ChatMessage("tool", str(message.content), tool_call_id=message.tool_call_id)
    calls = [ToolCall(c["id"], c["name"], c["args"], json.dumps(c["args"])) for c in message.tool_calls]
    calls += [ToolCall(c["id"], c["name"] or "unknown", {}, c["args"] or "{}") for c in message.invalid_tool_calls]
    return ChatMessage("assistant", str(message.content), tool_calls=calls)
