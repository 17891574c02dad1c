"""One training step as the derivation a teacher writes on the board (seeds 000–004):
a Document of sections of equations, each equation symbols = numbers = result.

Every renderer (text, Markdown, LaTeX, HTML) prints the same Document, so the
numbers and the order of the argument never differ between formats.  The chain
of factors behind each gradient is also plain data (``parameter_chains``) for JSON.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..activations import get_activation
from ..losses import get_loss
from ..trace import StepTrace
from . import formulas
from .math import D, Add, Call, Eq, Expr, Frac, Mul, Num, Paren, Sub, SumOver, Sym, Word, num, sym

MAX_PATHS = 8       # more paths than this: the chain is shown through the next layer's δ only
MAX_SAMPLES = 8     # batch gradients list at most this many samples' terms


@dataclass
class Section:
    title: str
    items: list = field(default_factory=list)      # Eq, str (a sentence) or Section


@dataclass
class Document:
    title: str
    intro: list
    sections: list
    trace: StepTrace


def _inline(section: Section) -> bool:
    """A list of short definitions (w1 = 0.15, …) reads better on one line."""
    return bool(section.items) and all(
        isinstance(item, Eq) and len(item.parts) == 2 and not item.note for item in section.items)


def walk(doc: Document, depth: int = 0, sections=None):
    """The document in reading order as events every renderer handles alike:
    ("heading", depth, title, None), ("inline", depth, title, [Eq]), ("eq", depth, Eq, None),
    ("text", depth, sentence, None) and ("end", depth, title, None) after each section."""
    for section in doc.sections if sections is None else sections:
        if depth and _inline(section):
            yield "inline", depth, section.title, section.items
            continue
        yield "heading", depth, section.title, None
        for item in section.items:
            if isinstance(item, Section):
                yield from walk(doc, depth + 1, [item])
            elif isinstance(item, Eq):
                yield "eq", depth, item, None
            else:
                yield "text", depth, item, None
        yield "end", depth, section.title, None


@dataclass
class Factor:
    symbol: D
    value: float


@dataclass
class SampleChain:
    """One sample's share of a gradient: the products along every path, and the δ form."""

    index: int
    paths: list | None          # [[Factor, …], …]; None where there are too many paths to list
    term: float                 # δ_n·x (a weight), δ_n (a bias), Σ_j δ_j (a shared bias)
    delta_form: Expr
    delta_numbers: Expr


@dataclass
class Chain:
    label: str
    layer: int
    kind: str                   # "weight" or "bias"
    samples: list
    gradient: float
    combined_by: str            # "sum" or "mean"


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
        """The symbol of a value entering layer + 1: an input i1, or out_h1."""
        return self.neuron(layer, j) if layer < 0 else f"out_{self.neuron(layer, j)}"


E = Sym("E")


def _path_products(paths) -> tuple[Expr, Expr]:
    symbols = Add(*(Mul(*(f.symbol for f in path)) for path in paths))
    numbers = Add(*(Mul(*(Num(f.value) for f in path)) for path in paths))
    return symbols, numbers


class StepDerivation:
    """The quantities of one traced step, by symbol, and the sections built from them."""

    def __init__(self, trace: StepTrace):
        self.trace = trace
        self.layers = trace.network["layers"]
        self.L = len(self.layers)
        self.names = Names(self.L)
        self.loss = get_loss(trace.loss_name)
        self.before = trace.parameters_before
        self.activations = [get_activation(layer["activation"], layer["activation_params"].get("slope"))
                            for layer in self.layers]
        self.fused = self.loss.fused_delta is not None and self.layers[-1]["activation"] == self.loss.output_activation
        self.envs = [self._environment(s) for s in trace.samples]

    # ---- values by symbol ---------------------------------------------------------------

    def weight(self, l: int, j: int, i: int) -> float:
        return self.before[l]["weights"][j][i]

    def bias(self, l: int, j: int) -> float:
        b = self.before[l]["bias"]
        return b if self.layers[l]["bias_mode"] == "shared" else b[j]

    def layer_input(self, sample, l: int, i: int) -> float:
        return sample.input[i] if l == 0 else sample.layers[l - 1]["out"][i]

    def _environment(self, sample) -> dict:
        """Every number of one sample's step by the text of its symbol."""
        env = {f"i{i + 1}": v for i, v in enumerate(sample.input)}
        last = self.L - 1
        out_row, t_row = np.array([sample.layers[-1]["out"]]), np.array([sample.target])
        for l, layer in enumerate(self.layers):
            for j in range(layer["units"]):
                n = self.names.neuron(l, j)
                net, out = sample.layers[l]["net"][j], sample.layers[l]["out"][j]
                env[f"net_{n}"], env[f"out_{n}"], env[f"δ_{n}"] = net, out, sample.deltas[l][j]
                env[f"∂E/∂net_{n}"] = sample.deltas[l][j]
                for i in range(layer["fan_in"]):
                    env[layer["weight_labels"][j][i]] = self.weight(l, j, i)
                if layer["bias_labels"][j] is not None:
                    env[layer["bias_labels"][j]] = self.bias(l, j)
                if self.activations[l].elementwise:
                    env[f"∂out_{n}/∂net_{n}"] = float(self.activations[l].derivative(np.array(net), np.array(out)))
                if l < last:
                    env[f"∂E/∂out_{n}"] = sum(sample.deltas[l + 1][m] * self.weight(l + 1, m, j)
                                              for m in range(self.layers[l + 1]["units"]))
        if not self.fused:
            with np.errstate(divide="ignore", invalid="ignore"):
                gradient = self.loss.gradient(out_row, t_row)[0]
            for j in range(self.layers[-1]["units"]):
                env[f"∂E/∂out_{self.names.neuron(last, j)}"] = float(gradient[j])
        for j, target in enumerate(sample.target):
            env[f"t_{self.names.neuron(last, j)}"] = target
        return env

    def defined(self, lhs: Expr, formula: Expr, env: dict, value: float, note: str = "") -> Eq:
        """lhs = formula = the formula with numbers = value."""
        numbers = formulas.substitute(formula, env)
        parts = [lhs, formula] + ([numbers] if numbers != formula and numbers.text() != num(value) else [])
        return Eq(parts + [Num(value)], note)

    # ---- the forward pass, the error and the deltas of one sample ----------------------------

    def forward(self, s: int) -> Section:
        sample, env, section = self.trace.samples[s], self.envs[s], Section("Forward pass")
        for l, layer in enumerate(self.layers):
            nets, outs = [], []
            name = layer["activation"]
            for j in range(layer["units"]):
                n = self.names.neuron(l, j)
                terms = [Mul(sym(layer["weight_labels"][j][i]), sym(self.names.out(l - 1, i)))
                         for i in range(layer["fan_in"])]
                if layer["bias_labels"][j] is not None:
                    terms.append(sym(layer["bias_labels"][j]))
                nets.append(self.defined(sym(f"net_{n}"), Add(*terms), env, sample.layers[l]["net"][j]))
                if name == "softmax":
                    first, last = self.names.neuron(l, 0), self.names.neuron(l, layer["units"] - 1)
                    value = Call("softmax", Word(f"net_{first}…net_{last}"))
                    outs.append(Eq([sym(f"out_{n}"), value, Num(sample.layers[l]["out"][j])],
                                   f"e^net_{n} / Σ_k e^net_k"))
                else:
                    outs.append(self.defined(sym(f"out_{n}"), formulas.activation_value(name, n), env,
                                             sample.layers[l]["out"][j]))
            section.items += nets + outs if name == "softmax" else [eq for pair in zip(nets, outs) for eq in pair]
        return section

    def error(self, s: int) -> Section:
        sample, env = self.trace.samples[s], self.envs[s]
        section = Section(f"Error ({self.trace.loss_name})")
        k, last = self.layers[-1]["units"], self.L - 1
        outputs = [self.names.neuron(last, j) for j in range(k)]
        for j, o in enumerate(outputs):
            section.items.append(self.defined(sym(f"E_{o}"), formulas.error_term(self.trace.loss_name, o, k), env,
                                              sample.errors[j]))
        section.items.append(Eq([sym("E_total"), Add(*(sym(f"E_{o}") for o in outputs)),
                                 Add(*(Num(e) for e in sample.errors)), Num(sample.loss)]))
        return section

    def backward(self, s: int) -> Section:
        """Each neuron's δ = ∂E/∂net from its local derivatives, output layer first."""
        sample, env = self.trace.samples[s], self.envs[s]
        section = Section("Backward pass: δ = ∂E/∂net")
        last = self.L - 1
        k = self.layers[-1]["units"]
        for l in range(last, -1, -1):
            layer = self.layers[l]
            for j in range(layer["units"]):
                n = self.names.neuron(l, j)
                out, net, delta = sym(f"out_{n}"), sym(f"net_{n}"), sym(f"δ_{n}")
                value = sample.deltas[l][j]
                if l == last and self.fused:
                    formula = formulas.fused_delta(self.trace.loss_name, n, k, float(np.sum(sample.target)))
                    section.items.append(self.defined(delta, formula, env, value,
                                                      f"loss and {layer['activation']} combined"))
                    continue
                if l == last:
                    formula = formulas.loss_gradient(self.trace.loss_name, n, k)
                    section.items.append(self.defined(D(E, out), formula, env, env[f"∂E/∂out_{n}"]))
                else:
                    above = self.layers[l + 1]
                    paths = Add(*(Mul(sym(f"δ_{self.names.neuron(l + 1, m)}"), sym(above["weight_labels"][m][j]))
                                  for m in range(above["units"])))
                    section.items.append(self.defined(D(E, out), paths, env, env[f"∂E/∂out_{n}"],
                                                      "summed over the paths through the next layer"))
                if self.activations[l].elementwise:
                    derivative = formulas.activation_derivative(layer["activation"], layer["activation_params"], n)
                    section.items.append(self.defined(D(out, net), derivative, env, env[f"∂out_{n}/∂net_{n}"]))
                    section.items.append(Eq([delta, Mul(D(E, out), D(out, net)),
                                             Mul(Num(env[f"∂E/∂out_{n}"]), Num(env[f"∂out_{n}/∂net_{n}"])),
                                             Num(value)]))
                else:
                    others = [self.names.neuron(l, m) for m in range(layer["units"])]
                    inner = Add(*(Mul(Num(env[f"∂E/∂out_{o}"]), Num(env[f"out_{o}"])) for o in others))
                    section.items.append(Eq([delta, Mul(out, Paren(Sub(D(E, out), SumOver(
                        "k", Mul(D(E, Sym("out", "k")), Sym("out", "k")))))),
                        Mul(Num(env[f"out_{n}"]), Paren(Sub(Num(env[f"∂E/∂out_{n}"]), inner))), Num(value)],
                        "softmax: its Jacobian couples the layer's outputs"))
        return section

    # ---- the chain rule, parameter by parameter -------------------------------------------------

    def _output_factors(self, env: dict, o: str) -> list[Factor]:
        if self.fused or not self.activations[-1].elementwise:
            return [Factor(D(E, sym(f"net_{o}")), env[f"δ_{o}"])]
        return [Factor(D(E, sym(f"out_{o}")), env[f"∂E/∂out_{o}"]),
                Factor(D(sym(f"out_{o}"), sym(f"net_{o}")), env[f"∂out_{o}/∂net_{o}"])]

    def _paths(self, env: dict, l: int, j: int) -> list[list[Factor]] | None:
        """Every path from the error down to net of neuron (l, j), as its factors in that order."""
        n = self.names.neuron(l, j)
        if l == self.L - 1:
            return [self._output_factors(env, n)]
        if not self.activations[l].elementwise:
            return None
        paths = []
        for m in range(self.layers[l + 1]["units"]):
            above = self._paths(env, l + 1, m)
            if above is None:
                return None
            up = self.names.neuron(l + 1, m)
            step = [Factor(D(sym(f"net_{up}"), sym(f"out_{n}")), self.weight(l + 1, m, j))]
            paths += [p + step + [Factor(D(sym(f"out_{n}"), sym(f"net_{n}")), env[f"∂out_{n}/∂net_{n}"])]
                      for p in above]
            if len(paths) > MAX_PATHS:
                return None
        return paths

    def chain(self, l: int, kind: str, j: int, i: int = 0) -> Chain:
        layer = self.layers[l]
        shared = kind == "bias" and layer["bias_mode"] == "shared"
        neurons = range(layer["units"]) if shared else [j]
        label = layer["weight_labels"][j][i] if kind == "weight" else layer["bias_labels"][j]
        target = sym(label)
        samples = []
        for s, sample in enumerate(self.trace.samples):
            env = self.envs[s]
            paths = []
            for jj in neurons:
                n = self.names.neuron(l, jj)
                through = self._paths(env, l, jj)
                if through is None:
                    paths = None
                    break
                last = Factor(D(sym(f"net_{n}"), target), self.layer_input(sample, l, i) if kind == "weight" else 1.0)
                paths += [p + [last] for p in through]
            if paths is not None and len(paths) > MAX_PATHS:
                paths = None
            if kind == "weight":
                n = self.names.neuron(l, j)
                source = self.layer_input(sample, l, i)
                form = Mul(sym(f"δ_{n}"), sym(self.names.out(l - 1, i)))
                numbers = Mul(Num(sample.deltas[l][j]), Num(source))
                term = sample.deltas[l][j] * source
            else:
                deltas = [sample.deltas[l][jj] for jj in neurons]
                form = Add(*(sym(f"δ_{self.names.neuron(l, jj)}") for jj in neurons))
                numbers = Add(*(Num(d) for d in deltas))
                term = sum(deltas)
            samples.append(SampleChain(sample.index, paths, term, form, numbers))
        grads = self.trace.gradients[l]
        if kind == "weight":
            gradient = grads["weights"][j][i]
        else:
            gradient = grads["bias"] if shared else grads["bias"][j]
        return Chain(label, l, kind, samples, gradient, self.trace.reduction)

    def chains(self) -> list[Chain]:
        out = []
        for l, layer in enumerate(self.layers):
            for j in range(layer["units"]):
                out += [self.chain(l, "weight", j, i) for i in range(layer["fan_in"])]
            if layer["bias_mode"] == "per_neuron":
                out += [self.chain(l, "bias", j) for j in range(layer["units"])]
            elif layer["bias_mode"] == "shared":
                out.append(self.chain(l, "bias", 0))
        return out

    def chain_items(self, chain: Chain) -> list:
        """The equations of one gradient: along every path, then through δ, then combined over the batch."""
        target = sym(chain.label)
        lhs = D(E, target)
        n = len(chain.samples)
        items = []
        note = "shared: summed over the layer's neurons" if (
            chain.kind == "bias" and self.layers[chain.layer]["bias_mode"] == "shared") else ""
        first = chain.samples[0]
        if first.paths is not None:
            symbols, _ = _path_products(first.paths)
            if n == 1:
                _, numbers = _path_products(first.paths)
                items.append(Eq([lhs, symbols, numbers, Num(math.fsum(math.prod(f.value for f in p)
                                                                      for p in first.paths))],
                                "every path from the error to " + chain.label))
            else:
                items.append(Eq([D(Sym("E", "", "(s)"), target), symbols],
                                "every path from the error to " + chain.label + ", for each sample s"))
        if n == 1:
            items.append(Eq([lhs, first.delta_form, first.delta_numbers, Num(chain.gradient)], note))
            return items
        shown = chain.samples if n <= MAX_SAMPLES else chain.samples[:MAX_SAMPLES // 2] + chain.samples[-2:]
        for sc in shown:
            numbers = [sc.delta_numbers] if sc.delta_numbers.text() != num(sc.term) else []
            items.append(Eq([D(Sym("E", "", f"({sc.index + 1})"), target), sc.delta_form, *numbers, Num(sc.term)],
                            f"sample {sc.index + 1}"))
        terms = [Num(sc.term) for sc in shown]
        if n > len(shown):
            terms.insert(MAX_SAMPLES // 2, Word("…"))
        total = Paren(Add(*terms))
        if chain.combined_by == "sum":
            form, numbers = SumOver("s", D(Sym("E", "", "(s)"), target)), total
        else:
            form = Mul(Frac(Num(1), Num(n)), SumOver("s", D(Sym("E", "", "(s)"), target)))
            numbers = Frac(total, Num(n))
        items.append(Eq([lhs, form, numbers, Num(chain.gradient)],
                        f"{chain.combined_by} over the {n} samples" + (f"; {note}" if note else "")))
        return items

    def gradients(self, only: str | None = None) -> Section:
        section = Section("Gradients by the chain rule")
        for chain in self.chains():
            if only is None or chain.label == only:
                section.items.append(Section(f"∂E/∂{chain.label}", self.chain_items(chain)))
        return section

    # ---- the update ---------------------------------------------------------------------------------

    def updates(self, only: str | None = None) -> Section:
        lr = self.trace.learning_rate
        section = Section("Update: p⁺ = p − η·∂E/∂p", [Eq([Sym("η"), Num(lr)])])
        frozen = set(self.trace.frozen)
        after = self.trace.parameters_after
        for l, layer in enumerate(self.layers):
            entries = [(layer["weight_labels"][j][i], self.before[l]["weights"][j][i],
                        self.trace.gradients[l]["weights"][j][i], after[l]["weights"][j][i])
                       for j in range(layer["units"]) for i in range(layer["fan_in"])]
            if layer["bias_mode"] == "shared":
                entries.append((layer["bias_labels"][0], self.before[l]["bias"], self.trace.gradients[l]["bias"],
                                after[l]["bias"]))
            elif layer["bias_mode"] == "per_neuron":
                entries += [(layer["bias_labels"][j], self.before[l]["bias"][j], self.trace.gradients[l]["bias"][j],
                             after[l]["bias"][j]) for j in range(layer["units"])]
            for label, old, grad, new in entries:
                if only is not None and label != only:
                    continue
                if label in frozen:
                    section.items.append(Eq([sym(label, "+"), Num(old)], "frozen"))
                else:
                    section.items.append(Eq([sym(label, "+"), Sub(Num(old), Mul(Num(lr), Num(grad))), Num(new)]))
        return section

    # ---- the whole step -------------------------------------------------------------------------------

    def parameters(self) -> Section:
        section = Section("Parameters before the step")
        for l, layer in enumerate(self.layers):
            eqs = [Eq([sym(layer["weight_labels"][j][i]), Num(self.weight(l, j, i))])
                   for j in range(layer["units"]) for i in range(layer["fan_in"])]
            if layer["bias_mode"] == "shared":
                eqs.append(Eq([sym(layer["bias_labels"][0]), Num(self.bias(l, 0))]))
            elif layer["bias_mode"] == "per_neuron":
                eqs += [Eq([sym(layer["bias_labels"][j]), Num(self.bias(l, j))]) for j in range(layer["units"])]
            section.items.append(Section(f"layer {l + 1} ({layer['activation']})", eqs))
        return section

    def intro(self) -> list[str]:
        t = self.trace
        shape = "-".join(str(v) for v in [t.network["inputs"], *(layer["units"] for layer in self.layers)])
        many = len(t.samples) > 1
        return [f"Network {shape}, loss {t.loss_name}, learning rate η = {num(t.learning_rate)}, "
                f"{len(t.samples)} sample{'s' if many else ''} in this step"
                + (f", gradients combined by {t.reduction}" if many else "")]

    def samples(self) -> list[Section]:
        out = []
        for s, sample in enumerate(self.trace.samples):
            heading = (f"Sample {sample.index + 1}: input ({', '.join(num(v) for v in sample.input)}), "
                       f"target ({', '.join(num(v) for v in sample.target)})")
            out.append(Section(heading, [self.forward(s), self.error(s), self.backward(s)]))
        return out

    def loss_line(self) -> Section:
        t = self.trace
        return Section(f"Loss over the data ({t.reduction} of the sample losses)",
                       [Eq([Word("before the step"), Num(t.loss_before)]),
                        Eq([Word("after it"), Num(t.loss_after)])])


def explain_step(trace: StepTrace, title: str = "", parameter: str | None = None, matrix_form: bool = False) -> Document:
    """The Document of one step: all of it, one parameter's derivation, or the matrix form."""
    step = StepDerivation(trace)
    heading = f"{title} — step {trace.step} (epoch {trace.epoch})".strip(" —")
    if matrix_form:
        from .matrix import matrix_sections
        return Document(heading + " — matrix form", step.intro(), matrix_sections(step), trace)
    if parameter is not None:
        labels = [c.label for c in step.chains()]
        if parameter not in labels:
            raise ValueError(f"--param: expected one of {_label_list(labels)}, got {parameter!r}")
        return Document(f"{heading} — {parameter}", step.intro(),
                        [step.parameters(), *step.samples(), step.gradients(parameter), step.updates(parameter)],
                        trace)
    return Document(heading, step.intro(),
                    [step.parameters(), *step.samples(), step.gradients(), step.updates(), step.loss_line()], trace)


def _label_list(labels: list[str]) -> str:
    """All labels when few, else their ranges: 'w1–w2440, b1–b41'."""
    if len(labels) <= 20:
        return ", ".join(labels)
    ranges = []
    for prefix in ("w", "b"):
        numbers = sorted(int(label[1:]) for label in labels if label[0] == prefix)
        if numbers:
            ranges.append(f"{prefix}{numbers[0]}–{prefix}{numbers[-1]}")
    return ", ".join(ranges)


def chains_as_data(trace: StepTrace) -> list[dict]:
    """Every gradient's chain of factors as plain data, for JSON."""
    out = []
    for chain in StepDerivation(trace).chains():
        out.append({
            "parameter": chain.label,
            "gradient": chain.gradient,
            "combined_by": chain.combined_by,
            "samples": [{
                "index": sc.index,
                "term": sc.term,
                "delta_form": sc.delta_form.text(),
                "paths": None if sc.paths is None else [
                    {"factors": [{"symbol": f.symbol.text(), "value": f.value} for f in path],
                     "product": math.prod(f.value for f in path)} for path in sc.paths],
            } for sc in chain.samples],
        })
    return out


__all__ = ["Document", "Section", "Eq", "explain_step", "chains_as_data", "Names", "StepDerivation", "walk"]
