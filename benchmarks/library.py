"""Library ingest, serial against Ray workers: videos per hour, aggregate realtime factor, CPU seconds.

    python benchmarks/library.py [--workers 2] [--light] [--split 300] [--videos DIR]

The library is every video in ../shared/videos (14 files, 14.6 min; bbb.mp4 is 10 of them, cut into parts
of at most --split seconds so it can use both workers). Each mode runs in a fresh process with a fresh store;
the Ray run includes starting the local cluster and loading the models in each worker. CPU seconds are
user+sys of the driver and (for Ray) of the units on the workers: on a shared machine they are the figure to
scale from, wall time is not. --light: no OCR and no speech (tags, vectors, subtitles on).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _video import SHARED  # noqa: E402

CHILD = r"""
import json, resource, sys, time
from videoqa import IndexSettings, VideoQA
from videoqa.library import video_files
folder, store, workers, light, split = sys.argv[1:6]
settings = IndexSettings(split_seconds=float(split))
if light == "1":
    settings = IndexSettings(split_seconds=float(split), ocr=False, speech_model=None)
files = video_files([folder])
final = {}
def keep(state):
    final["cpu"], final["commit"] = state.cpu_seconds, state.commit_seconds
started = time.monotonic()
with VideoQA(store=store, index=settings) as vqa:
    if workers == "0":
        videos = [vqa.index(f) for f in files]
        duration = sum(v.duration for v in videos)
    else:
        reports = vqa.index_library(files, int(workers), progress=keep)
        assert all(r.status == "indexed" for r in reports), [(r.path, r.error) for r in reports]
        duration = sum(r.duration for r in reports)
wall = time.monotonic() - started
own = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"videos": len(files), "duration": duration, "wall": wall, "driver_cpu": own.ru_utime + own.ru_stime, "commit_cpu": final.get("commit", 0.0),
                  "cpu": own.ru_utime + own.ru_stime + final.get("cpu", 0.0)}))
"""


def measure(folder: Path, workers: int, light: bool, split: float) -> dict:
    with tempfile.TemporaryDirectory() as store:
        out = subprocess.run([sys.executable, "-c", CHILD, str(folder), store, str(workers), "1" if light else "0", str(split)],
                             capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"the {'serial' if not workers else 'Ray'} run failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--light", action="store_true", help="no OCR and no speech")
    parser.add_argument("--split", type=float, default=300.0, help="cut videos longer than this into parts (seconds)")
    parser.add_argument("--videos", type=Path, default=SHARED)
    args = parser.parse_args()
    print(f"library: {args.videos}; {'light (no OCR, no speech)' if args.light else 'defaults (tags, OCR, speech, subtitles)'}; "
          f"split at {args.split:.0f} s")
    rows = []
    for workers in (0, args.workers):
        r = measure(args.videos, workers, args.light, args.split)
        label = "serial" if not workers else f"ray --workers {workers}"
        per_cpu = r["duration"] / r["cpu"]
        rows.append((label, r, per_cpu))
        print(f"{label:18s} {r['videos']} videos, {r['duration'] / 60:5.1f} min in {r['wall']:6.1f} s wall = "
              f"{r['videos'] / r['wall'] * 3600:6.0f} videos/h, {r['duration'] / r['wall']:5.1f}x realtime; "
              f"{r['cpu']:6.1f} CPU s = {per_cpu:5.1f} s of video per CPU second")
    ray_run, per_core = rows[-1][1], rows[-1][2]
    writer = ray_run["duration"] / max(ray_run["commit_cpu"], 1e-3)
    print(f"the Ray run's driver used {ray_run['driver_cpu']:.1f} CPU s (start-up, planning, writing), of which the "
          f"commits {ray_run['commit_cpu']:.2f} s = {writer:.0f} s of video per CPU second of the one writer")
    cpu_hours = 3.6e6 / per_core / 3600
    print(f"1,000 h of video = 3.6e6 s / {per_core:.1f} = {cpu_hours:.0f} CPU hours at the Ray run's rate; on N nodes of M cores "
          f"{cpu_hours:.0f} / (N*M) hours (e.g. 10 x 16: {cpu_hours / 160:.1f} h) while the writer keeps up: "
          f"it needs 3.6e6 / {writer:.0f} = {3.6e6 / writer / 3600:.1f} h of one core")
    print(f"reproduce: python benchmarks/library.py --workers {args.workers} --split {args.split:.0f}{' --light' if args.light else ''}")


if __name__ == "__main__":
    main()
