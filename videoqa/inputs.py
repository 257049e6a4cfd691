"""Text a person types (a question, a search query), checked once where it enters: one QueryError line saying
what is wrong, before anything is indexed or any model is called."""

from __future__ import annotations

from videoqa.errors import QueryError

MAX_CHARS = 2000  # a question is a sentence or a paragraph, not a document (the planner's context is finite)


def check_text(text: str | None, what: str = "question", example: str = "when does the bird appear?") -> str:
    """`text` with its whitespace collapsed, or a QueryError naming `what` is wrong with it."""
    try:
        (text or "").encode("utf-8")
    except UnicodeEncodeError as exc:  # bytes that were not UTF-8 reach Python as lone surrogates (PEP 383)
        raise QueryError(
            f"The {what} is not valid UTF-8 text (an undecodable byte at character {exc.start + 1}). "
            "Type it again, or set your terminal to UTF-8."
        ) from None
    cleaned = " ".join((text or "").split())
    if not cleaned:
        raise QueryError(f"The {what} is empty. Say what you want to know, e.g. \"{example}\"")
    if len(cleaned) > MAX_CHARS:
        raise QueryError(f"The {what} is {len(cleaned):,} characters long; keep it under {MAX_CHARS:,} (one question at a time).")
    return cleaned
