"""Prompt templates, one text file per role, loaded as package data."""

from __future__ import annotations

from functools import cache
from importlib.resources import files


@cache
def load(name: str) -> str:
    return files(__package__).joinpath(f"{name}.txt").read_text(encoding="utf-8").strip()


def render(name: str, **values: object) -> str:
    return load(name).format(**values)
