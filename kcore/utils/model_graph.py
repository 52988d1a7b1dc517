"""A model's layers and who feeds whom: the one walk that TensorBoard's graph and plot_model draw."""


def layer_edges(model):
    """[(layer, [layers feeding it])] in execution order, for Sequential, functional and
    subclassed models (a subclassed model's layers are listed without edges)."""
    nodes = getattr(model, "_nodes", None)
    if nodes:
        edges, seen = [], {}
        for node in nodes:
            sources = [t._keras_history[0] for t in node.input_tensors]
            if id(node.layer) in seen:  # a shared layer: one box, more inputs
                seen[id(node.layer)].extend(s for s in sources if s not in seen[id(node.layer)])
                continue
            seen[id(node.layer)] = list(sources)
            edges.append((node.layer, seen[id(node.layer)]))
        inputs = [t._keras_history[0] for t in getattr(model, "inputs", [])]
        return [(layer, []) for layer in inputs if id(layer) not in seen] + edges
    from kcore.models.sequential import Sequential

    layers = list(model.layers)
    if isinstance(model, Sequential):
        return [(layer, [layers[i - 1]] if i else []) for i, layer in enumerate(layers)]
    return [(layer, []) for layer in layers]
