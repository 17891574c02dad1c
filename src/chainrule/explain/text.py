"""Plain-text explanation of training steps, written the way seed 000 works one step:
every net and out by label, each error term and the total, every delta, every
gradient, every updated parameter, and the loss after the update."""

from __future__ import annotations

import re

import numpy as np

from ..activations import get_activation
from ..losses import get_loss
from ..trace import StepTrace

DIGITS = 9


def num(value: float) -> str:
    """A number to 9 significant digits, as the seeds print them."""
    text = f"{value:.{DIGITS}g}"
    return "0" if text == "-0" else text


def factor(value: float) -> str:
    """A number as a factor in a product: negative ones in parentheses."""
    text = num(value)
    return f"({text})" if text.startswith("-") else text


class Names:
    """Neuron symbols as the seeds write them: i1, i2 for inputs; h1, h2 for the one
    hidden layer (h1_2 = hidden layer 1, neuron 2 when there are several); o1, o2 for outputs."""

    def __init__(self, n_layers: int):
        self.n_layers = n_layers

    def neuron(self, layer: int, j: int) -> str:
        """Layer −1 is the input layer; layer n_layers − 1 the output layer."""
        if layer < 0:
            return f"i{j + 1}"
        if layer == self.n_layers - 1:
            return f"o{j + 1}"
        if self.n_layers == 2:
            return f"h{j + 1}"
        return f"h{layer + 1}_{j + 1}"

    def out(self, layer: int, j: int) -> str:
        return self.neuron(layer, j) if layer < 0 else f"out_{self.neuron(layer, j)}"


def _dE_dout(loss: str, out: float, target: float) -> tuple[str, float]:
    """(formula, value) of ∂E/∂out for one output, from the loss table."""
    entry = get_loss(loss)
    return f"({entry.gradient_formula})", _at(entry.gradient, out, target)


def _at(function, *values) -> float:
    """A table function of (1, 1) arrays, evaluated at one neuron's numbers."""
    return float(function(*(np.array([[v]], dtype=float) for v in values))[0, 0])


def named(formula: str, neuron: str) -> str:
    """Write a formula in out/net/t for one neuron: out → out_o1, net → net_o1, t → t_o1."""
    return re.sub(r"\b(out|net|t)\b", lambda m: f"{m.group(1)}_{neuron}", formula)


def _activation_derivative(activation: str, params: dict, net: float, out: float) -> tuple[str, float]:
    """(formula, value) of ∂out/∂net for an element-wise activation, from the activation table."""
    entry = get_activation(activation, params.get("slope"))
    return entry.derivative_formula, _at(entry.derivative, net, out)


def _error_line(loss: str, o: str, out: float, target: float, k: int, term: float) -> str:
    forms = {
        "half_sse": (f"½(t_{o} − out_{o})²", f"½({num(target)} − {num(out)})²"),
        "sse": (f"(t_{o} − out_{o})²", f"({num(target)} − {num(out)})²"),
        "mse": (f"(t_{o} − out_{o})²/{k}", f"({num(target)} − {num(out)})²/{k}"),
        "bce": (f"−[t·ln out + (1 − t)·ln(1 − out)]_{o}/{k}",
                f"−[{num(target)}·ln {num(out)} + {num(1 - target)}·ln {num(1 - out)}]/{k}"),
        "cross_entropy": (f"−t_{o}·ln out_{o}", f"−{factor(target)}·ln {num(out)}"),
    }
    symbolic, numeric = forms[loss]
    return f"  E_{o} = {symbolic} = {numeric} = {num(term)}"


def _render_sample(trace: StepTrace, sample, params_before, names: Names, lines: list, show_heading: bool):
    net = trace.network
    layers = net["layers"]
    L = len(layers)
    if show_heading:
        lines.append(f"Sample {sample.index + 1}: input ({', '.join(num(v) for v in sample.input)}), "
                     f"target ({', '.join(num(v) for v in sample.target)})")
    lines.append("Forward pass")
    previous = sample.input
    for l, layer in enumerate(layers):
        w = params_before[l]["weights"]
        bias = params_before[l]["bias"]
        f = layer["activation"]
        net_lines, out_lines = [], []
        for j in range(layer["units"]):
            n = names.neuron(l, j)
            symbols = [f"{layer['weight_labels'][j][i]}·{names.out(l - 1, i)}" for i in range(layer["fan_in"])]
            numbers = [f"{factor(w[j][i])}·{factor(previous[i])}" for i in range(layer["fan_in"])]
            b_label = layer["bias_labels"][j]
            if b_label is not None:
                b = bias if layer["bias_mode"] == "shared" else bias[j]
                symbols.append(b_label)
                numbers.append(factor(b))
            value = sample.layers[l]["net"][j]
            net_lines.append(f"  net_{n} = {' + '.join(symbols)} = {' + '.join(numbers)} = {num(value)}")
            arg = f"net_{n}" if f != "softmax" else f"net_{names.neuron(l, 0)}…net_{names.neuron(l, layer['units'] - 1)}"
            out_lines.append(f"  out_{n} = {f}({arg}) = {num(sample.layers[l]['out'][j])}")
        if f == "softmax":
            lines.extend(net_lines + out_lines)
        else:
            lines.extend(line for pair in zip(net_lines, out_lines) for line in pair)
        previous = sample.layers[l]["out"]

    out_layer = layers[-1]
    k = out_layer["units"]
    outs, targets = sample.layers[-1]["out"], sample.target
    lines.append(f"Error ({trace.loss_name})")
    for j in range(k):
        o = names.neuron(L - 1, j)
        lines.append(_error_line(trace.loss_name, o, outs[j], targets[j], k, sample.errors[j]))
    lines.append(f"  E_total = {' + '.join('E_' + names.neuron(L - 1, j) for j in range(k))} = {num(sample.loss)}")

    lines.append("Backward pass: δ = ∂E/∂net")
    for j in range(k):
        o = names.neuron(L - 1, j)
        delta = sample.deltas[-1][j]
        fused = (trace.loss_name == "cross_entropy"
                 or (trace.loss_name == "bce" and out_layer["activation"] == "sigmoid"))
        if fused:
            extra = f"/{k}" if trace.loss_name == "bce" else ""
            lines.append(f"  δ_{o} = (out_{o} − t_{o}){extra} = ({num(outs[j])} − {num(targets[j])}){extra}"
                         f" = {num(delta)}   (loss and {out_layer['activation']} combined)")
        elif out_layer["activation"] == "softmax":
            lines.append(f"  δ_{o} = out_{o}·(∂E/∂out_{o} − Σ_k ∂E/∂out_k·out_k) = {num(delta)}")
        else:
            g_form, g = _dE_dout(trace.loss_name, outs[j], targets[j])
            d_form, d = _activation_derivative(out_layer["activation"], out_layer["activation_params"],
                                               sample.layers[-1]["net"][j], outs[j])
            lines.append(f"  δ_{o} = ∂E/∂out_{o} · ∂out_{o}/∂net_{o} = {named(g_form, o)} · {named(d_form, o)}"
                         f" = {factor(g)} · {factor(d)} = {num(delta)}")
    for l in range(L - 2, -1, -1):
        layer, above = layers[l], layers[l + 1]
        w_above = params_before[l + 1]["weights"]
        for j in range(layer["units"]):
            n = names.neuron(l, j)
            terms_s = [f"δ_{names.neuron(l + 1, m)}·{above['weight_labels'][m][j]}" for m in range(above["units"])]
            terms_n = [f"{factor(sample.deltas[l + 1][m])}·{factor(w_above[m][j])}" for m in range(above["units"])]
            d_form, d = _activation_derivative(layer["activation"], layer["activation_params"],
                                               sample.layers[l]["net"][j], sample.layers[l]["out"][j])
            d_form = named(d_form, n)
            lines.append(f"  δ_{n} = ({' + '.join(terms_s)}) · {d_form} = ({' + '.join(terms_n)}) · {factor(d)}"
                         f" = {num(sample.deltas[l][j])}")


def _layer_input(sample, layer: int, i: int) -> float:
    """The i-th value entering ``layer`` for one sample: an input, or the previous layer's out."""
    return sample.input[i] if layer == 0 else sample.layers[layer - 1]["out"][i]


def _combined(terms: list[str], trace: StepTrace) -> str:
    """The per-sample terms of a gradient and how the reduction combines them."""
    if len(terms) > 8:
        terms = terms[:3] + ["…"] + terms[-2:]
    total = " + ".join(terms)
    if len(trace.samples) == 1:
        return total
    return f"({total})" if trace.reduction == "sum" else f"({total})/{len(trace.samples)}"


def _render_step(trace: StepTrace, title: str) -> list[str]:
    net = trace.network
    layers = net["layers"]
    names = Names(len(layers))
    shape = "-".join(str(n) for n in [net["inputs"], *(layer["units"] for layer in layers)])
    lines = [f"{title} — step {trace.step} (epoch {trace.epoch})".strip(" —"),
             f"Network {shape}, loss {trace.loss_name}, learning rate η = {num(trace.learning_rate)}, "
             f"{len(trace.samples)} sample{'s' if len(trace.samples) != 1 else ''} in this step"
             + (f", gradients combined by {trace.reduction}" if len(trace.samples) > 1 else ""), ""]
    before = trace.parameters_before
    lines.append("Parameters before the step")
    for l, layer in enumerate(layers):
        items = [f"{layer['weight_labels'][j][i]} = {num(before[l]['weights'][j][i])}"
                 for j in range(layer["units"]) for i in range(layer["fan_in"])]
        if layer["bias_mode"] == "shared":
            items.append(f"{layer['bias_labels'][0]} = {num(before[l]['bias'])}")
        elif layer["bias_mode"] == "per_neuron":
            items += [f"{layer['bias_labels'][j]} = {num(before[l]['bias'][j])}" for j in range(layer["units"])]
        lines.append(f"  layer {l + 1} ({layer['activation']}): " + ", ".join(items))
    lines.append("")
    for sample in trace.samples:
        _render_sample(trace, sample, before, names, lines, show_heading=True)
        lines.append("")

    many = len(trace.samples) > 1
    scale = "" if not many else ("Σ_s " if trace.reduction == "sum" else f"(1/{len(trace.samples)})·Σ_s ")
    lines.append("Gradients" + (f" ({'sum' if trace.reduction == 'sum' else 'mean'} over the samples)" if many else ""))
    for l, layer in enumerate(layers):
        for j in range(layer["units"]):
            n = names.neuron(l, j)
            for i in range(layer["fan_in"]):
                label = layer["weight_labels"][j][i]
                src = names.out(l - 1, i)
                g = trace.gradients[l]["weights"][j][i]
                if many:
                    terms = [f"{factor(s.deltas[l][j])}·{factor(_layer_input(s, l, i))}" for s in trace.samples]
                    lines.append(f"  ∂E/∂{label} = {scale}δ_{n}·{src} = {_combined(terms, trace)} = {num(g)}")
                else:
                    s = trace.samples[0]
                    x = _layer_input(s, l, i)
                    lines.append(f"  ∂E/∂{label} = δ_{n} · {src} = {factor(s.deltas[l][j])} · {factor(x)} = {num(g)}")
        if layer["bias_mode"] == "shared":
            label = layer["bias_labels"][0]
            deltas = " + ".join(f"δ_{names.neuron(l, j)}" for j in range(layer["units"]))
            terms = [f"({' + '.join(factor(d) for d in s.deltas[l])})" for s in trace.samples]
            lines.append(f"  ∂E/∂{label} = {scale}({deltas}) = {_combined(terms, trace)} = "
                         f"{num(trace.gradients[l]['bias'])}   (shared: summed over the layer's neurons)")
        elif layer["bias_mode"] == "per_neuron":
            for j in range(layer["units"]):
                terms = [factor(s.deltas[l][j]) for s in trace.samples]
                lines.append(f"  ∂E/∂{layer['bias_labels'][j]} = {scale}δ_{names.neuron(l, j)} = "
                             f"{_combined(terms, trace)} = {num(trace.gradients[l]['bias'][j])}")
    lines.append("")

    lines.append(f"Update: p⁺ = p − η·∂E/∂p with η = {num(trace.learning_rate)}")
    after = trace.parameters_after
    frozen = set(trace.frozen)

    def update_line(label, old, grad, new):
        if label in frozen:
            return f"  {label}⁺ = {num(old)}   (frozen)"
        return f"  {label}⁺ = {num(old)} − {num(trace.learning_rate)}·{factor(grad)} = {num(new)}"

    for l, layer in enumerate(layers):
        for j in range(layer["units"]):
            for i in range(layer["fan_in"]):
                lines.append(update_line(layer["weight_labels"][j][i], before[l]["weights"][j][i],
                                         trace.gradients[l]["weights"][j][i], after[l]["weights"][j][i]))
        if layer["bias_mode"] == "shared":
            lines.append(update_line(layer["bias_labels"][0], before[l]["bias"], trace.gradients[l]["bias"],
                                     after[l]["bias"]))
        elif layer["bias_mode"] == "per_neuron":
            for j in range(layer["units"]):
                lines.append(update_line(layer["bias_labels"][j], before[l]["bias"][j],
                                         trace.gradients[l]["bias"][j], after[l]["bias"][j]))
    lines.append("")
    lines.append(f"Loss over the data ({trace.reduction} of the sample losses): before the step {num(trace.loss_before)}, "
                 f"after it {num(trace.loss_after)}")
    return lines


def render_text(traces, title: str = "") -> str:
    blocks = ["\n".join(_render_step(t, title)) for t in traces]
    return ("\n\n" + "=" * 72 + "\n\n").join(blocks) + "\n"
