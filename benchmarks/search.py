"""Search latency on a synthetic library the size of 100 hours of video at 1 fps.

    python benchmarks/search.py [--hours 100] [--queries 200]

Builds a store with 100 one-hour videos: 360,000 frame vectors (512-d, random unit vectors standing in
for CLIP image embeddings) and one text row per 4 s (90,000 rows, random 384-d vectors standing in for
tags/transcript embeddings). Queries go through the real search path: the real MiniLM text embedder for
the query, FAISS (HNSW at this size) for both modalities, calibration, SQLite lookups, moment merging.
The CLIP query vector is a random unit vector (no CLIP model ships offline)."""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

from videoqa.memory.search import search
from videoqa.memory.store import Store
from videoqa.memory.vectors import register_embedder, to_blob
from videoqa.models.registry import IndexModels
from videoqa.models.sentence import SentenceTransformerEmbedder

CLIP_DIM, TEXT_DIM = 512, 384


class RandomQueryEmbedder:
    """Stands in for a CLIP text tower: random unit vectors of CLIP's size."""

    name, dim = "benchmark-random-clip", CLIP_DIM

    def __init__(self) -> None:
        self.rng = np.random.default_rng(1)

    def embed_texts(self, texts):
        v = self.rng.standard_normal((len(texts), CLIP_DIM)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)


def unit(rng, n, dim):
    v = rng.standard_normal((n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def build(root: Path, hours: int) -> Store:
    store = Store(root)
    rng = np.random.default_rng(0)
    words = "red car street person talking slide chart dog beach bird crowd door room table screen".split()
    conn = store.conn
    with conn:
        register_embedder(conn, "clip", RandomQueryEmbedder.name, CLIP_DIM)
        register_embedder(conn, "text", "all-MiniLM-L6-v2", TEXT_DIM)
        for h in range(hours):
            vid = f"video{h:04d}"
            conn.execute(
                "INSERT INTO videos (id, path, size, duration, fps, width, height, has_audio, status, settings, created, updated)"
                " VALUES (?,?,?,?,?,?,?,?,'ready','{}',0,0)", (vid, f"/videos/{vid}.mp4", 1, 3600.0, 25.0, 1280, 720, 1))
            conn.executemany("INSERT INTO keyframes (video_id, scene_idx, time, frame, change, thumbnail) VALUES (?,?,?,?,?,?)",
                             [(vid, t // 10, float(t), t * 25, 1.0, f"thumbs/{vid}/{t}.jpg") for t in range(0, 3600, 10)])
            frame_vectors = unit(rng, 3600, CLIP_DIM)
            conn.executemany("INSERT INTO vectors (modality, video_id, kind, ref, start, end, vec) VALUES ('clip',?,?,?,?,?,?)",
                             [(vid, "frame", h * 3600 + t, float(t), float(t), to_blob(frame_vectors[t])) for t in range(3600)])
            text_vectors = unit(rng, 900, TEXT_DIM)
            for i in range(900):
                text = " ".join(rng.choice(words, 4))
                cur = conn.execute("INSERT INTO texts (video_id, start, end, source, text) VALUES (?,?,?,?,?)",
                                   (vid, i * 4.0, i * 4.0 + 4.0, "tags", text))
                conn.execute("INSERT INTO vectors (modality, video_id, kind, ref, start, end, vec) VALUES ('text',?,?,?,?,?,?)",
                             (vid, "text", cur.lastrowid, i * 4.0, i * 4.0 + 4.0, to_blob(text_vectors[i])))
    return store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=int, default=100)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        started = time.monotonic()
        store = build(Path(root), args.hours)
        built = time.monotonic() - started
        started = time.monotonic()
        for modality in ("clip", "text"):
            store.vector_index(modality).sync()
        indexed = time.monotonic() - started
        models = IndexModels(text=SentenceTransformerEmbedder(), clip=RandomQueryEmbedder())
        queries = ["a red car on the street", "the speaker shows a chart", "a dog on a beach", "people enter the room",
                   "a bird flies", "someone opens the door"]
        for q in queries:  # warm-up: model load, background samples, caches
            search(store, models, q, None, k=5)
        latencies = []
        for i in range(args.queries):
            t = time.perf_counter()
            search(store, models, queries[i % len(queries)] + f" {i}", None, k=5)
            latencies.append((time.perf_counter() - t) * 1000)
        p50, p95 = np.percentile(latencies, [50, 95])
        clip, text = store.vector_index("clip").index, store.vector_index("text").index
        kind = lambda index: type(faiss.downcast_index(index.index)).__name__  # noqa: E731
        print(f"library: {args.hours} h at 1 fps = {clip.ntotal:,} frame vectors ({CLIP_DIM}-d, {kind(clip)}) "
              f"+ {text.ntotal:,} text vectors ({TEXT_DIM}-d, {kind(text)})")
        print(f"built rows in {built:.0f} s, FAISS indexes in {indexed:.0f} s")
        print(f"search latency over {args.queries} queries (store-wide, k=5, query embedding included): "
              f"p50 {p50:.1f} ms, p95 {p95:.1f} ms  (target p95 <= 30 ms)")
        status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
        anon, mapped = (int(status[key].split()[0]) / 1024 for key in ("RssAnon", "RssFile"))
        print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB; now {anon:.0f} MB private + "
              f"{mapped:.0f} MB of mapped files (the SQLite store is memory-mapped: page cache the OS can reclaim)")
        print(f"reproduce: python benchmarks/search.py --hours {args.hours} --queries {args.queries}")


if __name__ == "__main__":
    sys.exit(main())
