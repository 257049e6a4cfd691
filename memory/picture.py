"""Cheap facts about a picture, as words: dominant colours, dark or bright, how much it moves."""

from __future__ import annotations

import cv2
import numpy as np

# Hue ranges on OpenCV's 0-180 scale.
_HUES = [(0, 10, "red"), (10, 22, "orange"), (22, 34, "yellow"), (34, 85, "green"), (85, 100, "cyan"),
         (100, 130, "blue"), (130, 150, "purple"), (150, 170, "pink"), (170, 181, "red")]


def colour_words(rgb: np.ndarray, most: int = 2) -> list[str]:
    small = cv2.resize(rgb, (64, 36), interpolation=cv2.INTER_AREA)
    hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV).reshape(-1, 3).astype(int)
    hue, sat, val = hsv[:, 0], hsv[:, 1], hsv[:, 2]
    counts: dict[str, int] = {}
    counts["black"] = int(np.sum(val < 50))
    counts["white"] = int(np.sum((val >= 200) & (sat < 40)))
    counts["gray"] = int(np.sum((val >= 50) & (sat < 40) & (val < 200)))
    coloured = (val >= 50) & (sat >= 40)
    for low, high, name in _HUES:
        counts[name] = counts.get(name, 0) + int(np.sum(coloured & (hue >= low) & (hue < high)))
    total = len(hue)
    ranked = sorted(counts.items(), key=lambda kv: -kv[1])
    return [name for name, n in ranked[:most] if n >= 0.15 * total]


def brightness_word(rgb: np.ndarray) -> str | None:
    mean = float(rgb.mean())
    return "dark" if mean < 50 else "bright" if mean > 190 else None


def motion_word(change: float | None) -> str | None:
    """`change`: mean absolute difference of tiny grey images one sample apart (0-255)."""
    if change is None:
        return None
    return "still" if change < 2 else "fast motion" if change > 25 else None
