"""`videoqa ask` (one turn, about one video or with --all the whole library) and `videoqa chat` (an
interactive conversation). `--chat local` runs the packaged local model for the command's lifetime."""

from __future__ import annotations

import argparse
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from videoqa.api import VideoQA
from videoqa.errors import QueryError, VideoQAError
from videoqa.models.budget import Budget
from videoqa.results import Answer, ToolEvent
from videoqa.wording import clock

from .clip import export_answer_clips
from .index import ProgressBar
from .output import emit_json, error

LOCAL = "local"


def add_commands(commands: argparse._SubParsersAction) -> None:
    ask = commands.add_parser("ask", help="answer one question about a video, with timestamps and evidence")
    ask.add_argument("video", help="video id, path or file name (leave it out with --all)")
    ask.add_argument("question", nargs="?")
    ask.add_argument("--all", action="store_true", help="ask about every indexed video; moments name their video")
    ask.add_argument("--thread", help="continue this conversation (printed after each answer)")
    ask.add_argument("--export", metavar="DIR", help="also write each moment of the answer as an MP4 clip into DIR")
    _model_options(ask)
    ask.set_defaults(run=run_ask)

    chat = commands.add_parser("chat", help="talk about a video; follow-up questions keep context")
    chat.add_argument("video", help="video id, path or file name")
    chat.add_argument("--thread", help="resume this conversation")
    _model_options(chat)
    chat.set_defaults(run=run_chat)


def _model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--chat", metavar="MODEL", help="chat model: 'local' starts the packaged llama.cpp model for this "
                        "command (also VIDEOQA_CHAT_MODEL=local); any other name is asked of OPENAI_BASE_URL")
    parser.add_argument("--max-steps", type=int, default=8, help="planner steps per question (default 8)")
    parser.add_argument("--max-frames", type=int, default=64, help="frames sent to a vision model per question (default 64)")
    parser.add_argument("--max-cost", type=float, default=1.0, help="USD per question where the price is known (default 1.00)")
    parser.add_argument("--max-seconds", type=float, default=300.0, help="seconds per question (default 300)")


def _budget(args: argparse.Namespace) -> Budget:
    return Budget(max_frames=args.max_frames, max_cost_usd=args.max_cost, max_seconds=args.max_seconds, max_steps=args.max_steps)


@contextmanager
def chat_model(vqa: VideoQA, args: argparse.Namespace) -> Iterator[None]:
    """The chat model the command asks: with --chat local (or VIDEOQA_CHAT_MODEL=local), the packaged
    model on a llama.cpp server that lives as long as the command."""
    wanted = args.chat or vqa.settings.models.chat_model
    if wanted != LOCAL:
        if args.chat:
            vqa.use_chat(args.chat)
        yield
        return
    from videoqa.models.local_llm import LocalLlamaServer

    if not (args.json or args.quiet):
        print("  ▸ starting the packaged local chat model (llama.cpp) …", file=sys.stderr, flush=True)
    with LocalLlamaServer() as server:
        vqa.use_chat(server.model, base_url=server.base_url, api_key="local", vlm="none")
        yield


def _ensure_indexed(vqa: VideoQA, args: argparse.Namespace) -> None:
    """A video file given by path is indexed first (a no-op when it already is)."""
    path = Path(args.video).expanduser()
    if path.is_file():
        bar = None if args.json or args.quiet else ProgressBar(path.name)
        args.video = vqa.index(path, progress=bar).id


def _answer(vqa: VideoQA, video: str | None, args: argparse.Namespace, question: str, thread: str | None, show_progress: bool) -> Answer:
    answer = None
    for item in vqa.stream(video, question, thread, _budget(args), args.max_steps):
        if isinstance(item, ToolEvent):
            if show_progress:
                print(f"  ▸ {item.summary}", file=sys.stderr, flush=True)
        else:
            answer = item
    assert answer is not None
    return answer


def _print(vqa: VideoQA, answer: Answer, library: bool) -> None:
    print(answer.text)
    by_id = {e["id"]: e for e in answer.evidence}
    for moment in answer.moments:
        where = f"{Path(vqa.video(moment['video']).path).name}  " if library else ""
        print(f"  {where}{clock(moment['start'])}–{clock(moment['end'])}  {moment.get('why', '')[:100]}")
        for evidence_id in moment["evidence_ids"][:3]:
            item = by_id.get(evidence_id)
            if item:
                print(f"      evidence [{clock(item['start'])}] {item['source']}: {item['text'][:90]}")
    for note in answer.usage.get("notes", []):
        print(f"note: {note}", file=sys.stderr)


def _video_and_question(args: argparse.Namespace) -> tuple[str | None, str]:
    if args.all:
        if args.question is not None:
            raise QueryError("With --all give only the question: videoqa ask --all \"QUESTION\"")
        return None, args.video
    if args.question is None:
        raise QueryError("Give a video and a question: videoqa ask VIDEO \"QUESTION\" (or videoqa ask --all \"QUESTION\")")
    return args.video, args.question


def run_ask(vqa: VideoQA, args: argparse.Namespace) -> int:
    video, question = _video_and_question(args)
    if video is not None:
        _ensure_indexed(vqa, args)
        video = args.video
    with chat_model(vqa, args):
        answer = _answer(vqa, video, args, question, args.thread, show_progress=not (args.json or args.quiet))
    if args.export:
        export_answer_clips(vqa, answer, args.export)
    if args.json:
        emit_json(answer.to_dict())
        return 0
    _print(vqa, answer, library=video is None)
    if answer.thread:
        print(f"(thread {answer.thread}: add --thread {answer.thread} to ask a follow-up)", file=sys.stderr)
    return 0


def run_chat(vqa: VideoQA, args: argparse.Namespace) -> int:
    _ensure_indexed(vqa, args)
    video = vqa.video(args.video)
    thread = args.thread or uuid.uuid4().hex[:12]
    with chat_model(vqa, args):
        print(f"Chatting about {video.path} ({clock(video.duration)}), thread {thread}. Empty line or Ctrl-D to leave.", file=sys.stderr)
        while True:
            try:
                question = input("? ").strip()
            except EOFError:
                print(file=sys.stderr)
                return 0
            if not question:
                return 0
            try:
                answer = _answer(vqa, video.id, args, question, thread, show_progress=not args.quiet)
            except VideoQAError as exc:  # one bad turn does not end the conversation
                error(str(exc))
                continue
            if args.json:
                emit_json(answer.to_dict())
            else:
                _print(vqa, answer, library=False)
