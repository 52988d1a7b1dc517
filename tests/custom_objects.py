"""Custom objects written once for both libraries: `define(kcore)` in kcore's tests and
`define(keras)` in tests/data/gen/make_keras_custom_fixtures.py, registered under 'kcoretest'."""


def define(lib):
    """Registers and returns {name: object} for a custom layer, activation, loss and metric built on `lib`
    (kcore or keras), plus `build(rng)`, the Sequential model the fixtures save."""
    ops = lib.ops
    register = lib.saving.register_keras_serializable

    @register(package="kcoretest")
    class ScaleShift(lib.layers.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def build(self, input_shape):
            self.w = self.add_weight(name="w", shape=(input_shape[-1],), initializer="ones")

        def call(self, x):
            return x * self.w * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    @register(package="kcoretest", name="swishish")
    def my_act(x):
        return x * ops.sigmoid(x)

    @register(package="kcoretest")
    def my_loss(y, p):
        return ops.mean(ops.square(y - p), axis=-1)

    @register(package="kcoretest")
    def my_metric(y, p):
        return ops.mean(ops.abs(y - p), axis=-1)

    def build(rng):
        model = lib.Sequential([lib.Input((3,)), ScaleShift(3.0), lib.layers.Dense(2, activation=my_act),
                                lib.layers.Lambda(lambda x: x * 2.0 + 1.0)])
        model.set_weights([rng.standard_normal(w.shape).astype("float32") for w in model.get_weights()])
        model.compile(optimizer="adam", loss=my_loss, metrics=[my_metric])
        return model

    return {"ScaleShift": ScaleShift, "my_act": my_act, "my_loss": my_loss, "my_metric": my_metric, "build": build}


def weighted_abs_error(lib):
    """A user-written metric class in the Keras 3 style (state variables updated with ops) on `lib`."""
    ops = lib.ops

    class WeightedAbsError(lib.metrics.Metric):
        def __init__(self, name="weighted_abs_error", **kwargs):
            super().__init__(name=name, **kwargs)
            self.total = self.add_variable(shape=(), initializer="zeros", name="total")
            self.count = self.add_variable(shape=(), initializer="zeros", name="count")

        def update_state(self, y_true, y_pred, sample_weight=None):
            err = ops.mean(ops.abs(ops.subtract(y_pred, y_true)), axis=-1)
            w = ops.ones_like(err) if sample_weight is None else ops.reshape(ops.cast(sample_weight, "float32"), (-1,))
            self.total.assign_add(ops.sum(ops.multiply(err, w)))
            self.count.assign_add(ops.sum(w))

        def result(self):
            return ops.divide(self.total, self.count)

    return WeightedAbsError
