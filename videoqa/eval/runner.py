"""Run a question set against indexed videos and report per question and in total, with the cost of each."""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from videoqa.errors import DatasetError, ModelUnavailableError, VideoQAError
from videoqa.models.base import TimedFrame
from videoqa.models.registry import load_vlm

from . import metrics
from .datasets import Problem, Question, find_video_file, load

MODES = ("search", "ask", "baseline")


@dataclass
class QuestionResult:
    line: int
    id: str
    kind: str
    video: str
    question: str
    truth: object
    prediction: object
    score: dict
    cost: dict


@dataclass
class Report:
    dataset: str
    mode: str
    results: list[QuestionResult] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)
    totals: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"dataset": self.dataset, "mode": self.mode, "totals": self.totals,
                "skipped": [asdict(p) for p in self.skipped], "questions": [asdict(r) for r in self.results]}


def evaluate(vqa, dataset: str | Path, mode: str = "search", videos: str | Path | None = None, format: str = "auto",
             baseline_frames: int = 16, progress=None) -> Report:
    if mode not in MODES:
        raise DatasetError(f"Unknown mode {mode!r}; use one of {', '.join(MODES)}.")
    questions, problems = load(Path(dataset), format)
    report = Report(str(dataset), mode, skipped=list(problems))
    directory = Path(videos).expanduser() if videos else None
    vlm = None
    if mode == "baseline":
        vlm = vqa.tool_context().vlm or load_vlm(vqa.settings.models)
        if vlm is None:
            raise ModelUnavailableError("--mode baseline sends frames to a vision-language model: set VIDEOQA_VLM or OPENAI_API_KEY.")
    for question in questions:
        try:
            video = _video(vqa, question, directory)
        except VideoQAError as exc:
            report.skipped.append(Problem(question.line, f"unknown video id {question.video!r} ({exc})"))
            continue
        bad = [w for w in question.windows if w[0] >= video.duration]
        if bad:
            report.skipped.append(Problem(question.line, f"outside the video: window {bad[0]} starts after its end ({video.duration:.1f} s)"))
            continue
        started = time.monotonic()
        prediction, cost = _predict(vqa, video, question, mode, vlm, baseline_frames)
        cost["seconds"] = round(time.monotonic() - started, 3)
        report.results.append(QuestionResult(question.line, question.id, question.kind, video.id, question.text,
                                             _truth(question), prediction, _score(question, prediction), cost))
        if progress:
            progress(report.results[-1])
    report.skipped.sort(key=lambda p: p.line)
    report.totals = _totals(report)
    return report


def _video(vqa, question: Question, directory: Path | None):
    try:
        return vqa.video(question.video)
    except VideoQAError:
        path = find_video_file(question.video, directory)
        if path is None:
            raise
        return vqa.index(path)


def _truth(q: Question):
    return q.windows if q.kind == "moment" else q.answer


ZERO_COST = {"model_calls": 0, "frames_sent": 0, "input_tokens": 0, "output_tokens": 0}


def _predict(vqa, video, q: Question, mode: str, vlm, frames: int) -> tuple[object, dict]:
    if mode == "search":
        if q.kind == "moment":
            top = vqa.search(video, q.text, k=1)
            return ([top[0].start, top[0].end] if top else None), dict(ZERO_COST)
        if q.kind == "choice":
            scores = {letter: max((m.score for m in vqa.search(video, f"{q.text} {text}", k=1)), default=0.0)
                      for letter, text in q.options.items()}
            return max(scores, key=scores.get), dict(ZERO_COST)
        top = vqa.search(video, q.text, k=1)
        return (top[0].text if top else ""), dict(ZERO_COST)
    if mode == "ask":
        answer = vqa.ask(video, _ask_text(q), max_steps=8)
        cost = {key: answer.usage.get(key, 0) for key in ZERO_COST}
        if q.kind == "moment":
            return ([answer.moments[0]["start"], answer.moments[0]["end"]] if answer.moments else None), cost
        if q.kind == "choice":
            return _letter(answer.text, q.options), cost
        return answer.text, cost
    # baseline: N frames sampled uniformly over the whole video, one VLM call
    times = list(np.linspace(0, max(0.0, video.duration - 0.05), frames))
    context = vqa.tool_context()
    row = context.video(video.id)
    sampled = [TimedFrame(t, image) for t, image in context.reader(row).frames_at(times, context.frame_width)]
    text, usage = vlm.describe(_ask_text(q), sampled)
    cost = {"model_calls": usage.calls, "frames_sent": usage.images, "input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens}
    if q.kind == "moment":
        from videoqa.agent.answer import moments_from_text

        found = moments_from_text(text)
        return ([found[0]["start"], found[-1]["end"]] if found else None), cost
    if q.kind == "choice":
        return _letter(text, q.options), cost
    return text, cost


def _ask_text(q: Question) -> str:
    if q.kind == "moment":
        return f"When does this happen: {q.text}? Give the start and end times in seconds."
    if q.kind == "choice":
        options = " ".join(f"({letter}) {text}" for letter, text in q.options.items())
        return f"{q.text} Options: {options}. Answer with the letter of the right option."
    return q.text


def _letter(text: str, options: dict[str, str]) -> str | None:
    for found in re.finditer(r"\(([A-Z])\)|\b([A-Z])\b", text or ""):
        letter = found.group(1) or found.group(2)
        if letter in options:
            return letter
    lowered = (text or "").lower()
    hits = [letter for letter, body in options.items() if body.lower() in lowered]
    return hits[0] if len(hits) == 1 else None


def _score(q: Question, prediction) -> dict:
    if q.kind == "moment":
        window = tuple(prediction) if prediction else None
        return {"iou": metrics.best_iou(window, q.windows) if window else 0.0,
                "hit": bool(window) and metrics.overlaps(window, q.windows)}
    if q.kind == "choice":
        return {"correct": prediction == q.answer}
    return {"exact": metrics.exact_match(str(prediction), q.answer), "keywords": metrics.keyword_match(str(prediction), q.answer)}


def _totals(report: Report) -> dict:
    totals: dict = {"questions": len(report.results), "skipped": len(report.skipped)}
    by_kind: dict[str, list[QuestionResult]] = {}
    for r in report.results:
        by_kind.setdefault(r.kind, []).append(r)
    if "choice" in by_kind:
        rows = by_kind["choice"]
        totals["choice"] = {"n": len(rows), "accuracy": metrics.accuracy([(r.prediction, r.truth) for r in rows])}
    if "moment" in by_kind:
        rows = by_kind["moment"]
        totals["moment"] = {"n": len(rows), **metrics.moment_retrieval(
            [(tuple(r.prediction) if r.prediction else None, [tuple(w) for w in r.truth]) for r in rows])}
    if "open" in by_kind:
        rows = by_kind["open"]
        totals["open"] = {"n": len(rows), "exact": sum(r.score["exact"] for r in rows) / len(rows),
                          "keywords": sum(r.score["keywords"] for r in rows) / len(rows),
                          **metrics.caption_metrics([str(r.prediction) for r in rows], [[str(r.truth)] for r in rows])}
    if report.results:
        n = len(report.results)
        totals["cost_per_question"] = {key: sum(r.cost.get(key, 0) for r in report.results) / n
                                       for key in (*ZERO_COST, "seconds")}
    return totals
