"""Tests of the pure rating engine (bridge.rating)."""
