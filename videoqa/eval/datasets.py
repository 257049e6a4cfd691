"""Questions from JSONL (ours) and from the public benchmark formats, as published.

Our JSONL, one object per line, `video` an indexed id/path/file name or a file under --videos:
  multiple choice:   {"video", "question", "options": ["...", ...] or {"A": "..."}, "answer": "B"}
  moment retrieval:  {"video", "query", "windows": [[start, end], ...]}
  open answer:       {"video", "question", "answer": "reference text"}
Public formats (by --format or detected): EgoSchema (questions.json [+ subset_answers.json]), Video-MME
(JSON rows with videoID/options/answer), LVBench (video_info.meta.jsonl), QVHighlights (jsonl with
relevant_windows), Charades-STA ("vid start end##sentence" lines)."""

from __future__ import annotations

import json
import re
import string
from dataclasses import dataclass, field
from pathlib import Path

from videoqa.errors import DatasetError

VIDEO_SUFFIXES = (".mp4", ".mkv", ".webm", ".avi", ".mov")


@dataclass
class Question:
    line: int
    kind: str  # "choice", "moment" or "open"
    video: str  # as the dataset names it
    text: str
    options: dict[str, str] = field(default_factory=dict)
    answer: str = ""
    windows: list[tuple[float, float]] = field(default_factory=list)
    id: str = ""


@dataclass
class Problem:
    line: int
    reason: str


def load(path: Path, format: str = "auto") -> tuple[list[Question], list[Problem]]:
    path = Path(path)
    if not path.exists():
        raise DatasetError(f"{path}: no such dataset file.")
    text = path.read_text(encoding="utf-8")
    kind = format if format != "auto" else _detect(path, text)
    loader = LOADERS.get(kind)
    if loader is None:
        raise DatasetError(f"Unknown dataset format {kind!r}; use one of: {', '.join(LOADERS)}.")
    return loader(path, text)


def _detect(path: Path, text: str) -> str:
    head = text.lstrip()[:2000]
    if "##" in head.splitlines()[0] if head else False:
        return "charades-sta"
    if head.startswith("["):
        return "egoschema" if '"q_uid"' in head else "videomme"
    if '"relevant_windows"' in head:
        return "qvhighlights"
    if '"qa"' in head and '"key"' in head:
        return "lvbench"
    return "jsonl"


def _rows(text: str):
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                yield number, json.loads(line), None
            except json.JSONDecodeError as exc:
                yield number, None, f"not valid JSON ({exc.msg})"


def _windows(raw) -> list[tuple[float, float]]:
    windows = [(float(w[0]), float(w[1])) for w in raw]
    if not windows or any(s < 0 or e <= s for s, e in windows):
        raise ValueError(f"windows must be [start, end] pairs with 0 <= start < end, got {raw}")
    return windows


def _options(raw) -> dict[str, str]:
    if isinstance(raw, dict):
        return {str(k).strip().upper(): str(v) for k, v in raw.items()}
    options = {}
    for i, option in enumerate(raw):
        match = re.match(r"^\s*\(?([A-Z])[.):]\s*(.*)$", str(option))
        letter, body = (match.group(1), match.group(2)) if match else (string.ascii_uppercase[i], str(option))
        options[letter] = body
    return options


def load_jsonl(path: Path, text: str) -> tuple[list[Question], list[Problem]]:
    questions, problems = [], []
    for number, row, error in _rows(text):
        if error:
            problems.append(Problem(number, error))
            continue
        try:
            video = str(row["video"])
            if "windows" in row:
                questions.append(Question(number, "moment", video, str(row["query"]), windows=_windows(row["windows"]), id=str(row.get("id", number))))
            elif "options" in row:
                options = _options(row["options"])
                answer = str(row["answer"]).strip().upper()
                if answer not in options:
                    raise ValueError(f"answer {answer!r} is not one of the options {sorted(options)}")
                questions.append(Question(number, "choice", video, str(row["question"]), options, answer, id=str(row.get("id", number))))
            else:
                questions.append(Question(number, "open", video, str(row["question"]), answer=str(row["answer"]), id=str(row.get("id", number))))
        except KeyError as exc:
            problems.append(Problem(number, f"missing field {exc.args[0]!r}"))
        except (TypeError, ValueError, IndexError) as exc:
            problems.append(Problem(number, str(exc)))
    return questions, problems


def load_qvhighlights(path: Path, text: str) -> tuple[list[Question], list[Problem]]:
    questions, problems = [], []
    for number, row, error in _rows(text):
        if error:
            problems.append(Problem(number, error))
            continue
        try:
            questions.append(Question(number, "moment", str(row["vid"]), str(row["query"]), windows=_windows(row["relevant_windows"]), id=str(row.get("qid", number))))
        except (KeyError, TypeError, ValueError) as exc:
            problems.append(Problem(number, f"missing or bad field: {exc}"))
    return questions, problems


def load_charades_sta(path: Path, text: str) -> tuple[list[Question], list[Problem]]:
    questions, problems = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            head, sentence = line.split("##", 1)
            vid, start, end = head.split()
            questions.append(Question(number, "moment", vid, sentence.strip(), windows=_windows([[start, end]]), id=str(number)))
        except ValueError as exc:
            problems.append(Problem(number, f"expected 'vid start end##sentence' ({exc})"))
    return questions, problems


def load_egoschema(path: Path, text: str) -> tuple[list[Question], list[Problem]]:
    answers_file = path.with_name("subset_answers.json")
    answers = json.loads(answers_file.read_text()) if answers_file.exists() else {}
    questions, problems = [], []
    for number, row in enumerate(json.loads(text), start=1):
        try:
            options = {string.ascii_uppercase[i]: str(row[f"option {i}"]) for i in range(5)}
            uid = str(row["q_uid"])
            if uid not in answers:
                raise KeyError("answer (no entry in subset_answers.json)")
            questions.append(Question(number, "choice", uid, str(row["question"]), options, string.ascii_uppercase[int(answers[uid])], id=uid))
        except (KeyError, TypeError, ValueError) as exc:
            problems.append(Problem(number, f"missing or bad field: {exc}"))
    return questions, problems


def load_videomme(path: Path, text: str) -> tuple[list[Question], list[Problem]]:
    questions, problems = [], []
    for number, row in enumerate(json.loads(text), start=1):
        try:
            options = _options(row["options"])
            answer = str(row["answer"]).strip().upper()
            if answer not in options:
                raise ValueError(f"answer {answer!r} not among the options")
            questions.append(Question(number, "choice", str(row["videoID"]), str(row["question"]), options, answer, id=str(row.get("question_id", number))))
        except (KeyError, TypeError, ValueError) as exc:
            problems.append(Problem(number, f"missing or bad field: {exc}"))
    return questions, problems


def load_lvbench(path: Path, text: str) -> tuple[list[Question], list[Problem]]:
    questions, problems = [], []
    for number, row, error in _rows(text):
        if error:
            problems.append(Problem(number, error))
            continue
        for qa in row.get("qa", []):
            try:
                body, _, rest = str(qa["question"]).partition("\n")
                options = _options(re.findall(r"\([A-Z]\)[^\n]*", rest) or rest.splitlines())
                questions.append(Question(number, "choice", str(row["key"]), body, options, str(qa["answer"]).strip().upper(), id=str(qa.get("uid", number))))
            except (KeyError, TypeError, ValueError) as exc:
                problems.append(Problem(number, f"missing or bad field: {exc}"))
    return questions, problems


LOADERS = {
    "jsonl": load_jsonl, "qvhighlights": load_qvhighlights, "charades-sta": load_charades_sta,
    "egoschema": load_egoschema, "videomme": load_videomme, "lvbench": load_lvbench,
}


def find_video_file(video: str, directory: Path | None) -> Path | None:
    if directory is None:
        return None
    for suffix in ("", *VIDEO_SUFFIXES):
        candidate = directory / f"{video}{suffix}"
        if candidate.is_file():
            return candidate
    return None
