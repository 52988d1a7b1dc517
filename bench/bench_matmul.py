"""GFLOP/s of kcore matmul vs NumPy (vs PyTorch). Same as: python -m kcore.bench.matmul"""
from kcore.bench.matmul import main

main()
