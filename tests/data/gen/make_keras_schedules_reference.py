"""Writes tests/data/keras3_schedules.json: the learning rates of every Keras 3 schedule at a set of steps, their
configs, and an Adam config holding a schedule, from real Keras 3 (TensorFlow).

Not part of the test run. Run with the reference environment:
    KERAS_BACKEND=tensorflow /work/refenv/bin/python tests/data/gen/make_keras_schedules_reference.py
"""
import json
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "keras3_schedules.json")
STEPS = [0, 1, 3, 7, 10, 11, 19, 20, 33, 50, 100, 250]
CASES = {
    "exponential": ("ExponentialDecay", {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5}),
    "exponential_stair": ("ExponentialDecay", {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5,
                                               "staircase": True}),
    "piecewise": ("PiecewiseConstantDecay", {"boundaries": [5, 20], "values": [1.0, 0.5, 0.1]}),
    "cosine": ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 40, "alpha": 0.1}),
    "cosine_warmup": ("CosineDecay", {"initial_learning_rate": 0.0, "decay_steps": 40, "warmup_target": 0.2,
                                      "warmup_steps": 10}),
    "polynomial": ("PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 20, "end_learning_rate": 0.01,
                                       "power": 2.0}),
    "polynomial_cycle": ("PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 20, "power": 0.5,
                                             "cycle": True}),
    "inverse_time": ("InverseTimeDecay", {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5}),
    "inverse_time_stair": ("InverseTimeDecay", {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5,
                                                "staircase": True}),
    "restarts": ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 10}),
    "restarts_flat": ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 10, "t_mul": 1.0,
                                              "m_mul": 0.5, "alpha": 0.1}),
}


def main():
    out = {"steps": STEPS, "cases": {}}
    for name, (cls, kwargs) in CASES.items():
        schedule = getattr(keras.optimizers.schedules, cls)(**kwargs)
        out["cases"][name] = {"class": cls, "kwargs": kwargs, "config": schedule.get_config(),
                              "rates": [float(schedule(step)) for step in STEPS]}
    adam = keras.optimizers.Adam(keras.optimizers.schedules.PolynomialDecay(0.1, 20))
    out["adam_config"] = json.loads(json.dumps(adam.get_config()))
    with open(OUT, "w") as f:
        json.dump(out, f, indent=1)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
