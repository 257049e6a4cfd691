"""Measuring answers: datasets in public benchmark formats, metrics, and the runner behind `videoqa eval`."""
