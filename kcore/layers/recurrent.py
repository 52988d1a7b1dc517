"""Compatibility module: the recurrent layers live in kcore.layers.rnn."""
from kcore.layers.rnn import GRU, LSTM, RNN, Bidirectional, GRUCell, LSTMCell, SimpleRNN, SimpleRNNCell, StackedRNNCells  # noqa: F401
