"""Metrics, each checked in the tests against hand-computed values.

Open answers use maintained implementations: BLEU-4 and CIDEr-D from pycocoevalcap (the COCO caption
metrics; their pure-Python scorers, not the Java tokenizer), ROUGE-L from Google's rouge-score. METEOR is
left out: pycocoevalcap's needs Java and nltk's needs the WordNet corpus, which is downloaded at run time."""

from __future__ import annotations

import re
from collections.abc import Sequence

from videoqa.errors import ModelUnavailableError


def iou(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Temporal intersection over union of two [start, end] windows."""
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter / union if union > 0 else (1.0 if a == b else 0.0)


def best_iou(predicted: tuple[float, float], truths: Sequence[tuple[float, float]]) -> float:
    return max((iou(predicted, t) for t in truths), default=0.0)


def overlaps(predicted: tuple[float, float], truths: Sequence[tuple[float, float]]) -> bool:
    return any(predicted[0] <= t[1] and predicted[1] >= t[0] for t in truths)


def moment_retrieval(results: Sequence[tuple[tuple[float, float] | None, Sequence[tuple[float, float]]]]) -> dict[str, float]:
    """R@1 at IoU 0.3/0.5/0.7, mIoU and hit@1 over (top-1 prediction or None, true windows) pairs."""
    if not results:
        return {}
    ious = [best_iou(p, t) if p else 0.0 for p, t in results]
    hits = [bool(p) and overlaps(p, t) for p, t in results]
    n = len(results)
    return {
        "R@1,IoU=0.3": sum(i >= 0.3 for i in ious) / n,
        "R@1,IoU=0.5": sum(i >= 0.5 for i in ious) / n,
        "R@1,IoU=0.7": sum(i >= 0.7 for i in ious) / n,
        "mIoU": sum(ious) / n,
        "hit@1": sum(hits) / n,
    }


def accuracy(pairs: Sequence[tuple[str | None, str]]) -> float:
    return sum(1 for p, t in pairs if p is not None and p.strip().upper() == t.strip().upper()) / len(pairs) if pairs else 0.0


def tokens(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def exact_match(prediction: str, reference: str) -> bool:
    return tokens(prediction) == tokens(reference)


def keyword_match(prediction: str, reference: str) -> float:
    """Share of the reference's content words (longer than 3 letters) that the prediction contains."""
    keys = {w for w in tokens(reference) if len(w) > 3} or set(tokens(reference))
    said = set(tokens(prediction))
    return len(keys & said) / len(keys) if keys else 0.0


def caption_metrics(predictions: Sequence[str], references: Sequence[Sequence[str]]) -> dict[str, float]:
    """Corpus BLEU-1..4 and CIDEr-D (pycocoevalcap), mean ROUGE-L F1 (rouge-score)."""
    try:
        from pycocoevalcap.bleu.bleu import Bleu
        from pycocoevalcap.cider.cider import Cider
        from rouge_score import rouge_scorer
    except ImportError as exc:  # an extra, so the first install stays small
        raise ModelUnavailableError(f"Answer metrics need the eval extra ({exc.name} is missing): pip install 'videoqa[eval]'") from exc

    if not predictions:
        return {}
    hyps = {str(i): [" ".join(tokens(p)) or "empty"] for i, p in enumerate(predictions)}
    refs = {str(i): [" ".join(tokens(r)) or "empty" for r in rs] for i, rs in enumerate(references)}
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):  # the scorers print their counts
        bleu, _ = Bleu(4).compute_score(refs, hyps)
    cider, _ = Cider().compute_score(refs, hyps)
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    rouge = [max(scorer.score(r, p)["rougeL"].fmeasure for r in rs) for p, rs in zip(predictions, references)]
    return {"BLEU-1": bleu[0], "BLEU-4": bleu[3], "ROUGE-L": sum(rouge) / len(rouge), "CIDEr": float(cider)}
