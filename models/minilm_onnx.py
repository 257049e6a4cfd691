"""The packaged MiniLM on ONNX Runtime, with the `tokenizers` tokenizer: sentence vectors without importing
PyTorch or transformers, which cost ~4.5 s of start-up and a few hundred MB on every command that embeds
(ingest, search, ask). The ONNX file is exported once per machine from the packaged weights, and kept only if
it reproduces sentence-transformers' vectors on probe sentences."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from .base import TORCH_EXPORT

log = logging.getLogger(__name__)

Encoder = Callable[[Sequence[str]], np.ndarray]
EXPORT_TOLERANCE = 1e-3  # least cosine similarity to sentence-transformers' vector, on each probe sentence
PROBES = ["An unlucky bird", "Luck is defined as success or failure apparently caused by chance.",
          "RECORDED AT TEDSalon", "kite (bird of prey), cyan, blue, bright, still"]
BATCH = 32


def onnx_encoder(model_dir: Path, cache: Path, threads: int = 1) -> Encoder | None:
    """The encoder for the sentence-transformers model in `model_dir` (a BERT with mean pooling), or None
    when ONNX Runtime or the export is not available (the caller then uses sentence-transformers)."""
    try:
        import onnxruntime
        from tokenizers import Tokenizer
    except ImportError:
        return None
    path = cache / f"minilm-{_fingerprint(model_dir)}.onnx"
    if not path.exists():
        try:
            with TORCH_EXPORT:
                _export(model_dir, path)
        except Exception as exc:  # an exporter that cannot handle this torch build: sentence-transformers still works
            log.warning("text embeddings through PyTorch: the ONNX export failed (%s)", exc)
            return None
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.enable_cpu_mem_arena = False  # the arena keeps the peak of every batch shape it has seen
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=_max_length(model_dir))
    tokenizer.no_padding()
    wanted = {i.name for i in session.get_inputs()}

    def encode(texts: Sequence[str]) -> np.ndarray:
        encodings = tokenizer.encode_batch(list(texts))
        order = np.argsort([len(e.ids) for e in encodings], kind="stable")  # similar lengths share a batch: less padding
        out = np.zeros((len(texts), 0), np.float32)
        vectors: list[np.ndarray] = [out] * len(texts)
        for first in range(0, len(order), BATCH):
            part = [encodings[i] for i in order[first : first + BATCH]]
            width = max(len(e.ids) for e in part)
            ids = np.zeros((len(part), width), np.int64)
            mask = np.zeros((len(part), width), np.int64)
            for row, e in enumerate(part):
                ids[row, : len(e.ids)] = e.ids
                mask[row, : len(e.ids)] = 1
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = session.run(None, {k: v for k, v in feeds.items() if k in wanted})[0]
            pooled = (hidden * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1)
            pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            for i, vector in zip(order[first : first + BATCH], pooled.astype(np.float32)):
                vectors[i] = vector
        return np.stack(vectors)

    return encode


def _fingerprint(model_dir: Path) -> str:
    """Which weights an export came from: their size and first megabyte (hashing all 90 MB on every start
    would cost more than it guards)."""
    weights = next((model_dir / name for name in ("model.safetensors", "pytorch_model.bin") if (model_dir / name).exists()))
    with weights.open("rb") as f:
        head = f.read(1 << 20)
    return hashlib.sha256(head + str(weights.stat().st_size).encode()).hexdigest()[:16]


def _max_length(model_dir: Path) -> int:
    try:
        return int(json.loads((model_dir / "sentence_bert_config.json").read_text())["max_seq_length"])
    except (OSError, KeyError, ValueError):
        return 256


def _export(model_dir: Path, path: Path) -> None:
    """Export the transformer to ONNX (last hidden state; pooling is done outside), and keep the file only if
    its pooled vectors match sentence-transformers' on the probe sentences."""
    import onnxruntime
    import sentence_transformers
    import torch
    import transformers

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(model_dir))
    bert = transformers.AutoModel.from_pretrained(str(model_dir)).eval()

    class LastHiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state

    network = LastHiddenState().eval()
    batch = tokenizer(PROBES, padding=True, return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {name: {0: "n", 1: "tokens"} for name in names}
    try:
        with contextlib.redirect_stdout(sys.stderr), warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")  # tracer warnings: the probe check below is what counts
            torch.onnx.export(network, tuple(batch[n] for n in names), str(partial), input_names=names,
                              output_names=["hidden"], dynamic_axes={**axes, "hidden": {0: "n", 1: "tokens"}},
                              opset_version=17, dynamo=False)
        expected = sentence_transformers.SentenceTransformer(str(model_dir), device="cpu").encode(
            PROBES, normalize_embeddings=True, show_progress_bar=False)
        session = onnxruntime.InferenceSession(str(partial), providers=["CPUExecutionProvider"])
        feeds = {n: batch[n].numpy() for n in names if n in {i.name for i in session.get_inputs()}}
        hidden = session.run(None, feeds)[0]
        mask = batch["attention_mask"].numpy()[:, :, None]
        got = (hidden * mask).sum(axis=1) / mask.sum(axis=1)
        got /= np.linalg.norm(got, axis=1, keepdims=True)
        worst = float(1.0 - (got * expected).sum(axis=1).min())
        if worst > EXPORT_TOLERANCE:
            raise ValueError(f"ONNX vectors differ from sentence-transformers' (1 - cosine = {worst:.3g})")
        os.replace(partial, path)
    finally:
        if partial.exists():
            partial.unlink()
