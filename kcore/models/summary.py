"""model.summary() in the classic Keras text layout (as the seeds print it)."""


def _print_row(fields, positions, print_fn):
    line = ""
    for i, field in enumerate(fields):
        if i > 0:
            line = line[:-1] + " "
        line += str(field)
        line = line[:positions[i]]
        line += " " * (positions[i] - len(line))
    print_fn(line)


def _output_shape_text(layer):
    try:
        shape = layer.output_shape
    except AttributeError:
        return "multiple"
    return str(shape)


def print_summary(model, line_length=None, positions=None, print_fn=None):
    print_fn = print_fn or print
    rows = model._summary_rows()  # [(layer, connections or None)]
    sequential_like = all(conn is None for _, conn in rows)
    if sequential_like:
        line_length = line_length or 65
        positions = positions or [0.45, 0.85, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #"]
    else:
        line_length = line_length or 98
        positions = positions or [0.33, 0.55, 0.67, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]

    print_fn("_" * line_length)
    _print_row(header, positions, print_fn)
    print_fn("=" * line_length)
    for i, (layer, connections) in enumerate(rows):
        name = f"{layer.name} ({type(layer).__name__})"
        params = layer.count_params() if layer.built else 0
        fields = [name, _output_shape_text(layer), params]
        if sequential_like:
            _print_row(fields, positions, print_fn)
        else:
            first = connections[0] if connections else ""
            _print_row(fields + [first], positions, print_fn)
            for extra in connections[1:]:
                _print_row(["", "", "", extra], positions, print_fn)
        print_fn(("=" if i == len(rows) - 1 else "_") * line_length)

    trainable = sum(_size(w) for w in model.trainable_weights)
    total = sum(_size(w) for w in model.weights)
    print_fn(f"Total params: {total:,}")
    print_fn(f"Trainable params: {trainable:,}")
    print_fn(f"Non-trainable params: {total - trainable:,}")
    print_fn("_" * line_length)


def _size(w):
    n = 1
    for d in w.shape:
        n *= d
    return n
