"""Pooling forward+backward, kcore vs NumPy vs PyTorch. Same as: python -m kcore.bench.pool"""
from kcore.bench.pool import main

main()
