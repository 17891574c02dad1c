"""StepTrace: the plain data of one training step — forward values, losses,
deltas, gradients and the parameters before and after the update.

A traced step runs exactly the code an untraced step runs (``train.take_step``);
tracing only copies values out, so both give bit-identical parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..core import data
from ..core.network import BaseNetwork
from ..core.build import network_to_table
from ..core.activations import activation_params
from .train import TrainingConfig, schedule, take_step


@dataclass
class SampleTrace:
    index: int
    input: list
    target: list
    layers: list            # [{"net": [...], "out": [...]}] per layer
    errors: list            # each output's share of the loss (E_o1, E_o2, …)
    loss: float
    deltas: list            # δ per layer, [[...], ...]

    def as_dict(self) -> dict:
        return {"index": self.index, "input": self.input, "target": self.target, "layers": self.layers,
                "errors": self.errors, "loss": self.loss, "deltas": self.deltas}


@dataclass
class StepTrace:
    step: int
    epoch: int
    learning_rate: float
    reduction: str
    loss_name: str
    frozen: list
    network: dict           # shape, activations, bias modes and labels (plain data)
    samples: list = field(default_factory=list)
    gradients: list = field(default_factory=list)
    parameters_before: list = field(default_factory=list)
    parameters_after: list = field(default_factory=list)
    loss_before: float = 0.0
    loss_after: float = 0.0
    # None for plain SGD (p⁺ = p − η·g); else the rule's settings and each parameter's state
    # before and after the step: {"name", settings…, "before": [{"weights": {"v": …}, "bias": …}], "after": …}
    optimizer: dict | None = None

    def __repr__(self) -> str:
        n = len(self.samples)
        return (f"<StepTrace step {self.step} (epoch {self.epoch}): {n} sample{'s' * (n != 1)}, "
                f"loss {self.loss_before:.9g} → {self.loss_after:.9g}>")

    def as_dict(self) -> dict:
        out = {"step": self.step, "epoch": self.epoch, "samples": [s.as_dict() for s in self.samples],
               "gradients": self.gradients, "learning_rate": self.learning_rate,
               "reduction": self.reduction, "loss": self.loss_name, "frozen": self.frozen,
               "parameters_before": self.parameters_before, "parameters_after": self.parameters_after,
               "loss_before": self.loss_before, "loss_after": self.loss_after}
        if self.optimizer is not None:
            out["optimizer"] = self.optimizer
        return out


def describe_network(network: BaseNetwork) -> dict:
    """Plain data about the network that renderers need: its spec table (without the numbers),
    each layer's fan-in and activation parameters, and the label of every weight and bias."""
    table = network_to_table(network, values=False)
    fan_in = network.inputs
    for l, layer in enumerate(table["layers"]):
        units = layer["units"]
        layer.update({
            "fan_in": fan_in,
            "activation_params": activation_params(layer),
            "weight_labels": [[network.weight_label(l, j, i) for i in range(fan_in)] for j in range(units)],
            "bias_labels": [network.bias_label(l, j) for j in range(units)],
        })
        fan_in = units
    return table


def _by_layer(network: BaseNetwork, arrays, as_data=lambda a: a.tolist()) -> list[dict]:
    """Arrays in Network.parameters() order (W¹, b¹, W², …) as [{"weights", "bias"}] per layer."""
    out, k = [], 0
    for layer in network.layers:
        weights = as_data(arrays[k])
        k += 1
        bias = None
        if layer.bias is not None:
            bias = as_data(arrays[k])
            k += 1
        out.append({"weights": weights, "bias": bias})
    return out


def _optimizer_states(network: BaseNetwork, optimizer) -> list[dict]:
    """Each parameter's optimiser state ({"v": …} or {"m": …, "v": …}, empty before its first step)."""
    count = len(network.parameters())
    return _by_layer(network, [optimizer.state(k) for k in range(count)],
                     lambda state: {name: array.tolist() for name, array in state.items()})


class Tracer:
    """Traced training steps that go on where the last one stopped (the web page steps one at a time)."""

    def __init__(self, network: BaseNetwork, x, t, config: TrainingConfig, optimizer=None,
                 steps_before: int = 0, epochs_before: int = 0):
        """``steps_before``, ``epochs_before``: the steps and epochs run already (by training, or by an earlier
        tracer), so that step and epoch numbers, and the scheduled learning rate, go on from there."""
        self.network, self.config = network, config
        self.x, self.t = data.samples(x, t, network.inputs, network.outputs, network.dtype, network.loss)
        self.optimizer = optimizer or config.build_optimizer()
        self.masks = network.trainable_masks(config.frozen)
        self.description = describe_network(network)
        self.steps_before = steps_before
        self.schedule = schedule(len(self.x), config, first=epochs_before)

    def next(self) -> StepTrace:
        """Run and record the next step of the schedule."""
        network, config, x, t = self.network, self.config, self.x, self.t
        epoch, step, indices, _ = next(self.schedule)
        optimizer = self.optimizer
        optimizer.learning_rate = config.rate(epoch)
        trace = StepTrace(step=self.steps_before + step, epoch=epoch, learning_rate=optimizer.learning_rate,
                          reduction=config.reduction, loss_name=network.loss.name,
                          frozen=list(config.frozen), network=self.description)
        trace.parameters_before = network.parameters_as_data()
        trace.loss_before = network.dataset_loss(x, t, config.reduction)
        xb, tb = x[indices], t[indices]
        before = None if optimizer.plain else _optimizer_states(network, optimizer)
        values, deltas, grads, losses = take_step(network, optimizer, xb, tb, config.reduction, self.masks)
        if before is not None:
            trace.optimizer = {**optimizer.describe(), "before": before,
                               "after": _optimizer_states(network, optimizer)}
        last = values[-1]
        terms = network.loss.terms(last.net, last.out, tb)
        for s, index in enumerate(indices):
            trace.samples.append(SampleTrace(
                index=int(index), input=xb[s].tolist(), target=tb[s].tolist(),
                layers=[{"net": v.net[s].tolist(), "out": v.out[s].tolist()} for v in values],
                errors=terms[s].tolist(), loss=float(losses[s]),
                deltas=[d[s].tolist() for d in deltas]))
        trace.gradients = _by_layer(network, grads)
        trace.parameters_after = network.parameters_as_data()
        trace.loss_after = network.dataset_loss(x, t, config.reduction)
        return trace


def trace_steps(network: BaseNetwork, x, t, config: TrainingConfig, steps: int = 1) -> list[StepTrace]:
    """Run ``steps`` training steps on ``network`` (in place) and record each one."""
    tracer = Tracer(network, x, t, config)
    return [tracer.next() for _ in range(steps)]
