"""One training step as the derivation a teacher writes on the board (seeds 000–004):
a Document of sections of equations, each equation symbols = numbers = result.

Every renderer (text, Markdown, LaTeX, HTML) prints the same Document, so the
numbers and the order of the argument never differ between formats.  The chain
of factors behind each gradient is also plain data (``parameter_chains``) for JSON.
"""

from __future__ import annotations

import math
from collections import ChainMap
from dataclasses import dataclass, field
from operator import mul

import numpy as np

from ..activations import get_activation
from ..losses import get_loss
from ..trace import StepTrace
from . import formulas
from .math import D, Add, Call, Eq, Expr, Frac, Mul, Num, Paren, Pow, Sub, SumOver, Sym, Word, num, sym

MAX_PATHS = 8       # more paths than this: the chain is shown through the next layer's δ only
MAX_SAMPLES = 8     # batch gradients list at most this many samples' terms
MAX_EXPLAINED = 2_000   # parameters; beyond this a whole derivation is pages long, and one
                        # parameter's derivation shows only the neurons its gradient goes through
MAX_EXPLAINED_TERMS = 20_000    # the same for parameters × samples in the step: a batch of 800 on a
                                # network of 337 parameters wrote 200 MB


def too_large(parameters: int, samples: int) -> str | None:
    """Why a whole derivation of a step is too long to write (None when it is not)."""
    if parameters > MAX_EXPLAINED:
        return f"expected at most {MAX_EXPLAINED:,} parameters, got {parameters:,}"
    if parameters * samples > MAX_EXPLAINED_TERMS:
        return (f"expected at most {MAX_EXPLAINED_TERMS:,} parameters × samples in the step, got "
                f"{parameters:,} × {samples:,} = {parameters * samples:,}")
    return None


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


@dataclass(frozen=True)
class Focus:
    """One parameter of a large network: its layer, "weight" or "bias", neuron j and input i."""

    layer: int
    kind: str
    j: int
    i: int = 0


class StepDerivation:
    """The quantities of one traced step, by symbol, and the sections built from them.

    With a ``focus`` (one parameter of a large network) the sections show only what that
    parameter's gradient goes through: its neuron's forward pass, the δs of its layer, the next layer
    and the output layer, a few samples of a large batch, its chain, and its update; long sums leave
    out their terms with a zero factor."""

    def __init__(self, trace: StepTrace, focus: Focus | None = None):
        self.trace, self.focus = trace, focus
        self.layers = trace.network["layers"]
        self.L = len(self.layers)
        self.names = Names(self.L)
        self.loss = get_loss(trace.loss_name)
        self.before = trace.parameters_before
        self.activations = [get_activation(layer["activation"], layer["activation_params"].get("slope"))
                            for layer in self.layers]
        self.fused = self.loss.fused_delta is not None and self.layers[-1]["activation"] == self.loss.output_activation
        self._envs: dict[int, dict] = {}

    # ---- values by symbol ---------------------------------------------------------------

    def weight(self, l: int, j: int, i: int) -> float:
        return self.before[l]["weights"][j][i]

    def bias(self, l: int, j: int) -> float:
        b = self.before[l]["bias"]
        return b if self.layers[l]["bias_mode"] == "shared" else b[j]

    def layer_input(self, sample, l: int, i: int) -> float:
        return sample.input[i] if l == 0 else sample.layers[l - 1]["out"][i]

    @property
    def envs(self) -> list[dict]:
        return [self.env(s) for s in range(len(self.trace.samples))]

    def env(self, s: int) -> dict:
        """Every number of sample s's step by the text of its symbol (built when first asked for)."""
        if s not in self._envs:
            self._envs[s] = self._environment(self.trace.samples[s])
        return self._envs[s]

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

    def _parameters_env(self) -> dict:
        """The parameters by label, shared by every sample's environment (with a focus, the weights
        only of the neurons the sections show)."""
        if not hasattr(self, "_shared"):
            env = {}
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
        env = {f"i{i + 1}": v for i, v in enumerate(sample.input)}
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

    def defined(self, lhs: Expr, formula: Expr, env: dict, value: float, note: str = "") -> Eq:
        """lhs = formula = the formula with numbers = value."""
        numbers = formulas.substitute(formula, env)
        parts = [lhs, formula] + ([numbers] if numbers != formula and numbers.text() != num(value) else [])
        return Eq(parts + [Num(value)], note)

    # ---- the forward pass, the error and the deltas of one sample ----------------------------

    def forward(self, s: int) -> Section:
        sample, env, section = self.trace.samples[s], self.env(s), Section("Forward pass")
        if self.focus is not None:
            section.items.append(f"Only the neuron of {self.focus_label()} is shown; the other neurons' values "
                                 "enter below as numbers.")
        for l, layer in enumerate(self.layers):
            nets, outs = [], []
            name = layer["activation"]
            for j in (self.rows(l) if self.focus is None or l == self.focus.layer else ()):
                n = self.names.neuron(l, j)
                inputs = self.nonzero(range(layer["fan_in"]), lambda i: self.layer_input(sample, l, i))
                terms = [Mul(sym(layer["weight_labels"][j][i]), sym(self.names.out(l - 1, i))) for i in inputs]
                if layer["bias_labels"][j] is not None:
                    terms.append(sym(layer["bias_labels"][j]))
                nets.append(self.defined(sym(f"net_{n}"), Add(*terms), env, sample.layers[l]["net"][j],
                                         self.left_out(layer["fan_in"] - len(inputs), "input")))
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
        sample, env = self.trace.samples[s], self.env(s)
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
        sample, env = self.trace.samples[s], self.env(s)
        section = Section("Backward pass: δ = ∂E/∂net")
        last = self.L - 1
        k = self.layers[-1]["units"]
        for l in range(last, -1 if self.focus is None else self.focus.layer - 1, -1):
            layer = self.layers[l]
            if not self.delta_rows(l):
                if l == last - 1:
                    skipped = [str(m + 1) for m in range(l, self.focus.layer + 1, -1)][::-1]
                    section.items.append(f"The δs of layer{'s' if len(skipped) > 1 else ''} {', '.join(skipped)} "
                                         "are worked the same way; they enter below by value.")
                continue
            for j in self.delta_rows(l):
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
                    through = self.nonzero(range(above["units"]), lambda m: sample.deltas[l + 1][m])
                    paths = Add(*(Mul(sym(f"δ_{self.names.neuron(l + 1, m)}"), sym(above["weight_labels"][m][j]))
                                  for m in through))
                    section.items.append(self.defined(D(E, out), paths, env, env[f"∂E/∂out_{n}"],
                                                      "summed over the paths through the next layer" + (
                                                          "; " + self.left_out(above["units"] - len(through), "δ")
                                                          if len(through) < above["units"] else "")))
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
        shown = set(self.shown_samples())
        for s, sample in enumerate(self.trace.samples):
            if s not in shown:      # a sample summed but not worked in full: its term, not its paths
                samples.append(self._term_only(sample, l, kind, j, i, neurons))
                continue
            env = self.env(s)
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

    def _term_only(self, sample, l: int, kind: str, j: int, i: int, neurons) -> SampleChain:
        if kind == "weight":
            term = sample.deltas[l][j] * self.layer_input(sample, l, i)
        else:
            term = sum(sample.deltas[l][jj] for jj in neurons)
        return SampleChain(sample.index, None, term, Word(""), Word(""))

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
        if only is not None:
            where = self.locate(only)
            chains = [self.chain(where.layer, where.kind, where.j, where.i)]
        else:
            chains = self.chains()
        for chain in chains:
            section.items.append(Section(f"∂E/∂{chain.label}", self.chain_items(chain)))
        return section

    def focus_label(self) -> str:
        f = self.focus
        layer = self.layers[f.layer]
        return layer["weight_labels"][f.j][f.i] if f.kind == "weight" else layer["bias_labels"][f.j]

    # ---- the update ---------------------------------------------------------------------------------

    def updates(self, only: str | None = None) -> Section:
        lr = self.trace.learning_rate
        rule = self.trace.optimizer
        section = _update_heading(rule, lr)
        frozen = set(self.trace.frozen)
        after = self.trace.parameters_after
        where = self.locate(only) if only is not None else None

        def state(which: str, l: int, kind: str, index: tuple) -> dict:
            """One parameter's optimiser state ({"v": …} or {"m": …, "v": …}) before or after the step."""
            held = rule[which][l][kind]
            return {name: _at(values, index) for name, values in held.items()}

        for l, layer in enumerate(self.layers):
            if where is not None and l != where.layer:
                continue
            entries = [(layer["weight_labels"][j][i], "weights", (j, i)) for j in range(layer["units"])
                       for i in range(layer["fan_in"])]
            if layer["bias_mode"] == "shared":
                entries.append((layer["bias_labels"][0], "bias", ()))
            elif layer["bias_mode"] == "per_neuron":
                entries += [(layer["bias_labels"][j], "bias", (j,)) for j in range(layer["units"])]
            for label, kind, index in entries:
                if only is not None and label != only:
                    continue
                old, new = _at(self.before[l][kind], index), _at(after[l][kind], index)
                grad = _at(self.trace.gradients[l][kind], index)
                if label in frozen:
                    section.items.append(Eq([sym(label, "+"), Num(old)], "frozen"))
                elif rule is None:
                    section.items.append(Eq([sym(label, "+"), Sub(Num(old), Mul(Num(lr), Num(grad))), Num(new)]))
                else:
                    section.items += _rule_update(label, old, grad, new, lr, rule,
                                                  state("before", l, kind, index), state("after", l, kind, index))
        return section

    # ---- the whole step -------------------------------------------------------------------------------

    def parameters(self) -> Section:
        section = Section("Parameters before the step")
        if self.focus is not None:
            label, f = self.focus_label(), self.focus
            value = self.weight(f.layer, f.j, f.i) if f.kind == "weight" else self.bias(f.layer, f.j)
            section.items += [Eq([sym(label), Num(value)]),
                              f"(the other {parameter_count(self.trace) - 1:,} parameters enter below by value)"]
            return section
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
                + (f", gradients combined by {t.reduction}" if many else "")
                + ("; computed in float32, so only about 7 significant digits are exact and a product "
                   "written out may differ from its result in the last two" if t.network.get("dtype") == "float32"
                   else "")]

    def samples(self) -> list[Section]:
        out = []
        shown = self.shown_samples()
        for s in shown:
            sample = self.trace.samples[s]
            heading = f"Sample {sample.index + 1}: input {_vector(sample.input)}, target {_vector(sample.target)}"
            out.append(Section(heading, [self.forward(s), self.error(s), self.backward(s)]))
            if len(shown) < len(self.trace.samples) and s == shown[MAX_SAMPLES // 2 - 1]:
                others = len(self.trace.samples) - len(shown)
                out.append(Section("The other samples", [f"The other {others} samples of the batch are worked the "
                                                         "same way; their terms are in the gradient's sum below."]))
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
        where = step.locate(parameter)
        if where is None:
            raise ValueError(f"param: expected one of {_label_list(trace)}, got {parameter!r}")
        if too_large(parameter_count(trace), len(trace.samples)):
            step = StepDerivation(trace, where)
        return Document(f"{heading} — {parameter}", step.intro(),
                        [step.parameters(), *step.samples(), step.gradients(parameter), step.updates(parameter)],
                        trace)
    return Document(heading, step.intro(),
                    [step.parameters(), *step.samples(), step.gradients(), step.updates(), step.loss_line()], trace)


def _at(values, index: tuple):
    """values[j][i], values[j] or the value itself for index (j, i), (j,) or () of nested lists."""
    for k in index:
        values = values[k]
    return values


def _update_heading(rule: dict | None, lr: float) -> Section:
    """The update section with its rule in words and its settings: plain SGD, momentum, Adam."""
    settings = [Eq([Sym("η"), Num(lr)])]
    if rule is None:
        return Section("Update: p⁺ = p − η·∂E/∂p", settings)
    decay = rule["weight_decay"]
    g = "g = ∂E/∂p + λ·p" if decay else "g = ∂E/∂p"
    if decay:
        settings.append(Eq([Sym("λ"), Num(decay)]))
    if rule["name"] == "sgd" and not rule["momentum"]:
        return Section(f"Update (SGD with weight decay): {g}, p⁺ = p − η·g", settings)
    if rule["name"] == "sgd":
        settings.append(Eq([Sym("μ"), Num(rule["momentum"])]))
        step = "p⁺ = p − η·(g + μ·v⁺)" if rule["nesterov"] else "p⁺ = p − η·v⁺"
        title = (f"Update (SGD with {'Nesterov ' if rule['nesterov'] else ''}momentum): {g}, "
                 f"v⁺ = μ·v + g (v⁺ = g on the first step), {step}")
        return Section(title, settings)
    settings += [Eq([Sym("β", "1"), Num(rule["beta1"])]), Eq([Sym("β", "2"), Num(rule["beta2"])]),
                 Eq([Sym("ε"), Num(rule["eps"])]), Eq([Sym("t"), Num(rule["t"])])]
    title = (f"Update (Adam, step t = {rule['t']}): {g}, m⁺ = β_1·m + (1 − β_1)·g, v⁺ = β_2·v + (1 − β_2)·g², "
             "p⁺ = p − η/(1 − β_1ᵗ)·m⁺/(√(v⁺)/√(1 − β_2ᵗ) + ε)")
    return Section(title, settings)


def _rule_update(label: str, p: float, grad: float, new: float, lr: float, rule: dict,
                 before: dict, after: dict) -> list[Eq]:
    """One parameter's update by SGD with momentum or Adam, each quantity symbols = numbers = value."""
    items, target = [], sym(label)
    g, g_value = D(E, target), grad
    decay = rule["weight_decay"]
    if decay:
        g_value = grad + decay * p
        items.append(Eq([Sym("g", label), Add(g, Mul(Sym("λ"), target)),
                         Add(Num(grad), Mul(Num(decay), Num(p))), Num(g_value)], "with weight decay"))
        g = Sym("g", label)
    v, v_new = Sym("v", label), Sym("v", label, "+")
    if rule["name"] == "sgd" and not rule["momentum"]:
        items.append(Eq([sym(label, "+"), Sub(target, Mul(Sym("η"), g)), Sub(Num(p), Mul(Num(lr), Num(g_value))),
                         Num(new)]))
        return items
    if rule["name"] == "sgd":
        velocity = after["v"]
        if "v" in before:
            mu = rule["momentum"]
            items.append(Eq([v_new, Add(Mul(Sym("μ"), v), g), Add(Mul(Num(mu), Num(before["v"])), Num(g_value)),
                             Num(velocity)]))
        else:
            items.append(Eq([v_new, g, Num(velocity)], "first step: the velocity starts at the gradient"))
        if rule["nesterov"]:
            mu = rule["momentum"]
            items.append(Eq([sym(label, "+"), Sub(target, Mul(Sym("η"), Paren(Add(g, Mul(Sym("μ"), v_new))))),
                             Sub(Num(p), Mul(Num(lr), Paren(Add(Num(g_value), Mul(Num(mu), Num(velocity)))))),
                             Num(new)]))
        else:
            items.append(Eq([sym(label, "+"), Sub(target, Mul(Sym("η"), v_new)),
                             Sub(Num(p), Mul(Num(lr), Num(velocity))), Num(new)]))
        return items
    b1, b2, eps, t = rule["beta1"], rule["beta2"], rule["eps"], rule["t"]
    m, m_new = Sym("m", label), Sym("m", label, "+")
    m_old, v_old = before.get("m", 0.0), before.get("v", 0.0)
    items.append(Eq([m_new, Add(Mul(Sym("β", "1"), m), Mul(Paren(Sub(Num(1), Sym("β", "1"))), g)),
                     Add(Mul(Num(b1), Num(m_old)), Mul(Num(1 - b1), Num(g_value))), Num(after["m"])]))
    items.append(Eq([v_new, Add(Mul(Sym("β", "2"), v), Mul(Paren(Sub(Num(1), Sym("β", "2"))),
                                                             Pow(Paren(g) if isinstance(g, D) else g, 2))),
                     Add(Mul(Num(b2), Num(v_old)), Mul(Num(1 - b2), Pow(Num(g_value), 2))), Num(after["v"])]))
    symbols = Sub(target, Mul(Frac(Sym("η"), Paren(Sub(Num(1), Pow(Sym("β", "1"), t)))),
                              Frac(m_new, Paren(Add(Frac(Call("√", v_new), Call("√", Sub(Num(1), Pow(Sym("β", "2"), t)))),
                                                    Sym("ε"))))))
    numbers = Sub(Num(p), Mul(Frac(Num(lr), Num(1 - b1 ** t)),
                              Frac(Num(after["m"]), Paren(Add(Frac(Call("√", Num(after["v"])), Call("√", Num(1 - b2 ** t))),
                                                              Num(eps))))))
    items.append(Eq([sym(label, "+"), symbols, numbers, Num(new)]))
    return items


def _vector(values) -> str:
    """(v1, v2, …) in full when short; a long one (an image) by its size and non-zero count."""
    if len(values) <= 16:
        return f"({', '.join(num(v) for v in values)})"
    return f"of {len(values)} values ({sum(1 for v in values if v != 0)} non-zero)"


def _labels(trace: StepTrace) -> list[str]:
    """Every parameter's label, layer by layer: its weights, then its biases."""
    labels = []
    for layer in trace.network["layers"]:
        labels += [label for row in layer["weight_labels"] for label in row]
        labels += dict.fromkeys(b for b in layer["bias_labels"] if b is not None)
    return labels


def parameter_count(trace: StepTrace) -> int:
    return sum(layer["units"] * layer["fan_in"] + {"shared": 1, "per_neuron": layer["units"]}.get(layer["bias_mode"], 0)
               for layer in trace.network["layers"])


def _label_list(trace: StepTrace) -> str:
    """All labels when few, else their ranges: 'w1–w2440, b1–b41'."""
    labels = _labels(trace)
    if len(labels) <= 20:
        return ", ".join(labels)
    ranges = []
    for prefix in ("w", "b"):
        numbers = sorted(int(label[1:]) for label in labels if label[0] == prefix)
        if numbers:
            ranges.append(f"{prefix}{numbers[0]}–{prefix}{numbers[-1]}")
    return ", ".join(ranges)


def chains_as_data(trace: StepTrace, parameter: str | None = None) -> list[dict]:
    """Every gradient's chain of factors (or one parameter's) as plain data, for JSON."""
    out = []
    step = StepDerivation(trace)
    if parameter is None:
        chains = step.chains()
    else:
        where = step.locate(parameter)
        if where is None:
            raise ValueError(f"param: expected one of {_label_list(trace)}, got {parameter!r}")
        chains = [step.chain(where.layer, where.kind, where.j, where.i)]
    for chain in chains:
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


__all__ = ["Document", "Section", "Eq", "explain_step", "chains_as_data", "Names", "StepDerivation", "walk",
           "MAX_EXPLAINED", "parameter_count", "too_large"]
