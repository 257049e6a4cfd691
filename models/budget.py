"""Per-question budgets: frames sent, tokens, seconds, money and model calls. Charged before a call
(frames) and after it (tokens, seconds, money); exceeding any raises BudgetExceededError."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from videoqa.errors import BudgetExceededError

from .base import Usage

# USD per million tokens (input, output), for models whose price is public.
PRICES = {
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
}


def price(model: str, input_tokens: int, output_tokens: int) -> float:
    for name in sorted(PRICES, key=len, reverse=True):  # "gpt-4o-mini" before "gpt-4o"
        if model == name or model.startswith(name + "-"):
            rate_in, rate_out = PRICES[name]
            return (input_tokens * rate_in + output_tokens * rate_out) / 1e6
    return 0.0


@dataclass
class Budget:
    max_frames: int = 64
    max_tokens: int = 200_000
    max_seconds: float = 300.0
    max_cost_usd: float = 1.00
    max_model_calls: int = 40
    used: Usage = field(default_factory=Usage)
    started: float = field(default_factory=time.monotonic)

    def frames_left(self) -> int:
        return max(0, self.max_frames - self.used.images)

    def charge_frames(self, count: int) -> None:
        """Call before sending `count` frames."""
        if self.used.images + count > self.max_frames:
            raise BudgetExceededError(
                f"Frame budget spent: {self.used.images} of {self.max_frames} frames sent, {count} more asked. "
                "Raise it with --max-frames or narrow the time range.", "frames")

    def record(self, usage: Usage) -> None:
        """Call after a model call with what it cost."""
        self.used.add(usage)
        self.check()

    def check(self) -> None:
        elapsed = time.monotonic() - self.started
        for spent, limit, what in (
            (self.used.input_tokens + self.used.output_tokens, self.max_tokens, "tokens"),
            (self.used.cost_usd, self.max_cost_usd, "money"),
            (self.used.calls, self.max_model_calls, "model calls"),
            (elapsed, self.max_seconds, "seconds"),
        ):
            if spent > limit:
                raise BudgetExceededError(f"Budget for {what} spent ({spent:.4g} > {limit:.4g}).", what)
