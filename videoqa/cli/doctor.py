"""`videoqa doctor`: which backends are configured and reachable, which models load, what to do next."""

from __future__ import annotations

import argparse
import importlib.util
import urllib.request
from typing import TYPE_CHECKING

from .output import emit_json

if TYPE_CHECKING:
    from videoqa.api import VideoQA


def add_commands(commands: argparse._SubParsersAction) -> None:
    doctor = commands.add_parser("doctor", help="check models, backends and the store; say what to do next")
    doctor.set_defaults(run=run_doctor)


def _check(name: str, probe) -> dict:
    try:
        detail = probe()
        return {"check": name, "ok": True, "detail": detail}
    except Exception as exc:  # doctor reports every failure as a line, whatever its type
        return {"check": name, "ok": False, "detail": str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__}


def _blank():
    import numpy as np

    return np.zeros((64, 64, 3), np.uint8)


def _tagger(tagger) -> str:
    if tagger is None:
        return "off"
    tagged = len(tagger.tag([_blank()]))
    return f"{tagger.name} on {getattr(tagger, 'backend', None) or 'its own runtime'}, {tagged} image tagged"


def _ocr(reader) -> str:
    if reader is None:
        return "off"
    lines = len(reader.read(_blank()))  # loads it, which settles its runtime
    return f"{reader.name} on {getattr(reader, 'backend', None) or 'its own runtime'}, read {lines} lines from a blank image"


def _text(model) -> str:
    dim = model.embed_texts(["ok"]).shape[1]  # loads it, which settles its runtime
    return f"{model.name} on {getattr(model, 'backend', None) or 'its own runtime'}, {dim}-d"


def run_doctor(vqa: VideoQA, args: argparse.Namespace) -> int:
    settings = vqa.settings
    models = vqa.models()
    checks = [
        _check("store", lambda: f"{settings.store} ({len(vqa.videos())} videos indexed)"),
        _check("text embedder", lambda: _text(models.text)),
        _check("visual tagger", lambda: _tagger(models.tagger)),
        _check("OCR", lambda: _ocr(models.ocr)),
        _check("speech", lambda: _speech(models)),
        _check("CLIP", lambda: f"{settings.index.clip_model} ({models.clip.embed_texts(['ok']).shape[1]}-d)" if settings.index.clip_model else "not configured: visual search uses tags (index --clip MODEL to add it)"),
        _check("chat model", lambda: _server(settings.models)),
        _check("vision-language model", lambda: _vlm(settings.models)),
        _check("local chat model (optional)", _local_llm),
    ]
    if args.json:
        emit_json({"checks": checks})
    else:
        for c in checks:
            print(f"{'ok ' if c['ok'] else 'NO '} {c['check']}: {c['detail']}")
        if not settings.models.chat_configured:
            print("next: videoqa ask works now by retrieval only; for full answers set OPENAI_API_KEY, or OPENAI_BASE_URL "
                  "to a local server, or use the packaged local model: videoqa ask --chat local (pip install -e .[local-llm])")
    return 0 if all(c["ok"] for c in checks if c["check"] in ("store", "text embedder")) else 1


def _speech(models) -> str:
    if models.speech is None:
        return "off"
    from videoqa.models.whisper import PACKAGED_WHISPER, assemble_packaged_whisper

    if models.speech.name == PACKAGED_WHISPER:
        return f"Whisper base, assembled and SHA-256 verified at {assemble_packaged_whisper()}"
    return models.speech.name


def _server(settings) -> str:
    if settings.chat_model == "local":
        return "local: ask and chat start the packaged llama.cpp model for each command (VIDEOQA_CHAT_MODEL=local)"
    if not settings.chat_configured:
        raise RuntimeError("not configured: set OPENAI_API_KEY (GPT-4o) or OPENAI_BASE_URL (a local server)")
    base = (settings.base_url or "https://api.openai.com/v1").rstrip("/")
    request = urllib.request.Request(f"{base}/models", headers={"Authorization": f"Bearer {settings.api_key or 'none'}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        response.read()
    return f"{settings.chat_model} at {base} (reachable)"


def _vlm(settings) -> str:
    from videoqa.models.registry import load_vlm

    vlm = load_vlm(settings)
    if vlm is None:
        raise RuntimeError("none: captions and frame inspection fall back to facts from the index (set VIDEOQA_VLM)")
    return vlm.name


def _local_llm() -> str:
    if importlib.util.find_spec("llama_cpp") is None:
        raise RuntimeError("not installed (pip install -e .[local-llm])")
    from videoqa.models.local_llm import assemble_gguf

    return f"llama.cpp with {assemble_gguf().name}; use it with: videoqa ask --chat local VIDEO QUESTION (or VIDEOQA_CHAT_MODEL=local)"
