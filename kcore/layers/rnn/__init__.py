"""Recurrent layers in Keras 3's layout: cells, RNN, StackedRNNCells, SimpleRNN / LSTM / GRU,
Bidirectional, TimeDistributed, ConvLSTM1D/2D/3D."""
from kcore.layers.rnn.bidirectional import Bidirectional
from kcore.layers.rnn.cells import GRUCell, LSTMCell, SimpleRNNCell
from kcore.layers.rnn.conv_lstm import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D
from kcore.layers.rnn.layers import GRU, LSTM, SimpleRNN
from kcore.layers.rnn.rnn import RNN
from kcore.layers.rnn.stacked_rnn_cells import StackedRNNCells
from kcore.layers.rnn.time_distributed import TimeDistributed
