"""The numbers of one traced step by symbol: the parameters before it, and for each sample every
net, out, δ and local derivative under the text of its symbol ("net_h1", "∂out_h1/∂net_h1", …).

With a ``Focus`` (one parameter of a large network) it also says which neurons, terms and samples
a derivation shows.  StepDerivation (derive.py) writes its sections from these numbers; check.py
reads them to judge a claim.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Mapping
from dataclasses import dataclass
from operator import mul

import numpy as np

from ..core.activations import get_activation
from ..core.losses import get_loss
from ..training.trace import StepTrace
from .limits import MAX_SAMPLES
from .names import Names


@dataclass(frozen=True)
class Focus:
    """One parameter of a large network: its layer, "weight" or "bias", neuron j and input i."""

    layer: int
    kind: str
    j: int
    i: int = 0


class StepValues:
    """The quantities of one traced step, by symbol, and (with a ``focus``) which of them a
    derivation shows."""

    def __init__(self, trace: StepTrace, focus: Focus | None = None):
        self.trace, self.focus = trace, focus
        self.layers = trace.network["layers"]
        self.L = len(self.layers)
        self.names = Names.of_table(trace.network)
        self.loss = get_loss(trace.loss_name)
        self.before = trace.parameters_before
        self.activations = [get_activation(layer["activation"], **layer["activation_params"])
                            for layer in self.layers]
        self.fused = self.loss.fused
        self._envs: dict[int, Mapping] = {}

    # ---- values by symbol ---------------------------------------------------------------

    def weight(self, l: int, j: int, i: int) -> float:
        return self.before[l]["weights"][j][i]

    def bias(self, l: int, j: int) -> float:
        b = self.before[l]["bias"]
        return b if self.layers[l]["bias_mode"] == "shared" else b[j]

    def layer_input(self, sample, l: int, i: int) -> float:
        return sample.input[i] if l == 0 else sample.layers[l - 1]["out"][i]

    @property
    def envs(self) -> list[Mapping]:
        return [self.env(s) for s in range(len(self.trace.samples))]

    def env(self, s: int) -> Mapping:
        """Every number of sample s's step by the text of its symbol (built when first asked for)."""
        if s not in self._envs:
            self._envs[s] = self._environment(self.trace.samples[s])
        return self._envs[s]

    def _parameters_env(self) -> dict:
        """The parameters by label, shared by every sample's environment (with a focus, the weights
        only of the neurons the sections show)."""
        if not hasattr(self, "_shared"):
            env: dict[str, float] = {}
            for l, layer in enumerate(self.layers):
                for j in self.rows(l) if self.focus is not None else range(layer["units"]):
                    env.update(zip(layer["weight_labels"][j], self.before[l]["weights"][j]))
                for j in range(layer["units"]):
                    if layer["bias_labels"][j] is not None:
                        env[layer["bias_labels"][j]] = self.bias(l, j)
            self._shared = env
            self._columns = [list(zip(*self.before[l]["weights"])) for l in range(self.L)]
        return self._shared

    def _environment(self, sample) -> ChainMap:
        """Every number of one sample's step by the text of its symbol: its own values, then the
        parameters."""
        parameters = self._parameters_env()
        env = {self.names.neuron(-1, i): v for i, v in enumerate(sample.input)}
        last = self.L - 1
        for l, layer in enumerate(self.layers):
            nets, outs, deltas = sample.layers[l]["net"], sample.layers[l]["out"], sample.deltas[l]
            derivative = (self.activations[l].derivative(np.array(nets), np.array(outs)).tolist()
                          if self.activations[l].elementwise else None)
            for j in range(layer["units"]):
                n = self.names.neuron(l, j)
                env[f"net_{n}"], env[f"out_{n}"], env[f"δ_{n}"] = nets[j], outs[j], deltas[j]
                env[f"∂E/∂net_{n}"] = deltas[j]
                if derivative is not None:
                    env[f"∂out_{n}/∂net_{n}"] = derivative[j]
                if l < last:
                    env[f"∂E/∂out_{n}"] = sum(map(mul, sample.deltas[l + 1], self._columns[l + 1][j]))
        if not self.fused:
            with np.errstate(divide="ignore", invalid="ignore"):
                gradient = self.loss.gradient(np.array([sample.layers[-1]["out"]]), np.array([sample.target]))[0]
            for j in range(self.layers[-1]["units"]):
                env[f"∂E/∂out_{self.names.neuron(last, j)}"] = float(gradient[j])
        for j, target in enumerate(sample.target):
            env[f"t_{self.names.neuron(last, j)}"] = target
        return ChainMap(env, parameters)

    # ---- parameters by label ----------------------------------------------------------------

    def locate(self, label: str) -> Focus | None:
        """Where the parameter with this label is (None when there is none)."""
        for l, layer in enumerate(self.layers):
            if label in layer["bias_labels"]:
                return Focus(l, "bias", layer["bias_labels"].index(label))
            if label.startswith("w"):
                for j, row in enumerate(layer["weight_labels"]):
                    if label in row:
                        return Focus(l, "weight", j, row.index(label))
        return None

    def focus_label(self) -> str:
        f = self.focus
        assert f is not None, "focus_label is asked for with a focus only"
        layer = self.layers[f.layer]
        return layer["weight_labels"][f.j][f.i] if f.kind == "weight" else layer["bias_labels"][f.j]

    # ---- what a derivation shows ---------------------------------------------------------------

    def rows(self, l: int):
        """The neurons of layer l whose weights the sections show: all of them, or with a focus the
        focused neuron (the first, for a shared bias) in its layer, every neuron above it, none below."""
        if self.focus is None or l > self.focus.layer:
            return range(self.layers[l]["units"])
        if l < self.focus.layer:
            return range(0)
        return [0 if self.focus.kind == "bias" and self.layers[l]["bias_mode"] == "shared" else self.focus.j]

    def delta_rows(self, l: int):
        """The neurons of layer l whose δ the backward pass derives: all of them, or with a focus the
        output layer's, the next layer's, and in its own layer its neuron (every neuron, for a shared
        bias: their δs are summed). Layers further up enter by their δ values."""
        f, units = self.focus, self.layers[l]["units"]
        if f is None or (l > f.layer and (l == f.layer + 1 or l == self.L - 1)):
            return range(units)
        if l != f.layer:
            return range(0)
        return range(units) if f.kind == "bias" and self.layers[l]["bias_mode"] == "shared" else [f.j]

    def nonzero(self, indices, value) -> list:
        """With a focus, the terms of a long sum (more than 16) whose factor value(k) is not exactly 0:
        a term with a zero factor adds nothing (an image's blank pixels, a ReLU that is off)."""
        indices = list(indices)
        if self.focus is None or len(indices) <= 16:
            return indices
        return [k for k in indices if value(k) != 0]

    @staticmethod
    def left_out(count: int, factor: str) -> str:
        return f"the {count} terms whose {factor} is 0 are left out" if count else ""

    def shown_samples(self) -> list[int]:
        """The samples worked in full: all, or with a focus and a large batch the first and last few."""
        n = len(self.trace.samples)
        if self.focus is None or n <= MAX_SAMPLES:
            return list(range(n))
        return list(range(MAX_SAMPLES // 2)) + list(range(n - 2, n))


__all__ = ["Focus", "StepValues"]
