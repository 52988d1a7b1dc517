"""Functional models: a graph of layer calls from Input tensors (or any symbolic tensor) to outputs."""
from kcore.layers.input_layer import InputLayer
from kcore.layers.keras_tensor import KerasTensor, flatten, map_structure
from kcore.models.model import Model
from kcore.utils import naming


class Functional(Model):
    """A model defined by a graph of layers from Input tensors to output tensors (Model(inputs, outputs))."""

    _inputs_in_variable_dtype = True  # as Keras: each layer casts to its compute dtype

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        Model.__init__(self, name=name or naming.unique_name("model"), trainable=trainable, **kwargs)
        self._input_struct = inputs
        self._output_struct = outputs
        self.inputs = _check_tensors(flatten(inputs), "inputs")
        self.outputs = _check_tensors(flatten(outputs), "outputs")
        self._nodes = _nodes_between(self.inputs, self.outputs)
        for layer in self._graph_layers():
            if layer is not self and all(layer is not known for known in self._layers):
                self._layers.append(layer)
        self.built = True
        self._build_shape = [t.shape for t in self.inputs] if len(self.inputs) > 1 else self.inputs[0].shape
        shapes = [t.shape for t in self.outputs]
        self._output_shape = shapes if len(shapes) > 1 else shapes[0]

    def _graph_layers(self):
        return _layers_by_depth(self.inputs, self.outputs)

    @property
    def input_names(self):
        return [t._keras_history[0].name for t in self.inputs]

    @property
    def output_names(self):
        return [t._keras_history[0].name for t in self.outputs]

    @property
    def input_shape(self):
        return self._build_shape

    def call(self, inputs, training=None, mask=None):
        values = {}
        flat = self._flatten_call_inputs(inputs)
        for kt, value in zip(self.inputs, flat):
            values[id(kt)] = value
        for node in self._nodes:
            args = map_structure(lambda t: values[id(t)], node.inputs,
                                 is_leaf=lambda t: isinstance(t, KerasTensor))
            out = node.layer(args, *node.args, **{**node.kwargs, "training": training})
            outs = out if isinstance(out, (list, tuple)) else [out]
            for kt, v in zip(node.outputs, outs):
                values[id(kt)] = v
        result = [values[id(t)] for t in self.outputs]
        if isinstance(self._output_struct, dict):
            return dict(zip(self._output_struct.keys(), result))
        if isinstance(self._output_struct, (list, tuple)):
            return result
        return result[0]

    def _flatten_call_inputs(self, inputs):
        if isinstance(inputs, dict):
            names = self.input_names
            missing = [n for n in names if n not in inputs]
            if missing:
                raise ValueError(f"Model '{self.name}' expects inputs {names}; missing {missing}")
            return [inputs[n] for n in names]
        flat = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        if len(flat) != len(self.inputs):
            raise ValueError(f"Model '{self.name}' expects {len(self.inputs)} input(s), but it received "
                             f"{len(flat)} input tensors")
        for kt, value in zip(self.inputs, flat):
            shape = getattr(value, "shape", None)
            if shape is not None and len(shape) != len(kt.shape):
                raise ValueError(f"Input of model '{self.name}' has rank {len(shape)} (shape {tuple(shape)}), but the "
                                 f"model expects shape {kt.shape}")
        return flat

    def compute_output_shape(self, input_shape):
        return self._output_shape

    def build(self, input_shape):
        self.built = True

    def _summary_rows(self):
        nodes_in_model = {id(n) for n in self._nodes}
        linear = _is_sequential_like(self)
        rows = []
        for layer in self.layers:
            if linear:
                rows.append((layer, None))
                continue
            connections = []
            for node in layer._inbound_nodes:
                if id(node) not in nodes_in_model:
                    continue
                for t in node.input_tensors:
                    src, node_index, tensor_index = t._keras_history
                    connections.append(f"{src.name}[{node_index}][{tensor_index}]")
            rows.append((layer, connections))
        return rows

    def get_config(self):
        from kcore.saving.serialization import functional_config

        return functional_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuilds a functional model (also one nested in another model) from `get_config`'s layout."""
        from kcore.saving.serialization import functional_from_config

        return functional_from_config(config, custom_objects)


def _check_tensors(tensors, what):
    for t in tensors:
        if not isinstance(t, KerasTensor):
            raise TypeError(f"Model {what} must be symbolic tensors (from kcore.Input or a layer called on one), "
                            f"got {type(t).__name__}: {t!r}")
    return tensors


def _nodes_between(inputs, outputs):
    """The layer calls needed to compute `outputs` from `inputs`, in execution order."""
    input_ids = {id(t) for t in inputs}
    order, visited, reached_inputs = [], set(), set()

    def visit(tensor, path):
        if id(tensor) in input_ids:
            reached_inputs.add(id(tensor))
            return
        layer, node_index, _ = tensor._keras_history
        node = layer._inbound_nodes[node_index]
        if isinstance(layer, InputLayer):
            raise ValueError(f"Graph disconnected: cannot obtain value for tensor {tensor} at layer "
                             f"'{layer.name}'. The path to it from the outputs is {' <- '.join(reversed(path))}; "
                             f"add this Input to the model's inputs")
        if id(node) in visited:
            return
        for t in node.input_tensors:
            visit(t, path + [layer.name])
        visited.add(id(node))
        order.append(node)

    for out in outputs:
        visit(out, [])
    unused = [t for t in inputs if id(t) not in reached_inputs]
    if unused:
        raise ValueError(f"Model inputs {unused} are not connected to the outputs {outputs}")
    return order


def _layers_by_depth(inputs, outputs):
    """The graph's layers in Keras's order: deepest first (distance to the outputs, a layer shared at several
    depths counts at its deepest), ties in the order a depth-first walk from the outputs first meets them."""
    input_ids = {id(t) for t in inputs}
    first_seen, post_order, finished = {}, [], set()

    def node_of(tensor):
        layer, node_index, _ = tensor._keras_history
        return layer._inbound_nodes[node_index]

    def visit(tensor):
        node = node_of(tensor)
        if id(node) in finished:
            return
        finished.add(id(node))
        if id(tensor) in input_ids and not isinstance(node.layer, InputLayer):
            return  # an intermediate tensor given as a model input: its producer is outside the graph
        first_seen.setdefault(id(node.layer), len(first_seen))
        for t in node.input_tensors:
            visit(t)
        post_order.append(node)

    for out in outputs:
        visit(out)
    in_graph = {id(n) for n in post_order}
    node_depth, layer_depth, layers = {}, {}, {}
    for node in reversed(post_order):
        depth = max(node_depth.setdefault(id(node), 0), layer_depth.get(id(node.layer), 0))
        layer_depth[id(node.layer)] = node_depth[id(node)] = depth
        layers[id(node.layer)] = node.layer
        for parent in (node_of(t) for t in node.input_tensors):
            if id(parent) in in_graph:
                node_depth[id(parent)] = max(depth + 1, node_depth.get(id(parent), 0))
    return sorted(layers.values(), key=lambda layer: (-layer_depth[id(layer)], first_seen[id(layer)]))


def _is_sequential_like(model):
    """Classic Keras prints a plain (Sequential-style) table when the graph is a single chain."""
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        return False
    seen_layers = set()
    for node in model._nodes:
        if len(node.input_tensors) != 1 or id(node.layer) in seen_layers:
            return False
        seen_layers.add(id(node.layer))
    consumers = {}
    for node in model._nodes:
        t = node.input_tensors[0]
        consumers[id(t)] = consumers.get(id(t), 0) + 1
    return all(c == 1 for c in consumers.values())
