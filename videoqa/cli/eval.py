"""`videoqa eval DATASET`: accuracy, moment retrieval and open-answer metrics, with the cost of each question."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from videoqa.eval.datasets import LOADERS
from videoqa.eval.runner import MODES

from .output import emit_json

if TYPE_CHECKING:
    from videoqa.api import VideoQA


def add_commands(commands: argparse._SubParsersAction) -> None:
    ev = commands.add_parser("eval", help="run a question set (ours or a public benchmark's format) and report metrics")
    ev.add_argument("dataset", help="JSONL (see README 'Evaluating') or a benchmark's published file")
    ev.add_argument("--mode", choices=MODES, default="search", help="search (no model), ask (the agent), baseline (N uniform frames, one VLM call)")
    ev.add_argument("--format", choices=["auto", *LOADERS], default="auto")
    ev.add_argument("--videos", help="directory holding the dataset's videos, named by their ids")
    ev.add_argument("--frames", type=int, default=16, help="frames for --mode baseline (default 16)")
    ev.add_argument("--out", help="also write the full report (JSON) here")
    ev.set_defaults(run=run_eval)


def run_eval(vqa: VideoQA, args: argparse.Namespace) -> int:
    def show(result) -> None:
        if not (args.json or args.quiet):
            print(f"  line {result.line:4d} {result.kind:6s} {json.dumps(result.score)}  {result.question[:60]}", file=sys.stderr)

    report = vqa.evaluate(args.dataset, args.mode, args.videos, args.format, args.frames, progress=show)
    document = report.to_dict()
    if args.out:
        Path(args.out).write_text(json.dumps(document, indent=2))
    if args.json:
        emit_json(document)
        return 0
    for problem in report.skipped:
        print(f"line {problem.line}: {problem.reason} (skipped)", file=sys.stderr)
    print(f"{report.totals['questions']} questions, {report.totals['skipped']} skipped, mode {report.mode}")
    for kind in ("choice", "moment", "open"):
        if kind in report.totals:
            print(f"  {kind}: " + ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in report.totals[kind].items()))
    if "cost_per_question" in report.totals:
        print("  cost per question: " + ", ".join(f"{k} {v:.2f}" for k, v in report.totals["cost_per_question"].items()))
    return 0
