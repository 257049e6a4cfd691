"""The transcript, beside the picture: a worker thread decodes the audio on its own and transcribes it a
window at a time, committing each window with its rows and a stage mark ("speech:N"), so a killed ingest
loses at most the window it was in, and a resumed one skips the windows already marked."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .audio import SAMPLE_RATE, audio_windows
from .store import Checkpoint, NewText, TextRow

WINDOW_SECONDS = 60.0  # Whisper reads 30-s pieces: a window is two of them; a kill loses at most this much
STAGE = "speech"


def window_stage(index: int) -> str:
    return f"{STAGE}:{index}"


def windows_done(stages: set[str]) -> tuple[int, ...]:
    """The windows a store's stage marks say are committed."""
    return tuple(sorted(int(s.split(":", 1)[1]) for s in stages if s.startswith(STAGE + ":")))


@dataclass
class SpeechWorker:
    """Transcribes `path` in windows; `commit` writes one Checkpoint (serialised with the picture's writer)."""

    path: Path
    recognizer: object  # models.base.SpeechRecognizer
    embed: Callable[[list[NewText]], None]
    embedders: dict[str, str]
    commit: Callable[[Checkpoint], object]
    skip: tuple[int, ...] = ()  # windows committed by an earlier run
    stop: threading.Event = field(default_factory=threading.Event)
    position: float = 0.0  # seconds of audio transcribed (for progress)
    windows: int = 0  # windows transcribed by this run

    def run(self) -> None:
        for window in audio_windows(self.path, WINDOW_SECONDS, set(self.skip)):
            if self.stop.is_set():
                return
            length = len(window.samples) / SAMPLE_RATE  # Whisper may place a last segment's end past the audio
            texts = [
                NewText(TextRow(window.start + min(s.start, length), window.start + min(s.end, length), "transcript", s.text))
                for s in self.recognizer.transcribe(window.samples, SAMPLE_RATE)
            ]
            self.embed(texts)
            self.commit(Checkpoint(texts=texts, embedders=self.embedders, stage_done=window_stage(window.index)))
            self.windows += 1
            self.position = window.start + length
        if not self.stop.is_set():
            self.commit(Checkpoint(embedders=self.embedders, stage_done=STAGE))
