"""Speech recognition with the packaged Whisper model, on the TED clip's real audio."""

from __future__ import annotations

from videoqa.memory.audio import audio_windows
from videoqa.models.base import SpeechSegment
from videoqa.models.whisper import FasterWhisperRecognizer

from .conftest import video_path


def test_each_piece_of_speech_is_encoded_once_and_reads_as_faster_whisper_alone_reads_it():
    recognizer = FasterWhisperRecognizer()
    model = recognizer.loaded()
    reusing = model.encode
    # ~55 s of speech (two 30-s pieces), then the last 1.7 s of the talk (one piece).
    windows = [w.samples for w in audio_windows(video_path("ted"), 60.0)]
    assert len(windows) == 2

    ours, our_passes = [], []
    for samples in windows:
        before = reusing.runs
        ours.append(recognizer.transcribe(samples))
        our_passes.append(reusing.runs - before)

    stock_passes = 0

    def stock_encode(features):  # faster-whisper's own encoder, counted, nothing reused
        nonlocal stock_passes
        stock_passes += 1
        return reusing._encode(features)

    model.encode = stock_encode
    stock, passes = [], []
    for samples in windows:  # faster-whisper on its own: it detects the language itself
        stock_passes = 0
        segments, _ = model.transcribe(samples, vad_filter=True, beam_size=1, condition_on_previous_text=False)
        stock.append([SpeechSegment(float(s.start), float(s.end), s.text.strip()) for s in segments if s.text.strip()])
        passes.append(stock_passes)

    assert ours == stock
    assert len(ours[0]) >= 5 and "decades" in " ".join(s.text for s in ours[0])
    assert our_passes == [2, 1] and passes == [3, 2]  # language detection's pass is the first piece's


def test_a_window_whose_only_sounds_are_too_short_for_a_word_costs_no_encoder_pass():
    """bbb.mp4 has no dialogue; its score has two sounds the VAD hears as 0.1 s of voice (minutes 2 and 3).
    The TED clip's last window, 1.5 s of voice, is still transcribed."""
    recognizer = FasterWhisperRecognizer()
    encoder = recognizer.loaded().encode
    film = [w.samples for w in audio_windows(video_path("bbb"), 60.0) if w.index in (2, 3)]
    assert [recognizer.transcribe(samples) for samples in film] == [[], []]
    assert encoder.runs == 0
    last = [w.samples for w in audio_windows(video_path("ted"), 60.0)][-1]
    assert recognizer.transcribe(last) and encoder.runs == 1
