"""Seconds per training epoch, kcore vs PyTorch (vs Keras). Same as: python -m kcore.bench.train"""
from kcore.bench.train import main

main()
