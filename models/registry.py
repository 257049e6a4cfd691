"""Backends found by name. The offline defaults ship inside PyPI packages; everything else loads by name."""

from __future__ import annotations

from dataclasses import dataclass

from .base import ImageTextEmbedder, SpeechRecognizer, TextEmbedder, TextReader, VisualTagger


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
