"""The tf.keras-style progress bar: `25/25 [==============================] - 1s 11ms/step - loss: 0.7616`."""
import sys
import time


def _format_value(v):
    return f" {v:.4f}" if abs(v) > 1e-3 else f" {v:.4e}"


def _format_step_time(seconds):
    if seconds >= 1:
        return f"{seconds:.0f}s/step"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/step"
    return f"{seconds * 1e6:.0f}us/step"


def _format_eta(eta):
    if eta > 3600:
        return f"{int(eta // 3600)}:{int(eta % 3600) // 60:02d}:{int(eta % 60):02d}"
    if eta > 60:
        return f"{int(eta // 60)}:{int(eta % 60):02d}"
    return f"{int(eta)}s"


class Progbar:
    """Shows progress towards `target` steps. verbose=1: a bar (in place on a terminal, a line per
    update otherwise); verbose=2: one summary line when the target is reached."""

    def __init__(self, target, width=30, verbose=1, interval=0.05, stream=None, unit_name="step"):
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.stream = stream or sys.stdout
        self.unit_name = unit_name
        self._dynamic = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._start = time.time()
        self._last_update = 0.0
        self._prev_width = 0
        self._values = {}
        self._seen = 0

    def update(self, current, values=None, finalize=None):
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        for k, v in (values or {}).items():
            self._values[k] = float(v)
        self._seen = current
        now = time.time()
        if self.verbose == 1:
            reached = self.target is not None and current >= self.target
            if not finalize and (reached or now - self._last_update < self.interval):
                return  # the last step is shown once, by the finalising update
            self._write(self._bar_line(current, now, finalize), finalize)
        elif self.verbose == 2 and finalize:
            elapsed = now - self._start
            per = elapsed / max(current, 1)
            line = f"{current}/{self.target} - {elapsed:.0f}s" + self._metrics_text()
            line += f" - {elapsed:.0f}s/epoch - {_format_step_time(per)}"
            self.stream.write(line + "\n")
            self.stream.flush()
        self._last_update = now

    def add(self, n, values=None):
        self.update(self._seen + n, values)

    def _bar_line(self, current, now, finalize):
        elapsed = now - self._start
        if self.target is not None:
            digits = len(str(self.target))
            bar = f"{current:>{digits}}/{self.target} ["
            done = int(self.width * current / self.target) if self.target else self.width
            if done > 0:
                bar += "=" * (done - 1) + (">" if current < self.target else "=")
            bar += "." * (self.width - done) + "]"
        else:
            bar = f"{current:7d}/Unknown"
        per = elapsed / max(current, 1)
        if finalize:
            info = f" - {elapsed:.0f}s {_format_step_time(per)}"
        else:
            eta = per * (self.target - current) if self.target else 0
            info = f" - ETA: {_format_eta(eta)}"
        return bar + info + self._metrics_text()

    def _metrics_text(self):
        return "".join(f" - {k}:{_format_value(v)}" for k, v in self._values.items())

    def _write(self, line, finalize):
        if self._dynamic:
            pad = max(0, self._prev_width - len(line))
            self.stream.write("\r" + line + " " * pad)
            self._prev_width = len(line)
            if finalize:
                self.stream.write("\n")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
