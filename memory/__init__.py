"""The hierarchical index: readers, scenes, keyframes, frames, texts, and the store that holds them."""
