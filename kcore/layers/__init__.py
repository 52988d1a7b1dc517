"""kcore.layers: Keras layers on kcore's native ops."""
from kcore.layers.core import Activation, Dense, Dropout, Flatten, Lambda, Reshape
from kcore.layers.input_layer import Input, InputLayer
from kcore.layers.layer import InputSpec, Layer
from kcore.layers.merging import (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract, add, average,
                                  concatenate, dot, maximum, minimum, multiply, subtract)
from kcore.layers.normalization import BatchNormalization, LayerNormalization
from kcore.layers.embedding import Embedding, Masking
from kcore.layers.recurrent import GRU, LSTM, Bidirectional, SimpleRNN
