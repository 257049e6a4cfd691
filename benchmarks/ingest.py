"""Ingest speed and memory: realtime factor and peak RSS for bbb.mp4 (10 min, 720p) and a 1-hour video.

    python benchmarks/ingest.py [--reader pyav|decord|auto] [--skip-hour] [--full]

Default: the index only (scenes, keyframes, frames layer; no tags, OCR or speech). --full: everything on
(tags and visual vectors, OCR, speech, text embeddings), with the time each model took.
Each ingest runs in a fresh process with a fresh store, so peak RSS is that ingest's own.
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
import collections, json, resource, sys, time
from videoqa import IndexSettings, VideoQA
from videoqa.models import efficientnet_tagger, rapidocr_reader, sentence, whisper
path, store, reader, full = sys.argv[1:5]
spent, items = collections.Counter(), collections.Counter()
def timed(cls, method):
    inner = getattr(cls, method)
    def wrapper(self, batch, *args):
        started = time.monotonic()
        result = inner(self, batch, *args)
        spent[cls.__name__] += time.monotonic() - started
        items[cls.__name__] += len(batch) if isinstance(batch, list) else 1
        return result
    setattr(cls, method, wrapper)
for cls, method in ((efficientnet_tagger.EfficientNetTagger, "tag"), (rapidocr_reader.RapidOcrReader, "read"),
                    (sentence.SentenceTransformerEmbedder, "embed_texts"), (whisper.FasterWhisperRecognizer, "transcribe")):
    timed(cls, method)
settings = IndexSettings(reader=reader) if full == "1" else IndexSettings(reader=reader, tags=False, ocr=False, speech_model=None)
started = time.monotonic()
with VideoQA(store=store, index=settings) as vqa:
    video = vqa.index(path)
wall = time.monotonic() - started
print(json.dumps({"duration": video.duration, "wall": wall, "scenes": len(video.scenes),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "models": {k: [round(v, 1), items[k]] for k, v in spent.items()}}))
"""


def measure(path: Path, reader: str, full: bool) -> dict:
    with tempfile.TemporaryDirectory() as store:
        out = subprocess.run([sys.executable, "-c", CHILD, str(path), store, reader, "1" if full else "0"],
                             capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reader", default="auto")
    parser.add_argument("--skip-hour", action="store_true")
    parser.add_argument("--full", action="store_true", help="tags, OCR, speech and embeddings on")
    args = parser.parse_args()
    bbb = SHARED / "moviepy" / "bbb.mp4"
    videos = [("bbb.mp4 (10 min, 720p)", bbb)]
    if not args.skip_hour:
        hour = concatenate([bbb] * 6, Path(__file__).resolve().parent / "out" / "bbb_x6.mp4")
        videos.append(("bbb x6 (1 h, 720p)", hour))
    what = "tags, OCR, speech, embeddings" if args.full else "index only (no tags, OCR, speech)"
    target = ">= 20x realtime" if args.full else ">= 30x realtime, peak RSS <= 1.5 GB for both"
    print(f"reader={args.reader}; {what}; no captioning. Target: {target}.")
    for label, path in videos:
        r = measure(path, args.reader, args.full)
        print(f"{label:26s} {r['duration']:8.1f} s video in {r['wall']:6.1f} s wall = {r['duration'] / r['wall']:5.1f}x realtime, "
              f"peak RSS {r['peak_rss_mb']:6.0f} MB, {r['scenes']} scenes")
        for model, (seconds, count) in r["models"].items():
            print(f"    {model:30s} {seconds:6.1f} s for {count} items ({count / seconds if seconds else 0:.1f}/s)")
    print(f"reproduce: python benchmarks/ingest.py --reader {args.reader}{' --full' if args.full else ''}{' --skip-hour' if args.skip_hour else ''}")


if __name__ == "__main__":
    main()
