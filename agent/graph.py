"""The agent: a LangGraph StateGraph, begin → plan ⇄ tools → answer, with a SQLite checkpointer so a
thread's conversation survives restarts.

Dependencies (chat model, tool context) are bound when the graph is built; the per-question budget and
step limit come in the run's config (`configurable`), so one compiled graph serves every question."""

from __future__ import annotations

import html
import json

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph

from videoqa.errors import BudgetExceededError, VideoQAError
from videoqa.models.base import ChatMessage, ChatModel, ToolCall
from videoqa.models.budget import Budget
from videoqa.prompts import render
from videoqa.tools.context import ToolContext

from .answer import as_dicts, check_moments, parse_final
from .state import AgentState
from .tools import SCHEMAS, EvidenceIds, describe_args, run_tool

DEFAULT_MAX_STEPS = 8
SEARCH_SOURCES = ("ocr", "transcript", "subtitle", "caption", "tags")
HISTORY_MESSAGES = 40  # older turns are left out of the prompt (they stay in the checkpoint)


def build_graph(chat: ChatModel, context: ToolContext, checkpointer=None):
    """Compile the agent graph for one chat model and tool context."""

    def begin(state: AgentState, config: RunnableConfig) -> dict:
        return {"messages": [HumanMessage(state["question"])], "steps": 0, "usage": {}, "stop_reason": "", "answer": {},
                "turn_start": len(state.get("evidence", []))}

    def plan(state: AgentState, config: RunnableConfig) -> dict:
        budget: Budget = config["configurable"]["budget"]
        max_steps = config["configurable"].get("max_steps", DEFAULT_MAX_STEPS)
        if state.get("steps", 0) >= max_steps:
            return {"stop_reason": "max_steps"}
        try:
            budget.check()
            reply = chat.chat(_prompt(state, budget, context), SCHEMAS)
            budget.record(reply.usage)
        except BudgetExceededError as exc:
            return {"stop_reason": f"budget:{exc.resource}", "usage": _usage(budget, state)}
        valid = [c for c in reply.tool_calls if c.error is None]
        invalid = [c for c in reply.tool_calls if c.error is not None]
        message = AIMessage(
            content=reply.text[:4000],
            tool_calls=[{"id": c.id, "name": c.name, "args": c.arguments} for c in valid],
            invalid_tool_calls=[{"id": c.id, "name": c.name, "args": c.raw_arguments, "error": c.error} for c in invalid],
        )
        return {"messages": [message], "steps": state.get("steps", 0) + 1, "usage": _usage(budget, state)}

    def tools(state: AgentState, config: RunnableConfig) -> dict:
        budget: Budget = config["configurable"]["budget"]
        write = get_stream_writer()
        last = state["messages"][-1]
        ids = EvidenceIds(len(state.get("evidence", [])))
        replies: list[AnyMessage] = []
        evidence = []
        stop = ""
        if not last.tool_calls and not last.invalid_tool_calls:
            # The model answered without looking: ground it with a search for the question first.
            result = run_tool(context, state["video"], "search_memory", {"query": state["question"]}, ids)
            write({"event": "tool", "name": "search_memory", "args": {"query": state["question"]}, "summary": result.summary, "auto": True})
            return {"messages": [HumanMessage(f"Look at the evidence before answering. search_memory found:\n{result.text}")],
                    "evidence": result.evidence}
        for call in last.tool_calls:
            name, args = call["name"], call["args"]
            try:
                result = run_tool(context, state["video"], name, args, ids)
            except BudgetExceededError as exc:
                stop = f"budget:{exc.resource}"
                replies.append(ToolMessage(f"{name} not run: {exc}", tool_call_id=call["id"], name=name))
                write({"event": "tool", "name": name, "args": args, "summary": f"{name}: budget spent"})
                continue
            except (VideoQAError, ValueError, TypeError, KeyError) as exc:
                # The failure goes back to the model as an observation naming the tool and its arguments.
                replies.append(ToolMessage(f"{name}({describe_args(args)}) failed: {exc}. Fix the arguments and call again.",
                                           tool_call_id=call["id"], name=name))
                write({"event": "tool", "name": name, "args": args, "summary": f"{name} failed: {exc}"})
                continue
            evidence += result.evidence
            replies.append(ToolMessage(result.text, tool_call_id=call["id"], name=name))
            write({"event": "tool", "name": name, "args": args, "summary": result.summary, "evidence": len(result.evidence)})
        for call in last.invalid_tool_calls:
            replies.append(ToolMessage(f"{call['name']}: {call['error']}. Call it again with a JSON object that matches its schema.",
                                       tool_call_id=call["id"], name=call["name"] or "unknown"))
            write({"event": "tool", "name": call["name"], "args": {}, "summary": f"{call['name']}: malformed arguments"})
        update: dict = {"messages": replies, "evidence": evidence, "usage": _usage(budget, state)}
        if stop:
            update["stop_reason"] = stop
        return update

    def answer(state: AgentState, config: RunnableConfig) -> dict:
        budget: Budget = config["configurable"]["budget"]
        last = state["messages"][-1]
        closing: list[AnyMessage] = []
        finish = next((c for c in getattr(last, "tool_calls", []) if c["name"] == "finish"), None)
        if finish is not None:
            text, proposed = str(finish["args"].get("answer", "")), finish["args"].get("moments") or []
        elif isinstance(last, AIMessage) and not last.tool_calls:
            text, proposed = parse_final(str(last.content))
        else:
            text, proposed = "", []
        text = html.unescape(text)  # small local models sometimes write quotes as &#34;
        if isinstance(last, AIMessage):  # every tool call gets its reply, so the thread stays valid for follow-ups
            closing += [ToolMessage("answer recorded" if c["name"] == "finish" else "not run: planning stopped",
                                    tool_call_id=c["id"], name=c["name"]) for c in last.tool_calls]
        stop = state.get("stop_reason") or ("finished" if finish is not None or text else "no_answer")
        evidence = state.get("evidence", [])
        durations = {state["video"]: context.video(state["video"]).duration}
        moments, dropped = check_moments([m for m in proposed if isinstance(m, dict)], evidence, state["video"], durations)
        if not text:
            best = [e for e in evidence[state.get("turn_start", 0):] if "+" in e["source"] or e["source"] in SEARCH_SOURCES][:3]
            text = "I could not finish the analysis" + (f" ({_why(stop)})" if stop not in ("finished", "no_answer") else "") + "."
            if best:
                text += " The strongest evidence found: " + "; ".join(f"{e['start']:.1f}-{e['end']:.1f} s: {e['text'][:80]}" for e in best)
                moments, _ = check_moments([{"start": e["start"], "end": e["end"], "why": "strongest evidence", "evidence_ids": [e["id"]]} for e in best],
                                           evidence, state["video"], durations)
        elif stop.startswith("budget") or stop == "max_steps":
            text += f" (Stopped early: {_why(stop)}; this answer uses what was found so far.)"
        if not moments and not proposed:
            # The answer named no time: point at the best search hit of this question, which is real evidence.
            found_now = evidence[state.get("turn_start", 0):]
            hit = next((e for e in found_now if e["source"] in SEARCH_SOURCES or "+" in e["source"]), None)
            if hit is not None:
                moments, _ = check_moments([{"start": hit["start"], "end": hit["end"], "why": "the strongest evidence gathered",
                                             "evidence_ids": [hit["id"]]}], evidence, state["video"], durations)
        closing.append(AIMessage(text))
        result = {"answer": text, "moments": as_dicts(moments), "dropped": as_dicts(dropped), "stop_reason": stop}
        return {"answer": result, "messages": closing, "usage": _usage(budget, state)}

    def after_plan(state: AgentState) -> str:
        if state.get("stop_reason"):
            return "answer"
        last = state["messages"][-1]
        if any(c["name"] == "finish" for c in last.tool_calls):
            return "answer"
        if last.tool_calls or last.invalid_tool_calls:
            return "tools"
        # No tool call: an answer, unless nothing has been looked at for this question yet.
        return "tools" if not _looked_this_turn(state) else "answer"

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


def _looked_this_turn(state: AgentState) -> bool:
    for message in reversed(state["messages"]):
        if isinstance(message, ToolMessage) or (isinstance(message, HumanMessage) and message.content.startswith("Look at the evidence")):
            return True
        if isinstance(message, HumanMessage):
            return False
    return False


def _prompt(state: AgentState, budget: Budget, context: ToolContext) -> list[ChatMessage]:
    video = context.video(state["video"])
    note = f"Budget: at most {budget.frames_left()} more frames for inspect_frames."
    system = render("planner", video_name=video.path.rsplit("/", 1)[-1], duration=f"{video.duration:.1f} s long", budget_note=note)
    messages = [ChatMessage("system", system)]
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


def _usage(budget: Budget, state: AgentState) -> dict:
    used = budget.used
    return {"steps": state.get("steps", 0), "model_calls": used.calls, "frames_sent": used.images,
            "input_tokens": used.input_tokens, "output_tokens": used.output_tokens, "seconds": round(used.seconds, 3),
            "cost_usd": round(used.cost_usd, 6)}


def _why(stop: str) -> str:
    if stop == "max_steps":
        return "the step limit was reached"
    if stop.startswith("budget:"):
        return f"the {stop.split(':', 1)[1]} budget ran out"
    return stop
