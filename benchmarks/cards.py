"""On-screen text recall on generated card videos with seeds other than the test's.

    python benchmarks/cards.py [SEED ...]        (default: 1 2 3 4 5 6)

Each seed draws ~40 random-word cards (1-3 s, titles, lower thirds, text on busy footage, plain yellow
captions) and a credits roll over real footage (tests/text_cards.py), indexes the video with the defaults in
a fresh store, and searches every card by its words and by its words with one letter changed. A card is found
when the top moment is within 1 s of its span. Prints recall, every miss, and the ingest speed.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _video import SHARED  # noqa: E402
from tests import text_cards  # noqa: E402

from videoqa import VideoQA  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("seeds", nargs="*", type=int, default=[1, 2, 3, 4, 5, 6])
    args = parser.parse_args()
    totals = {"exact": [0, 0], "one letter changed": [0, 0]}
    for seed in args.seeds:
        text_cards.SEED = seed
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"cards{seed}.mp4"
            cards = text_cards.build(SHARED, path)
            with VideoQA(store=Path(folder) / "store") as api:
                started = time.monotonic()
                video = api.index(path)
                speed = video.duration / (time.monotonic() - started)
                rng = random.Random(7)
                for variant, total in totals.items():
                    misses = text_cards.search_misses(api, video, cards, variant, rng)
                    total[0] += len(cards) - len(misses)
                    total[1] += len(cards)
                    print(f"seed {seed}, {variant}: {len(cards) - len(misses)}/{len(cards)} (ingest {speed:.1f}x realtime)")
                    for miss in misses:
                        print(f"    {miss}")
    for variant, (found, total) in totals.items():
        print(f"{variant}: {found}/{total} found top-1 within 1 s")
    print(f"reproduce: python benchmarks/cards.py {' '.join(map(str, args.seeds))}")


if __name__ == "__main__":
    main()
