"""Conv forward+backward, kcore vs NumPy im2col vs PyTorch. Same as: python -m kcore.bench.conv"""
from kcore.bench.conv import main

main()
