"""On-screen text with RapidOCR (PP-OCRv4 ONNX models shipped inside `rapidocr-onnxruntime`)."""

from __future__ import annotations

import threading

import numpy as np

from videoqa.errors import ModelUnavailableError

from .base import OcrLine


class RapidOcrReader:
    name = "rapidocr-ppocrv4"

    def __init__(self, min_score: float = 0.6, threads: int = 2) -> None:
        self.threads = threads
        self.min_score = min_score
        self._engine = None
        self._lock = threading.Lock()

    def _load(self):
        with self._lock:
            if self._engine is None:
                try:
                    from rapidocr_onnxruntime import RapidOCR
                except ImportError as exc:
                    raise ModelUnavailableError("OCR needs rapidocr-onnxruntime: pip install rapidocr-onnxruntime") from exc
                # Detection runs at the size it is given (ingest passes 640-px frames): with "max" the package
                # only shrinks images above 960 px, where its default would upscale to 736 px on the short side.
                # Detecting on smaller pictures is faster but loses thin large titles ("Revenge is coming").
                self._engine = RapidOCR(
                    det_limit_type="max", use_cls=False, intra_op_num_threads=self.threads, inter_op_num_threads=1
                )
        return self._engine

    def read(self, image: np.ndarray) -> list[OcrLine]:
        engine = self._load()
        result, _ = engine(np.ascontiguousarray(image[:, :, ::-1]))  # RapidOCR expects BGR
        height, width = image.shape[:2]
        lines = []
        for box, text, score in result or []:
            text = " ".join(str(text).split())
            if float(score) < self.min_score or len(text) < 2:
                continue
            xs, ys = [p[0] for p in box], [p[1] for p in box]
            lines.append(OcrLine(text, float(score), (min(xs) / width, min(ys) / height, max(xs) / width, max(ys) / height)))
        return lines
