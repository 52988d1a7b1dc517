"""StackedRNNCells: several cells acting as one (each step feeds the next cell's input)."""
from kcore.layers.layer import Layer
from kcore.layers.rnn._common import flatten_states


def _cell_output_size(cell):
    size = getattr(cell, "output_size", None)
    if size is not None:
        return size
    state_size = cell.state_size
    return state_size[0] if isinstance(state_size, (list, tuple)) else state_size


def check_cell(cell, owner):
    """A cell needs `call` and `state_size` (ints, or lists of ints), as Keras asks."""
    if not callable(getattr(cell, "call", None)):
        raise ValueError(f"{owner}: argument `cell` should have a `call` method. Received: cell={cell!r}")
    state_size = getattr(cell, "state_size", None)
    if state_size is None:
        raise ValueError(f"{owner}: the RNN cell should have a `state_size` attribute (single integer or list of "
                         f"integers, one integer per RNN state). Received: cell={cell!r}")
    if not all(isinstance(s, int) and s > 0 for s in flatten_states(state_size)):
        raise ValueError(f"{owner}: state_size must be a positive integer, or a list/tuple of them (one for each "
                         f"state tensor); cell {getattr(cell, 'name', cell)!r} has state_size {state_size!r}")


class StackedRNNCells(Layer):
    """Wraps a list of cells so that RNN runs them as one: the output of each cell is the next one's input.

    state_size is the list of the cells' state sizes; states are nested per cell accordingly.
    RNN over a stack of built-in cells runs each cell over the whole sequence natively.
    """

    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        cells = list(cells)
        if not cells:
            raise ValueError("StackedRNNCells needs at least one cell")
        for cell in cells:
            check_cell(cell, "StackedRNNCells")
            if isinstance(cell, Layer) and all(cell is not c for c in self._layers):
                self._layers.append(cell)
        self.cells = cells

    @property
    def state_size(self):
        return [c.state_size for c in self.cells]

    @property
    def output_size(self):
        return _cell_output_size(self.cells[-1])

    def get_initial_state(self, batch_size=None):
        from kcore.layers.rnn.rnn import zero_states

        out = []
        for cell in self.cells:
            fn = getattr(cell, "get_initial_state", None)
            if fn is not None:
                states = fn(batch_size=batch_size)
                nested = isinstance(cell.state_size, (list, tuple))
                out.append(list(states) if nested else (states[0] if isinstance(states, (list, tuple)) else states))
            else:
                out.append(zero_states(cell.state_size, batch_size, self.compute_dtype))
        return out

    def build(self, input_shape):
        batch = input_shape[0]
        for cell in self.cells:
            if isinstance(cell, Layer):
                cell._maybe_build(tuple(input_shape))
            input_shape = (batch, _cell_output_size(cell))
        self.built = True

    def call(self, inputs, states, training=None):
        """One step through every cell; states are nested per cell as `state_size`."""
        states = list(states)
        if len(states) != len(self.cells):
            raise ValueError(f"StackedRNNCells '{self.name}' holds {len(self.cells)} cells but received "
                             f"{len(states)} state entries")
        new_states = []
        for cell, cell_states in zip(self.cells, states):
            state_is_list = isinstance(cell_states, (list, tuple))
            cell_states = list(cell_states) if state_is_list else [cell_states]
            if isinstance(cell, Layer):
                inputs, cell_states = cell(inputs, cell_states, training=training)
            else:
                inputs, cell_states = cell.call(inputs, cell_states)
            if not isinstance(cell_states, (list, tuple)):
                cell_states = [cell_states]
            new_states.append(cell_states[0] if len(cell_states) == 1 and not state_is_list else list(cell_states))
        return inputs, new_states

    def reset_dropout_mask(self):
        for cell in self.cells:
            getattr(cell, "reset_dropout_mask", lambda: None)()

    def reset_recurrent_dropout_mask(self):
        for cell in self.cells:
            getattr(cell, "reset_recurrent_dropout_mask", lambda: None)()

    def _saving_children(self):
        """Keras 3 .weights.h5 keys: cells/<snake_case class name>[_<n>] in order."""
        from kcore.saving.weights_h5 import keys_by_class

        return keys_by_class("cells", self.cells)

    def get_config(self):
        from kcore.saving.serialization import serialize_layer

        config = super().get_config()
        config["cells"] = [serialize_layer(cell) for cell in self.cells]
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from kcore.saving.serialization import deserialize_layer, filter_config

        config = dict(config)
        cells = [deserialize_layer(c, custom_objects) for c in config.pop("cells")]
        return cls(cells, **filter_config(cls, config, "StackedRNNCells.from_config"))
