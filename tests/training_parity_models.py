"""Model topologies built the same way with real Keras (by tests/data/gen/gen_training_parity.py) and with
kcore (by tests/test_keras_parity_*.py). `K` is the `keras` or the `kcore` module: both expose
`Input`, `layers`, `Model` and `Sequential` with the same signatures."""


def branching(K):
    """A branch that is shallower but visited first by a depth-first walk from the output."""
    L = K.layers
    inp = K.Input((8,), name="x")
    a = L.Dense(6, activation="relu", name="a")(inp)
    b = L.Dense(5, activation="tanh", name="b")(inp)
    a2 = L.Dense(4, name="a2")(a)
    a3 = L.Dense(3, name="a3")(a2)
    cat = L.Concatenate(name="cat")([b, a3])
    out = L.Dense(2, name="out")(cat)
    return K.Model(inp, out, name="branching")


def multi_input(K):
    L = K.layers
    in1, in2 = K.Input((6,), name="in1"), K.Input((4,), name="in2")
    y2 = L.Dense(5, name="y2")(L.Dense(5, name="y1")(in2))
    x = L.Dense(5, name="x1")(in1)
    s = L.Add(name="add")([x, y2])
    bn = L.BatchNormalization(name="bn")(s)
    out = L.Dense(1, name="out")(bn)
    return K.Model([in1, in2], out, name="multi_input")


def shared(K):
    """One Dense used twice, at two different depths."""
    L = K.layers
    in1, in2 = K.Input((6,), name="s_in1"), K.Input((6,), name="s_in2")
    pre = L.Dense(6, activation="relu", name="pre")(in1)
    shared_layer = L.Dense(4, name="shared")
    s1, s2 = shared_layer(pre), shared_layer(in2)
    cat = L.Concatenate(name="cat")([s2, s1])
    out = L.Dense(1, name="out")(cat)
    return K.Model([in1, in2], out, name="shared_model")


def nested(K):
    """A functional sub-model (with a frozen layer) and a Sequential sub-model inside a functional model."""
    L = K.layers
    i = K.Input((5,), name="inner_in")
    inner = K.Model(i, L.Dense(3, name="inner_d2")(L.Dense(4, name="inner_d1")(i)), name="inner")
    inner.get_layer("inner_d1").trainable = False
    seq = K.Sequential([K.Input((5,)), L.Dense(4, name="seq_d1"), L.BatchNormalization(name="seq_bn"),
                        L.Dense(1, name="seq_d2")], name="seq")
    x = K.Input((7,), name="outer_in")
    p = L.Dense(5, name="pre")(x)
    q = L.Dense(2, name="side")(x)
    cat = L.Concatenate(name="cat")([q, inner(p)])
    out = seq(L.Dense(5, name="mid")(cat))
    return K.Model(x, out, name="nested")


def custom_weights(K):
    """A custom layer that creates a non-trainable weight before a trainable one."""
    L = K.layers

    class Scale(L.Layer):
        def build(self, input_shape):
            self.count = self.add_weight(name="count", shape=(input_shape[-1],), initializer="zeros",
                                         trainable=False)
            self.scale = self.add_weight(name="scale", shape=(input_shape[-1],), initializer="ones")

        def call(self, inputs):
            return inputs * self.scale + self.count

    inp = K.Input((3,), name="c_in")
    h = L.Dense(4, name="c_d")(inp)
    out = Scale(name="scale_layer")(h)
    return K.Model(inp, out, name="custom_weights")


def from_intermediate(K):
    """A model whose input is an intermediate tensor of another graph (its producer is left out)."""
    L = K.layers
    inp = K.Input((6,), name="full_in")
    mid = L.Dense(5, name="stem")(inp)
    left = L.Dense(3, name="left")(mid)
    right = L.Dense(3, name="right2")(L.Dense(4, name="right1")(mid))
    out = L.Dense(2, name="head")(L.Add(name="sum")([right, left]))
    return K.Model(mid, out, name="from_intermediate")


def two_outputs(K):
    L = K.layers
    inp = K.Input((6,), name="inp")
    h = L.Dense(8, activation="relu", name="h")(inp)
    cls = L.Dense(3, activation="softmax", name="cls")(h)
    reg = L.Dense(1, name="reg")(L.Dense(4, name="reg_h")(inp))
    return K.Model(inp, [cls, reg], name="two_outputs")


# compile() arguments for `two_outputs`: losses / loss_weights / metrics for all or only some outputs
COMPILE_CASES = {
    "metrics_one_output": dict(loss={"cls": "sparse_categorical_crossentropy", "reg": "mse"},
                               metrics={"cls": ["accuracy"]}),
    "loss_list_weights": dict(loss=["sparse_categorical_crossentropy", "mse"], loss_weights=[1.0, 0.5],
                              metrics=[["accuracy"], ["mae"]]),
    "loss_dict_weights_dict": dict(loss={"cls": "sparse_categorical_crossentropy", "reg": "mae"},
                                   loss_weights={"cls": 0.3, "reg": 2.0}, metrics={"reg": ["mse"]}),
    "metrics_list_of_lists_none": dict(loss=["sparse_categorical_crossentropy", "mse"],
                                       metrics=[["accuracy"], None]),
}


TOPOLOGIES = {"branching": branching, "multi_input": multi_input, "shared": shared, "nested": nested,
              "custom_weights": custom_weights, "two_outputs": two_outputs, "from_intermediate": from_intermediate}


def topology_inputs(name, rng):
    """Input arrays for a topology (float32, batch of 4)."""
    import numpy as np

    sizes = {"branching": [8], "multi_input": [6, 4], "shared": [6, 6], "nested": [7], "custom_weights": [3],
             "two_outputs": [6], "from_intermediate": [5]}[name]
    xs = [rng.standard_normal((4, n)).astype(np.float32) for n in sizes]
    return xs if len(xs) > 1 else xs[0]


def masked_sequence(K, loss_kind):
    """Embedding(mask_zero=True) then a Dense applied at every time step."""
    L = K.layers
    inp = K.Input((5,), dtype="int32", name="ids")
    h = L.Embedding(10, 4, mask_zero=True, name="emb")(inp)
    act = "softmax" if loss_kind == "sparse_categorical_crossentropy" else None
    out = L.Dense(3, activation=act, name="step")(h)
    return K.Model(inp, out, name="masked_seq")
