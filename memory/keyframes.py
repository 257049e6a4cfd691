"""Keyframe choice: a few frames per segment, where the picture changes most."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .readers import DecodedFrame

_SIGNATURE_SIZE = (64, 36)


@dataclass
class Candidate:
    frame: DecodedFrame
    signature: np.ndarray  # tiny grey image, for measuring change


def signature(detect_image: np.ndarray) -> np.ndarray:
    grey = cv2.cvtColor(detect_image, cv2.COLOR_BGR2GRAY)
    return cv2.resize(grey, _SIGNATURE_SIZE, interpolation=cv2.INTER_AREA).astype(np.int16)


def pick_keyframes(candidates: list[Candidate], duration: float, most: int) -> list[tuple[Candidate, float]]:
    """Choose up to `most` candidates (about one per 10 s), ranked by how much the picture changed since
    the previous candidate. The first candidate always counts as changed most: it shows how the segment
    opens. Chosen frames are kept apart by a fraction of the segment, so they are not near-duplicates."""
    if not candidates:
        return []
    wanted = max(1, min(most, 1 + int(duration // 10)))
    changes = [math.inf] + [
        float(np.abs(c.signature - p.signature).mean()) for p, c in zip(candidates, candidates[1:])
    ]
    order = sorted(range(len(candidates)), key=lambda i: (-changes[i], i))
    spacing = duration / (2 * wanted)
    chosen: list[int] = []
    for i in order:
        if all(abs(candidates[i].frame.time - candidates[j].frame.time) >= spacing for j in chosen):
            chosen.append(i)
        if len(chosen) == wanted:
            break
    return [(candidates[i], 255.0 if math.isinf(changes[i]) else changes[i]) for i in sorted(chosen)]
