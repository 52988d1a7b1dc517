"""Recurrent layers: kcore vs NumPy references vs PyTorch. Same as: python -m kcore.bench.rnn"""
from kcore.bench.rnn import main

main()
