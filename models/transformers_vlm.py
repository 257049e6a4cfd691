"""Local vision-language models through transformers, by Hugging Face id (Qwen2.5-VL, SmolVLM, LLaVA and
others that `AutoModelForImageTextToText` supports). Needs the weights in the local Hugging Face cache or a
network to fetch them once. Runs on CUDA in bfloat16 when a GPU is there, else on the CPU in float32."""

from __future__ import annotations

import time
from collections.abc import Sequence

from PIL import Image

from .base import LazyModel, TimedFrame, Usage, loading, require


class TransformersVLM(LazyModel):
    def __init__(self, model_id: str, max_new_tokens: int = 200, image_size: int = 384) -> None:
        super().__init__()
        self.name = model_id
        self.max_new_tokens = max_new_tokens
        self.image_size = image_size

    def _load(self):
        torch = require("torch", "Local VLMs need torch and transformers: pip install -e .")
        transformers = require("transformers", "Local VLMs need transformers: pip install transformers")
        device = "cuda" if torch.cuda.is_available() else "cpu"
        dtype = torch.bfloat16 if device == "cuda" else torch.float32
        with loading(f"the vision-language model {self.name!r}", "It must be in the Hugging Face cache or downloadable; "
                     "or use an OpenAI-compatible server (VIDEOQA_VLM=openai:MODEL)."):
            processor = transformers.AutoProcessor.from_pretrained(self.name)
            model = transformers.AutoModelForImageTextToText.from_pretrained(self.name, dtype=dtype).to(device).eval()
        return model, processor, device

    def describe(self, prompt: str, frames: Sequence[TimedFrame]) -> tuple[str, Usage]:
        import torch

        model, processor, device = self.loaded()
        started = time.monotonic()
        content: list[dict] = []
        images = []
        for frame in frames:
            picture = Image.fromarray(frame.image)
            picture.thumbnail((self.image_size, self.image_size))
            images.append(picture)
            content += [{"type": "text", "text": f"[frame at {frame.time:.2f} s]"}, {"type": "image"}]
        content.append({"type": "text", "text": prompt})
        chat = processor.apply_chat_template([{"role": "user", "content": content}], add_generation_prompt=True)
        inputs = processor(text=chat, images=images or None, return_tensors="pt").to(device)
        with torch.inference_mode():
            output = model.generate(**inputs, max_new_tokens=self.max_new_tokens, do_sample=False)
        new_tokens = output[0, inputs["input_ids"].shape[1]:]
        text = processor.decode(new_tokens, skip_special_tokens=True).strip()
        usage = Usage(1, int(inputs["input_ids"].shape[1]), int(len(new_tokens)), len(frames), time.monotonic() - started)
        return text, usage
