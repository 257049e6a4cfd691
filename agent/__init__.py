"""The agent: a LangGraph graph that plans over the index and answers with timestamps and evidence."""

from .graph import build_graph

__all__ = ["build_graph"]
