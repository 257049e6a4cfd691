"""The Python API: index the bundled clip, search it, and ask about it.

    python examples/python_api.py [VIDEO]

Without a chat model configured, `ask` answers by retrieval only; set OPENAI_API_KEY (GPT-4o) or
OPENAI_BASE_URL (any OpenAI-compatible server) for full agent answers.
"""

import sys
from pathlib import Path

from videoqa import VideoQA

video_path = sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent / "trailer_bbb.mp4"
with VideoQA() as vqa:
    video = vqa.index(video_path)
    print(f"{video.path}: {video.duration:.1f} s, {len(video.scenes)} scenes, {video.keyframes} keyframes")
    for moment in vqa.search(video, "revenge is coming", k=3):
        print(f"  {moment.start:6.1f}-{moment.end:6.1f} s  {moment.score:.2f}  {moment.sources}  {moment.text[:60]}")
    answer = vqa.ask(video, "When does the bird appear?")
    print(answer.text)
    for moment in answer.moments:
        print(f"  {moment['start']:.1f}-{moment['end']:.1f} s  evidence {moment['evidence_ids']}")
