"""plot_model / model_to_dot: a model's layer diagram through pydot and Graphviz's `dot`.

Each layer is a box (name, class, and on request output shape, dtype, activation, trainable);
arrows follow the data. Nested models are one box, or a cluster of their own layers with
`expand_nested=True`. Needs `pip install pydot` and Graphviz (`apt-get install graphviz`).
"""
import html
import os
import shutil


def _pydot():
    try:
        import pydot
    except ImportError:
        raise ImportError("plot_model needs pydot and Graphviz: pip install pydot (or kcore[plot]), and "
                          "Graphviz's `dot` program (e.g. apt-get install graphviz)") from None
    return pydot


def _check_graphviz():
    if shutil.which("dot") is None:
        raise ImportError("plot_model needs Graphviz's `dot` program on PATH (e.g. apt-get install graphviz; "
                          "pydot is installed)")


def _shape_text(layer):
    shape = getattr(layer, "output_shape", None) if layer.built else None
    return "?" if shape is None else str(shape)


def _label(layer, show_shapes, show_dtype, show_layer_names, show_layer_activations, show_trainable):
    """An HTML-like Graphviz label: a small table, one row per requested fact."""
    title = f"{layer.name} ({type(layer).__name__})" if show_layer_names else type(layer).__name__
    rows = [f'<tr><td bgcolor="#e8eef7"><b>{html.escape(title)}</b></td></tr>']
    facts = []
    if show_shapes:
        facts.append(f"Output shape: {_shape_text(layer)}")
    if show_dtype:
        facts.append(f"dtype: {getattr(layer, 'dtype', None) or '?'}")
    activation = getattr(layer, "activation", None)
    if show_layer_activations and activation is not None:
        facts.append(f"Activation: {getattr(activation, '__name__', str(activation))}")
    if show_trainable:
        facts.append(f"Trainable: {'yes' if layer.trainable else 'no'}")
    rows += [f"<tr><td>{html.escape(fact)}</td></tr>" for fact in facts]
    return f'<<table border="0" cellborder="1" cellspacing="0" cellpadding="4">{"".join(rows)}</table>>'


def _is_model(layer):
    from kcore.models.model import Model

    return isinstance(layer, Model)


def model_to_dot(model, show_shapes=False, show_dtype=False, show_layer_names=True, rankdir="TB",
                 expand_nested=False, dpi=200, subgraph=False, show_layer_activations=False,
                 show_trainable=False, splines="ortho", **kwargs):
    """Returns a `pydot.Dot` (or a `pydot.Cluster` when `subgraph=True`) drawing `model`."""
    from kcore.utils.model_graph import layer_edges

    if kwargs:
        raise ValueError(f"model_to_dot: unrecognized keyword arguments: {sorted(kwargs)}")
    if rankdir not in ("TB", "LR", "BT", "RL"):
        raise ValueError(f"model_to_dot: rankdir must be 'TB', 'LR', 'BT' or 'RL', got {rankdir!r}")
    pydot = _pydot()
    if subgraph:
        dot = pydot.Cluster(style="dashed", graph_name=model.name, label=model.name)
    else:
        dot = pydot.Dot(graph_type="digraph", rankdir=rankdir, concentrate=True, dpi=dpi, splines=splines)
        dot.set_node_defaults(shape="plaintext", fontname="Helvetica", fontsize="11")
    options = dict(show_shapes=show_shapes, show_dtype=show_dtype, show_layer_names=show_layer_names,
                   show_layer_activations=show_layer_activations, show_trainable=show_trainable)
    entry, exit_ = {}, {}  # layer id -> node id where arrows into / out of the layer attach
    for layer, sources in layer_edges(model):
        if expand_nested and _is_model(layer):
            inner = model_to_dot(layer, rankdir=rankdir, expand_nested=True, subgraph=True, **options)
            dot.add_subgraph(inner)
            inner_edges = layer_edges(layer)
            entry[id(layer)] = [_node_id(inner_layer) for inner_layer, src in inner_edges if not src]
            exit_[id(layer)] = [_node_id(inner_edges[-1][0])]
        else:
            dot.add_node(pydot.Node(_node_id(layer), label=_label(layer, **options)))
            entry[id(layer)] = exit_[id(layer)] = [_node_id(layer)]
        for source in sources:
            for src in exit_.get(id(source), [_node_id(source)]):
                for dst in entry[id(layer)]:
                    dot.add_edge(pydot.Edge(src, dst))
    return dot


def _node_id(layer):
    return str(id(layer))


def plot_model(model, to_file="model.png", show_shapes=False, show_dtype=False, show_layer_names=False,
               rankdir="TB", expand_nested=False, dpi=200, show_layer_activations=False, show_trainable=False,
               splines="ortho", **kwargs):
    """Draws `model` to `to_file` (format from its extension: png, svg, pdf, dot, ...).

    Returns an IPython Image for .png files inside a notebook, else None."""
    if not model.built:
        raise ValueError("plot_model: the model has not been built yet; call it on a batch of data or give "
                         "it an Input first")
    _pydot()
    _check_graphviz()
    dot = model_to_dot(model, show_shapes=show_shapes, show_dtype=show_dtype, show_layer_names=show_layer_names,
                       rankdir=rankdir, expand_nested=expand_nested, dpi=dpi,
                       show_layer_activations=show_layer_activations, show_trainable=show_trainable,
                       splines=splines, **kwargs)
    to_file = os.fspath(to_file)
    extension = os.path.splitext(to_file)[1][1:].lower() or "png"
    dot.write(to_file, format=extension)
    if extension == "png":
        try:
            from IPython import display, get_ipython

            if get_ipython() is not None:
                return display.Image(filename=to_file)
        except ImportError:
            pass
    return None
