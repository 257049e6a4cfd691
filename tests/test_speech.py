"""Speech recognition with the packaged Whisper model, on the TED clip's real audio."""

from __future__ import annotations

from videoqa.memory.audio import audio_windows
from videoqa.models.whisper import FasterWhisperRecognizer

from .conftest import video_path


def test_a_minute_of_talk_skips_the_encoder_pass_language_detection_repeats_and_reads_the_same():
    recognizer = FasterWhisperRecognizer()
    model = recognizer.loaded()
    reusing = model.encode
    samples = next(audio_windows(video_path("ted"), 60.0)).samples  # ~55 s of speech: two 30-s pieces
    transcript = recognizer.transcribe(samples)
    passes = reusing.runs

    stock_passes = 0

    def stock(features):  # faster-whisper's own encoder, counted
        nonlocal stock_passes
        stock_passes += 1
        return reusing._encode(features)

    model.encode = stock
    assert recognizer.transcribe(samples) == transcript
    assert len(transcript) >= 5 and "decades" in " ".join(s.text for s in transcript)
    assert passes == stock_passes - 1 == 2  # language detection's pass is the first piece's
