"""OpenAI-compatible chat and vision backend (the `openai` SDK): GPT-4o, or any server speaking the same
wire format (vLLM, Ollama, llama.cpp server, LM Studio) through `base_url`."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Sequence

import cv2

from videoqa.errors import ModelServerError, ModelUnavailableError

from .base import ChatMessage, ChatReply, TimedFrame, ToolCall, Usage
from .budget import price


def encode_jpeg(image, max_side: int) -> tuple[str, tuple[int, int]]:
    """Base64 JPEG of an RGB image at most `max_side` pixels on its long side; returns (data, (w, h))."""
    height, width = image.shape[:2]
    scale = min(1.0, max_side / max(height, width))
    if scale < 1.0:
        image = cv2.resize(image, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
    ok, buffer = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85])
    return base64.b64encode(buffer.tobytes()).decode(), (image.shape[1], image.shape[0])


class OpenAIBackend:
    """Implements both ChatModel and VisionLanguageModel."""

    def __init__(self, model: str = "gpt-4o", base_url: str | None = None, api_key: str | None = None,
                 timeout: float = 60.0, max_retries: int = 2, image_size: int = 512, detail: str = "low",
                 max_output_tokens: int = 800) -> None:
        try:
            import openai
        except ImportError as exc:  # pragma: no cover - a core dependency
            raise ModelUnavailableError("The OpenAI backend needs the openai package: pip install openai") from exc
        self.name = model
        self.base_url = base_url or "https://api.openai.com/v1"
        self.timeout = timeout
        self.max_retries = max_retries
        self.image_size = image_size
        self.detail = detail
        self.max_output_tokens = max_output_tokens
        # Local servers accept any key; the SDK insists on one. Retries are the SDK's own (backoff with jitter,
        # Retry-After honoured), so no hand-written loop here.
        self._client = openai.OpenAI(base_url=base_url, api_key=api_key or "not-needed", timeout=timeout, max_retries=max_retries)
        self._openai = openai

    # -- ChatModel --------------------------------------------------------------------------------
    def chat(self, messages: Sequence[ChatMessage], tools: Sequence[dict] | None = None) -> ChatReply:
        payload = [_wire_message(m) for m in messages]
        response, seconds = self._create(payload, tools)
        return self._reply(response, seconds, images=0)

    # -- VisionLanguageModel ----------------------------------------------------------------------
    def describe(self, prompt: str, frames: Sequence[TimedFrame]) -> tuple[str, Usage]:
        parts: list[dict] = [{"type": "text", "text": prompt}]
        for frame in frames:
            data, _ = encode_jpeg(frame.image, self.image_size)
            parts.append({"type": "text", "text": f"[frame at {frame.time:.2f} s]"})
            parts.append({"type": "image_url", "image_url": {"url": f"data:image/jpeg;base64,{data}", "detail": self.detail}})
        response, seconds = self._create([{"role": "user", "content": parts}], None)
        reply = self._reply(response, seconds, images=len(frames))
        return reply.text, reply.usage

    # -- the wire ---------------------------------------------------------------------------------
    def _create(self, payload: list[dict], tools: Sequence[dict] | None):
        """One completion. The SDK retries what retrying can fix (connection errors, timeouts, 408, 409, 429,
        5xx) with jittered backoff, honouring Retry-After; what is left becomes one line."""
        openai = self._openai
        options: dict = {"model": self.name, "messages": payload, "max_tokens": self.max_output_tokens}
        if tools:
            options["tools"] = list(tools)
        where = f"the model server at {self.base_url}"
        tries = f"{self.max_retries + 1} {'try' if self.max_retries == 0 else 'tries'}"
        started = time.monotonic()
        try:
            response = self._client.chat.completions.create(**options)
        except openai.AuthenticationError as exc:
            raise ModelServerError(f"{where} refused the API key (401). Set OPENAI_API_KEY to a valid key.") from exc
        except openai.PermissionDeniedError as exc:
            raise ModelServerError(f"{where} denied access to {self.name} (403). Check the key's permissions.") from exc
        except openai.NotFoundError as exc:
            raise ModelServerError(
                f"{where} has no model {self.name!r} (404). Set VIDEOQA_CHAT_MODEL / VIDEOQA_VLM to a model it serves."
            ) from exc
        except openai.BadRequestError as exc:
            raise ModelServerError(f"{where} rejected the request (400): {_message(exc)}") from exc
        except openai.APITimeoutError as exc:  # before APIConnectionError, its base class
            raise ModelServerError(f"{where} did not answer within {self.timeout:.0f} s ({tries}). Is it overloaded?") from exc
        except openai.APIConnectionError as exc:
            raise ModelServerError(f"Cannot reach {where} ({tries}): is it running? (set OPENAI_BASE_URL to the right address)") from exc
        except openai.RateLimitError as exc:
            raise ModelServerError(f"{where} is rate-limiting us (HTTP 429) after {tries}: {_message(exc)}. Wait, or raise the account's limit.") from exc
        except openai.APIStatusError as exc:
            raise ModelServerError(f"{where} failed with HTTP {exc.status_code} after {tries}: {_message(exc)}") from exc
        except (openai.APIResponseValidationError, json.JSONDecodeError, ValueError) as exc:
            raise ModelServerError(f"{where} sent a malformed response ({type(exc).__name__}). Check it speaks the OpenAI API.") from exc
        except openai.APIError as exc:
            raise ModelServerError(f"{where} failed: {_message(exc)}") from exc
        if not hasattr(response, "choices") or not response.choices:
            raise ModelServerError(f"{where} sent a malformed response (no choices). Check it speaks the OpenAI API.")
        return response, time.monotonic() - started

    def _reply(self, response, seconds: float, images: int) -> ChatReply:
        message = response.choices[0].message
        calls = []
        for call in message.tool_calls or []:
            raw = call.function.arguments or "{}"
            try:
                arguments = json.loads(raw)
                error = None if isinstance(arguments, dict) else "arguments must be a JSON object"
            except json.JSONDecodeError as exc:
                arguments, error = {}, f"arguments are not valid JSON ({exc.msg})"
            calls.append(ToolCall(call.id or f"call_{len(calls)}", call.function.name, arguments if isinstance(arguments, dict) else {}, raw, error))
        usage_in = getattr(response.usage, "prompt_tokens", 0) or 0 if response.usage else 0
        usage_out = getattr(response.usage, "completion_tokens", 0) or 0 if response.usage else 0
        usage = Usage(1, usage_in, usage_out, images, seconds, price(self.name, usage_in, usage_out))
        return ChatReply(message.content or "", calls, usage)


def _wire_message(message: ChatMessage) -> dict:
    wire: dict = {"role": message.role, "content": message.content}
    if message.tool_calls:
        wire["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.raw_arguments or json.dumps(c.arguments)}}
            for c in message.tool_calls
        ]
    if message.tool_call_id:
        wire["tool_call_id"] = message.tool_call_id
    return wire


def _message(exc: Exception) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        detail = body.get("error", body)
        if isinstance(detail, dict):
            return str(detail.get("message", detail))
        return str(detail)
    return str(exc).splitlines()[0][:200]
