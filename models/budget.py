"""Per-question budgets: frames sent, tokens, seconds, money, model calls and planner steps.

Limits and usage are plain dicts in the agent's graph state (`limits()`, `usage()`), so a question's budget
travels with its thread and two questions never share one. A `Budget` is rebuilt from them for each step:
frames are charged (counted) before they are sent; tokens, seconds and money after each call. Exceeding a
limit raises BudgetExceededError. A money limit on a model whose price is unknown cannot be enforced: the
budget says so in its notes instead of pretending the call was free."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, fields

from videoqa.errors import BudgetExceededError

from .base import Usage

# USD per million tokens (input, output), for models whose price is public.
PRICES = {
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
}


def _rates(model: str) -> tuple[float, float] | None:
    for name in sorted(PRICES, key=len, reverse=True):  # "gpt-4o-mini" before "gpt-4o"
        if model == name or model.startswith(name + "-"):
            return PRICES[name]
    return None


def price_known(model: str) -> bool:
    return _rates(model) is not None


def price(model: str, input_tokens: int, output_tokens: int) -> float:
    """USD for a call; 0.0 when the price is unknown (see `price_known`)."""
    rates = _rates(model)
    return 0.0 if rates is None else (input_tokens * rates[0] + output_tokens * rates[1]) / 1e6


@dataclass
class Budget:
    max_frames: int = 64
    max_tokens: int = 200_000
    max_seconds: float = 300.0
    max_cost_usd: float = 1.00
    max_model_calls: int = 40
    max_steps: int = 8
    used: Usage = field(default_factory=Usage)
    frames_sent: int = 0
    started: float = field(default_factory=time.time)  # wall clock: a thread may resume in another process
    notes: list[str] = field(default_factory=list)

    # -- state ----------------------------------------------------------------------------------
    def limits(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name.startswith("max_")}

    def usage(self, steps: int = 0) -> dict:
        used = self.used
        return {"steps": steps, "model_calls": used.calls, "frames_sent": self.frames_sent, "input_tokens": used.input_tokens,
                "output_tokens": used.output_tokens, "seconds": round(time.time() - self.started, 3),
                "model_seconds": round(used.seconds, 3), "cost_usd": round(used.cost_usd, 6), "started": self.started,
                "notes": list(self.notes)}

    @classmethod
    def from_state(cls, limits: dict | None, usage: dict | None) -> "Budget":
        known = {f.name for f in fields(cls) if f.name.startswith("max_")}
        budget = cls(**{k: v for k, v in (limits or {}).items() if k in known})
        usage = usage or {}
        budget.used = Usage(usage.get("model_calls", 0), usage.get("input_tokens", 0), usage.get("output_tokens", 0), 0,
                            usage.get("model_seconds", 0.0), usage.get("cost_usd", 0.0))
        budget.frames_sent = usage.get("frames_sent", 0)
        budget.started = usage.get("started", budget.started)
        budget.notes = list(usage.get("notes", []))
        return budget

    # -- charging -------------------------------------------------------------------------------
    def frames_left(self) -> int:
        return max(0, self.max_frames - self.frames_sent)

    def charge_frames(self, count: int) -> None:
        """Call just before sending `count` frames: refuses past the limit, else counts them as sent."""
        if self.frames_sent + count > self.max_frames:
            raise BudgetExceededError(
                f"Frame budget spent: {self.frames_sent} of {self.max_frames} frames sent, {count} more asked. "
                "Raise it with --max-frames or narrow the time range.", "frames")
        self.frames_sent += count

    def record(self, usage: Usage, model: str = "") -> None:
        """Call after a model call with what it cost."""
        self.used.add(usage)
        if model and usage.calls and not price_known(model) and math.isfinite(self.max_cost_usd):
            note = (f"no price is known for model {model!r}, so the money limit (${self.max_cost_usd:.2f}) "
                    "is not enforced for its calls")
            if note not in self.notes:
                self.notes.append(note)
        self.check()

    def check(self) -> None:
        elapsed = time.time() - self.started
        for spent, limit, what in (
            (self.used.input_tokens + self.used.output_tokens, self.max_tokens, "tokens"),
            (self.used.cost_usd, self.max_cost_usd, "money"),
            (self.used.calls, self.max_model_calls, "model calls"),
            (elapsed, self.max_seconds, "seconds"),
        ):
            if spent > limit:
                raise BudgetExceededError(f"Budget for {what} spent ({spent:.4g} > {limit:.4g}).", what)
