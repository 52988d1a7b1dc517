"""SimpleRNN/LSTM/GRU kernels and an Embedding->LSTM training epoch: kcore vs NumPy vs PyTorch.
Same as: python -m kcore.bench.rnn"""
from kcore.bench.rnn import main

main()
