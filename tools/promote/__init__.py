"""Promotion (`python -m tools.promote`): pins the model package a stack serves, and verifies it before a deploy."""
