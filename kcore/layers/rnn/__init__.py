"""Recurrent layers (Keras 3 layout): cells, RNN, StackedRNNCells, SimpleRNN / LSTM / GRU, Bidirectional, TimeDistributed."""
from kcore.layers.rnn.bidirectional import Bidirectional
from kcore.layers.rnn.cells import GRUCell, LSTMCell, SimpleRNNCell
from kcore.layers.rnn.layers import GRU, LSTM, SimpleRNN
from kcore.layers.rnn.rnn import RNN
from kcore.layers.rnn.stacked_rnn_cells import StackedRNNCells
from kcore.layers.rnn.time_distributed import TimeDistributed
