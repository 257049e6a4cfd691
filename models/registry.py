"""Backends found by name. The offline defaults ship inside PyPI packages; everything else loads by name."""

from __future__ import annotations

from dataclasses import dataclass

from videoqa.errors import SettingsError
from videoqa.settings import VLM_SPECS

from .base import ChatModel, ImageTextEmbedder, SpeechRecognizer, TextEmbedder, TextReader, VisionLanguageModel, VisualTagger


@dataclass
class IndexModels:
    """The models ingest and search use. `None` switches that part off."""

    text: TextEmbedder
    tagger: VisualTagger | None = None
    clip: ImageTextEmbedder | None = None
    ocr: TextReader | None = None
    speech: SpeechRecognizer | None = None


_CACHE: dict[tuple, object] = {}


def _cached(key: tuple, build):
    if key not in _CACHE:
        _CACHE[key] = build()
    return _CACHE[key]


def load_models(text_model: str, tags: bool, clip_model: str | None, ocr: bool, speech_model: str | None) -> IndexModels:
    """Build (once per process) the models for these settings; weights still load lazily on first use."""
    from .clip import ClipEmbedder
    from .efficientnet_tagger import EfficientNetTagger
    from .rapidocr_reader import RapidOcrReader
    from .sentence import SentenceTransformerEmbedder
    from .whisper import FasterWhisperRecognizer

    return IndexModels(
        text=_cached(("text", text_model), lambda: SentenceTransformerEmbedder(text_model)),
        tagger=_cached(("tagger",), EfficientNetTagger) if tags else None,
        clip=_cached(("clip", clip_model), lambda: ClipEmbedder(clip_model)) if clip_model else None,
        ocr=_cached(("ocr",), RapidOcrReader) if ocr else None,
        speech=_cached(("speech", speech_model), lambda: FasterWhisperRecognizer(speech_model)) if speech_model else None,
    )


def load_chat(settings) -> "ChatModel | None":
    """The configured chat model (an OpenAI-compatible server), or None when none is configured."""
    from .openai_backend import OpenAIBackend

    if not settings.chat_configured:
        return None
    return OpenAIBackend(settings.chat_model, settings.base_url, settings.api_key, settings.timeout, settings.max_retries,
                         settings.image_size, settings.image_detail)


def load_vlm(settings) -> "VisionLanguageModel | None":
    """The configured vision-language model, or None (tools then fall back to the index's facts)."""
    from .openai_backend import OpenAIBackend
    from .transformers_vlm import TransformersVLM

    spec = settings.vlm.strip()
    if spec.lower() == "none":
        return None
    if spec.startswith("transformers:"):
        return TransformersVLM(spec.split(":", 1)[1])
    if spec.startswith("openai:") or (not spec and settings.chat_configured):
        model = spec.split(":", 1)[1] if spec else settings.chat_model
        return OpenAIBackend(model, settings.base_url, settings.api_key, settings.timeout, settings.max_retries,
                             settings.image_size, settings.image_detail)
    if spec:  # ModelSettings validates the spec; this guards settings objects built some other way
        raise SettingsError(f"setting vlm = {spec!r} is not allowed: should be one of {VLM_SPECS}. Set by VIDEOQA_VLM.")
    return None
