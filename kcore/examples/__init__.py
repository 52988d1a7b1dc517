"""Runnable examples: python -m kcore.examples.<name>."""
