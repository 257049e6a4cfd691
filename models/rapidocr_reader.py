"""On-screen text with RapidOCR (PP-OCRv4 ONNX models shipped inside `rapidocr-onnxruntime`)."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np

from videoqa.errors import ModelUnavailableError

from .base import LazyModel, OcrLine, require
from .cpu_inference import open_onnx


BATCH = 6  # crops per recognition call at the narrowest canvas, as RapidOCR batches them
ROOM = 1.3  # a crop is read on a canvas this much wider than the crop (at least the model's 320 px)
CANVAS_STEP = 32  # canvas widths are rounded up to this, so crops of similar widths share a batch


class RapidOcrReader(LazyModel):
    name = "rapidocr-ppocrv4"

    def __init__(self, min_score: float = 0.6, runtime: str = "auto") -> None:
        """`runtime`: where the package's two ONNX models run ("auto": OpenVINO when installed, see
        models/cpu_inference.py); each call runs on one thread, as ingest runs OCR beside decoding, tagging
        and speech on threads of their own."""
        super().__init__()
        self.runtime = runtime
        self.min_score = min_score
        self.backend: str | None = None  # the runtime the models run on, once loaded
        self._helper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="videoqa-ocr-read")

    def _load(self):
        library = require("rapidocr_onnxruntime", "OCR needs rapidocr-onnxruntime: pip install rapidocr-onnxruntime")
        # Detection runs at the size it is given (ingest passes 640-px frames): with "max" the package
        # only shrinks images above 960 px, where its default would upscale to 736 px on the short side.
        # Detecting on smaller pictures is faster but loses thin large titles ("Revenge is coming").
        engine = library.RapidOCR(det_limit_type="max", use_cls=False, intra_op_num_threads=1, inter_op_num_threads=1)
        if list(engine.text_det.mean) != [0.5] * 3 or list(engine.text_det.std) != [0.5] * 3:
            raise ModelUnavailableError("This rapidocr-onnxruntime normalises differently than videoqa expects: "
                                        "pip install rapidocr-onnxruntime==1.4.4")
        # The package's own pre- and post-processing stay; only the two networks move to the faster runtime.
        # Detection runs on a few frame sizes again and again (ingest's gate: 320, 480 and 640 px wide).
        engine.text_det.infer, self.backend = open_onnx(_model_path(engine.text_det.infer), self.runtime, fixed_shapes=3)
        engine.text_rec.session, _ = open_onnx(_model_path(engine.text_rec.session), self.runtime)
        return engine

    def read(self, image: np.ndarray) -> list[OcrLine]:
        return [line for line in self.recognise(image, self.detect(image)) if line.text]

    def detect(self, image: np.ndarray) -> list[tuple[float, float, float, float]]:
        """Where text lines are (x0, y0, x1, y1 as fractions of the image), without reading them: the cheap
        half of OCR (about 5 ms on a 320-px frame), so ingest can look for text on every sampled frame."""
        detector = self.loaded().text_det
        height, width = image.shape[:2]
        # The package's own steps, but for normalising: its numpy version took 4 ms of a 22-ms detection on a
        # 640-px frame. OpenCV does (x / 255 - 0.5) / 0.5 in one pass, in BGR order and channels first.
        resized = detector.get_preprocess(max(height, width)).resize(image)
        if resized is None:
            return []
        blob = cv2.dnn.blobFromImage(resized, 1 / 127.5, mean=(127.5, 127.5, 127.5), swapRB=True)
        boxes, _ = detector.postprocess_op(detector.infer(blob)[0], (height, width))
        boxes = detector.filter_tag_det_res(boxes, (height, width))
        if boxes is None or len(boxes) == 0:
            return []
        found = [(float(b[:, 0].min()) / width, float(b[:, 1].min()) / height, float(b[:, 0].max()) / width,
                  float(b[:, 1].max()) / height) for b in boxes]
        return sorted(found, key=lambda b: (round(b[1], 2), b[0]))

    def recognise(self, image: np.ndarray, boxes: list[tuple[float, float, float, float]]) -> list[OcrLine]:
        """Read the lines at `boxes` (fractions, e.g. from `detect` on a smaller copy of the frame): one line
        per box, in the order given; a box that does not read as text gets an empty line."""
        if not boxes:
            return []
        height, width = image.shape[:2]
        bgr = image[:, :, ::-1]
        crops = []
        for box in boxes:
            # A box found on a smaller picture is a few pixels loose: pad it so no letter is cut off.
            pad = 0.25 * (box[3] - box[1]) * height
            x0, y0 = max(0, int(box[0] * width - pad)), max(0, int(box[1] * height - pad / 2))
            x1, y1 = min(width, int(box[2] * width + pad + 1)), min(height, int(box[3] * height + pad / 2 + 1))
            crops.append(np.ascontiguousarray(bgr[y0 : max(y1, y0 + 4), x0 : max(x1, x0 + 4)]))
        results = _read_crops(self.loaded().text_rec, crops, self._helper)
        lines = []
        for box, (text, score) in zip(boxes, results):
            text = " ".join(str(text).split())
            readable = float(score) >= self.min_score and len(text) >= 2
            lines.append(OcrLine(text if readable else "", float(score), box))
        return lines


def _read_crops(recogniser, crops: list[np.ndarray], helper: ThreadPoolExecutor) -> list[tuple[str, float]]:
    """(text, score) per crop. RapidOCR pads each crop of a batch to the batch's widest, so a crop's reading
    depended on its companions (a line read again after a resume could come out differently), and a batch's
    widest line, squeezed against its right edge, read worst. Here each crop gets a canvas of its own width
    class with room on the right, and only crops of one class share a batch. On bbb.mp4's credits this
    reads 51% more characters at a higher mean score, for 15% less CPU.

    Batches are independent, so every other one runs on `helper`: in a credits roll the text thread is all
    that runs, and reading its new lines is most of its work (1.5x faster there, for 10% more CPU)."""
    _, height, least_width = recogniser.rec_image_shape
    canvases = [max(least_width, math.ceil(ROOM * height * crop.shape[1] / max(1, crop.shape[0]) / CANVAS_STEP) * CANVAS_STEP)
                for crop in crops]
    by_width: dict[int, list[int]] = {}
    for i, width in enumerate(canvases):
        by_width.setdefault(width, []).append(i)
    # Wider canvases go fewer to a call: OpenVINO keeps the buffers of the largest call it has run, so a
    # batch of six 2400-px credit lines held 350 MB for the rest of the ingest.
    batches = []
    for width, members in sorted(by_width.items()):
        size = max(1, BATCH * least_width // width)
        batches += [(width, members[start : start + size]) for start in range(0, len(members), size)]

    def read_batches(jobs: list[tuple[int, list[int]]]) -> list[list[tuple[str, float]]]:
        return [_read_batch(recogniser, [crops[i] for i in batch], width) for width, batch in jobs]

    # Every other batch on the helper, so both threads get a share of narrow and wide lines.
    elsewhere = helper.submit(read_batches, batches[1::2]) if len(batches) > 1 else None
    mine = read_batches(batches[0::2])
    theirs = elsewhere.result() if elsewhere is not None else []
    read: list[tuple[str, float]] = [("", 0.0)] * len(crops)
    for (_, batch), texts in [*zip(batches[0::2], mine), *zip(batches[1::2], theirs)]:
        for i, (text, score) in zip(batch, texts):
            read[i] = (text, score)
    return read


def _read_batch(recogniser, crops: list[np.ndarray], width: int) -> list[tuple[str, float]]:
    """Read crops of one width class on canvases `width` px wide, in one call."""
    ratio = width / recogniser.rec_image_shape[1]
    images = np.stack([recogniser.resize_norm_img(crop, ratio) for crop in crops]).astype(np.float32)
    predictions = recogniser.session(images)[0]
    return recogniser.postprocess_op(predictions, False, wh_ratio_list=[ratio] * len(crops), max_wh_ratio=ratio)


def _model_path(session) -> str:
    """The file behind one of the package's ONNX Runtime sessions."""
    return session.session._model_path
