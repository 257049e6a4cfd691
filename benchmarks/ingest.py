"""Ingest speed and memory: realtime factor and peak RSS for bbb.mp4 (10 min, 720p) and a 1-hour video.

    python benchmarks/ingest.py [--reader pyav|decord|auto] [--skip-hour]

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
import json, resource, sys, time
from videoqa import IndexSettings, VideoQA
path, store, reader = sys.argv[1:4]
started = time.monotonic()
with VideoQA(store=store, index=IndexSettings(reader=reader)) as vqa:
    video = vqa.index(path)
wall = time.monotonic() - started
print(json.dumps({"duration": video.duration, "wall": wall, "scenes": len(video.scenes),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def measure(path: Path, reader: str) -> dict:
    with tempfile.TemporaryDirectory() as store:
        out = subprocess.run([sys.executable, "-c", CHILD, str(path), store, reader], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reader", default="auto")
    parser.add_argument("--skip-hour", action="store_true")
    args = parser.parse_args()
    bbb = SHARED / "moviepy" / "bbb.mp4"
    videos = [("bbb.mp4 (10 min, 720p)", bbb)]
    if not args.skip_hour:
        hour = concatenate([bbb] * 6, Path(__file__).resolve().parent / "out" / "bbb_x6.mp4")
        videos.append(("bbb x6 (1 h, 720p)", hour))
    print(f"reader={args.reader}; no captioning. Target: >= 30x realtime, peak RSS <= 1.5 GB for both.")
    for label, path in videos:
        r = measure(path, args.reader)
        print(f"{label:26s} {r['duration']:8.1f} s video in {r['wall']:6.1f} s wall = {r['duration'] / r['wall']:5.1f}x realtime, "
              f"peak RSS {r['peak_rss_mb']:6.0f} MB, {r['scenes']} scenes")
    print(f"reproduce: python benchmarks/ingest.py --reader {args.reader}")


if __name__ == "__main__":
    main()
