"""On-screen text with RapidOCR (PP-OCRv4 ONNX models shipped inside `rapidocr-onnxruntime`)."""

from __future__ import annotations

import numpy as np

from .base import LazyModel, OcrLine, require


class RapidOcrReader(LazyModel):
    name = "rapidocr-ppocrv4"

    def __init__(self, min_score: float = 0.6, threads: int = 2) -> None:
        super().__init__()
        self.threads = threads
        self.min_score = min_score

    def _load(self):
        library = require("rapidocr_onnxruntime", "OCR needs rapidocr-onnxruntime: pip install rapidocr-onnxruntime")
        # Detection runs at the size it is given (ingest passes 640-px frames): with "max" the package
        # only shrinks images above 960 px, where its default would upscale to 736 px on the short side.
        # Detecting on smaller pictures is faster but loses thin large titles ("Revenge is coming").
        return library.RapidOCR(det_limit_type="max", use_cls=False, intra_op_num_threads=self.threads, inter_op_num_threads=1)

    def read(self, image: np.ndarray) -> list[OcrLine]:
        engine = self.loaded()
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
