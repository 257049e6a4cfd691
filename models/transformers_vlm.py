"""Local vision-language models through transformers, by Hugging Face id (Qwen2.5-VL, SmolVLM, LLaVA and
others that `AutoModelForImageTextToText` supports). Needs the weights in the local Hugging Face cache or a
network to fetch them once. Runs on CUDA in bfloat16 when a GPU is there, else on the CPU in float32."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from PIL import Image

from videoqa.errors import ModelUnavailableError

from .base import TimedFrame, Usage


class TransformersVLM:
    def __init__(self, model_id: str, max_new_tokens: int = 200, image_size: int = 384) -> None:
        self.name = model_id
        self.max_new_tokens = max_new_tokens
        self.image_size = image_size
        self._model = None
        self._processor = None
        self._lock = threading.Lock()

    def _load(self):
        with self._lock:
            if self._model is None:
                try:
                    import torch
                    from transformers import AutoModelForImageTextToText, AutoProcessor
                except ImportError as exc:
                    raise ModelUnavailableError("Local VLMs need transformers: pip install transformers") from exc
                device = "cuda" if torch.cuda.is_available() else "cpu"
                dtype = torch.bfloat16 if device == "cuda" else torch.float32
                try:
                    self._processor = AutoProcessor.from_pretrained(self.name)
                    self._model = AutoModelForImageTextToText.from_pretrained(self.name, dtype=dtype).to(device).eval()
                except Exception as exc:  # hub, cache and architecture errors come in many types
                    raise ModelUnavailableError(
                        f"Cannot load the vision-language model {self.name!r} ({type(exc).__name__}: {str(exc).splitlines()[0][:160]}). "
                        "It must be in the Hugging Face cache or downloadable; or use an OpenAI-compatible server (VIDEOQA_VLM=openai:MODEL)."
                    ) from exc
                self._device = device
        return self._model

    def describe(self, prompt: str, frames: Sequence[TimedFrame]) -> tuple[str, Usage]:
        import torch

        model = self._load()
        started = time.monotonic()
        content: list[dict] = []
        images = []
        for frame in frames:
            picture = Image.fromarray(frame.image)
            picture.thumbnail((self.image_size, self.image_size))
            images.append(picture)
            content += [{"type": "text", "text": f"[frame at {frame.time:.2f} s]"}, {"type": "image"}]
        content.append({"type": "text", "text": prompt})
        chat = self._processor.apply_chat_template([{"role": "user", "content": content}], add_generation_prompt=True)
        inputs = self._processor(text=chat, images=images or None, return_tensors="pt").to(self._device)
        with torch.inference_mode():
            output = model.generate(**inputs, max_new_tokens=self.max_new_tokens, do_sample=False)
        new_tokens = output[0, inputs["input_ids"].shape[1]:]
        text = self._processor.decode(new_tokens, skip_special_tokens=True).strip()
        usage = Usage(1, int(inputs["input_ids"].shape[1]), int(len(new_tokens)), len(frames), time.monotonic() - started)
        return text, usage
