"""Shared pytest configuration: deterministic hypothesis runs without deadlines."""

from __future__ import annotations

from hypothesis import settings

settings.register_profile("losscore", derandomize=True, deadline=None, print_blob=True)
settings.load_profile("losscore")
