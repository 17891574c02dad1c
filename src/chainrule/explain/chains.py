"""The chain rule, parameter by parameter: each gradient as the products of local derivatives
along every path from the error down to the parameter (``Chain`` of ``SampleChain``s of
``Factor``s), the same through δ, and combined over the batch.

``gradients_section`` writes these as the "Gradients by the chain rule" section of a derivation;
``chains_as_data`` gives them as plain data for JSON.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from ..core.expr import D, Add, Eq, Expr, Frac, Mul, Num, Paren, SumOver, Sym, Word, num, sym
from ..training.trace import StepTrace
from .document import Section
from .limits import MAX_PATHS, MAX_SAMPLES
from .names import E, unknown_parameter
from .values import StepValues


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


def path_products(paths) -> tuple[Expr, Expr]:
    """The sum over paths of each path's product of factors, in symbols and in numbers."""
    symbols = Add(*(Mul(*(f.symbol for f in path)) for path in paths))
    numbers = Add(*(Mul(*(Num(f.value) for f in path)) for path in paths))
    return symbols, numbers


# ---- building the chains ------------------------------------------------------------------------

def _output_factors(step: StepValues, env: Mapping, o: str) -> list[Factor]:
    if step.fused or not step.activations[-1].elementwise:
        return [Factor(D(E, sym(f"net_{o}")), env[f"δ_{o}"])]
    return [Factor(D(E, sym(f"out_{o}")), env[f"∂E/∂out_{o}"]),
            Factor(D(sym(f"out_{o}"), sym(f"net_{o}")), env[f"∂out_{o}/∂net_{o}"])]


def paths_to_net(step: StepValues, env: Mapping, l: int, j: int) -> list[list[Factor]] | None:
    """Every path from the error down to net of neuron (l, j), as its factors in that order
    (None where there are more than MAX_PATHS or a layer's Jacobian couples its outputs)."""
    n = step.names.neuron(l, j)
    if l == step.L - 1:
        return [_output_factors(step, env, n)]
    if not step.activations[l].elementwise:
        return None
    paths = []
    for m in range(step.layers[l + 1]["units"]):
        above = paths_to_net(step, env, l + 1, m)
        if above is None:
            return None
        up = step.names.neuron(l + 1, m)
        down = [Factor(D(sym(f"net_{up}"), sym(f"out_{n}")), step.weight(l + 1, m, j))]
        paths += [p + down + [Factor(D(sym(f"out_{n}"), sym(f"net_{n}")), env[f"∂out_{n}/∂net_{n}"])]
                  for p in above]
        if len(paths) > MAX_PATHS:
            return None
    return paths


def _sample_paths(step: StepValues, sample, env: Mapping, l: int, kind: str, i: int, neurons,
                  target: Expr) -> list[list[Factor]] | None:
    """Every path from the error to the parameter in one sample, through each of its neurons
    (None where there are too many to list)."""
    paths = []
    for jj in neurons:
        n = step.names.neuron(l, jj)
        through = paths_to_net(step, env, l, jj)
        if through is None:
            return None
        last = Factor(D(sym(f"net_{n}"), target), step.layer_input(sample, l, i) if kind == "weight" else 1.0)
        paths += [p + [last] for p in through]
    return None if len(paths) > MAX_PATHS else paths


def _term(step: StepValues, sample, l: int, kind: str, j: int, i: int, neurons) -> float:
    """One sample's share of the gradient: δ·x for a weight, the sum of its neurons' δs for a bias."""
    if kind == "weight":
        return sample.deltas[l][j] * step.layer_input(sample, l, i)
    return sum(sample.deltas[l][jj] for jj in neurons)


def _delta_form(step: StepValues, sample, l: int, kind: str, j: int, i: int, neurons) -> tuple[Expr, Expr]:
    """One sample's share of the gradient through δ, in symbols and in numbers."""
    form: Expr
    if kind == "weight":
        form = Mul(sym(f"δ_{step.names.neuron(l, j)}"), sym(step.names.out(l - 1, i)))
        return form, Mul(Num(sample.deltas[l][j]), Num(step.layer_input(sample, l, i)))
    form = Add(*(sym(f"δ_{step.names.neuron(l, jj)}") for jj in neurons))
    return form, Add(*(Num(sample.deltas[l][jj]) for jj in neurons))


def _gradient(step: StepValues, l: int, kind: str, j: int, i: int, shared: bool) -> float:
    """The step's gradient of the parameter, as the trace recorded it."""
    grads = step.trace.gradients[l]
    if kind == "weight":
        return grads["weights"][j][i]
    return grads["bias"] if shared else grads["bias"][j]


def parameter_chain(step: StepValues, l: int, kind: str, j: int, i: int = 0) -> Chain:
    """The chain of one parameter's gradient: each sample's paths and δ form (only the term, for a
    sample of a large batch that is summed but not worked in full)."""
    layer = step.layers[l]
    shared = kind == "bias" and layer["bias_mode"] == "shared"
    neurons = range(layer["units"]) if shared else [j]
    label = layer["weight_labels"][j][i] if kind == "weight" else layer["bias_labels"][j]
    samples = []
    shown = set(step.shown_samples())
    for s, sample in enumerate(step.trace.samples):
        term = _term(step, sample, l, kind, j, i, neurons)
        if s not in shown:      # a sample summed but not worked in full: its term, not its paths
            samples.append(SampleChain(sample.index, None, term, Word(""), Word("")))
            continue
        paths = _sample_paths(step, sample, step.env(s), l, kind, i, neurons, sym(label))
        form, numbers = _delta_form(step, sample, l, kind, j, i, neurons)
        samples.append(SampleChain(sample.index, paths, term, form, numbers))
    return Chain(label, l, kind, samples, _gradient(step, l, kind, j, i, shared), step.trace.reduction)


def all_chains(step: StepValues) -> list[Chain]:
    """Every parameter's chain, layer by layer: its weights row by row, then its biases."""
    out = []
    for l, layer in enumerate(step.layers):
        for j in range(layer["units"]):
            out += [parameter_chain(step, l, "weight", j, i) for i in range(layer["fan_in"])]
        if layer["bias_mode"] == "per_neuron":
            out += [parameter_chain(step, l, "bias", j) for j in range(layer["units"])]
        elif layer["bias_mode"] == "shared":
            out.append(parameter_chain(step, l, "bias", 0))
    return out


def _chains(step: StepValues, only: str | None) -> list[Chain]:
    """Every parameter's chain, or the one parameter's labelled ``only``."""
    if only is None:
        return all_chains(step)
    where = step.locate(only)
    if where is None:
        raise unknown_parameter(step.trace, only)
    return [parameter_chain(step, where.layer, where.kind, where.j, where.i)]


# ---- writing a chain as equations ------------------------------------------------------------------

def _sample_error(label: str) -> Sym:
    return Sym("E", "", f"({label})")


def _paths_equation(chain: Chain, lhs: Expr, target: Expr) -> Eq:
    """The gradient along every path: with numbers for a single sample, in symbols for a batch."""
    first = chain.samples[0]
    symbols, numbers = path_products(first.paths)
    if len(chain.samples) == 1:
        return Eq([lhs, symbols, numbers, Num(math.fsum(math.prod(f.value for f in p) for p in first.paths))],
                  "every path from the error to " + chain.label)
    return Eq([D(_sample_error("s"), target), symbols],
              "every path from the error to " + chain.label + ", for each sample s")


def _batch_equations(chain: Chain, lhs: Expr, target: Expr, note: str) -> list[Eq]:
    """Each shown sample's term through δ, then their sum or mean (a large batch's middle left as …)."""
    n = len(chain.samples)
    shown = chain.samples if n <= MAX_SAMPLES else chain.samples[:MAX_SAMPLES // 2] + chain.samples[-2:]
    items = []
    for sc in shown:
        worked = [sc.delta_numbers] if sc.delta_numbers.text() != num(sc.term) else []
        items.append(Eq([D(_sample_error(str(sc.index + 1)), target), sc.delta_form, *worked, Num(sc.term)],
                        f"sample {sc.index + 1}"))
    terms: list[Expr] = [Num(sc.term) for sc in shown]
    if n > len(shown):
        terms.insert(MAX_SAMPLES // 2, Word("…"))
    total = Paren(Add(*terms))
    form: Expr
    numbers: Expr
    if chain.combined_by == "sum":
        form, numbers = SumOver("s", D(_sample_error("s"), target)), total
    else:
        form = Mul(Frac(Num(1), Num(n)), SumOver("s", D(_sample_error("s"), target)))
        numbers = Frac(total, Num(n))
    items.append(Eq([lhs, form, numbers, Num(chain.gradient)],
                    f"{chain.combined_by} over the {n} samples" + (f"; {note}" if note else "")))
    return items


def chain_items(step: StepValues, chain: Chain) -> list:
    """The equations of one gradient: along every path, then through δ, then combined over the batch."""
    target = sym(chain.label)
    lhs = D(E, target)
    note = "shared: summed over the layer's neurons" if (
        chain.kind == "bias" and step.layers[chain.layer]["bias_mode"] == "shared") else ""
    first = chain.samples[0]
    items = [] if first.paths is None else [_paths_equation(chain, lhs, target)]
    if len(chain.samples) == 1:
        return items + [Eq([lhs, first.delta_form, first.delta_numbers, Num(chain.gradient)], note)]
    return items + _batch_equations(chain, lhs, target, note)


def gradients_section(step: StepValues, only: str | None = None) -> Section:
    """Every parameter's gradient (or only one's) by the chain rule, a subsection each."""
    section = Section("Gradients by the chain rule")
    frozen = set(step.trace.frozen) if only is None else set()
    for chain in _chains(step, only):
        if chain.label not in frozen:
            section.items.append(Section(f"∂E/∂{chain.label}", chain_items(step, chain)))
    skipped = [chain.label for chain in _chains(step, only) if chain.label in frozen]
    if skipped:
        section.items.append(f"Not needed: the gradients of the frozen {', '.join(skipped)}, which this step leaves "
                             "as they are.")
    return section


def sample_terms(trace: StepTrace, samples: int) -> dict[str, list[float]]:
    """Each parameter's shares of its gradient from the first ``samples`` samples of the step (δ·x for a
    weight, its neurons' δs for a bias), without the paths: cheap at any size."""
    step = StepValues(trace)
    kept = trace.samples[:samples]
    out = {}
    for l, layer in enumerate(step.layers):
        for j in range(layer["units"]):
            for i in range(layer["fan_in"]):
                out[layer["weight_labels"][j][i]] = [_term(step, s, l, "weight", j, i, [j]) for s in kept]
        units = range(layer["units"])
        if layer["bias_mode"] == "per_neuron":
            for j in units:
                out[layer["bias_labels"][j]] = [_term(step, s, l, "bias", j, 0, [j]) for s in kept]
        elif layer["bias_mode"] == "shared":
            out[layer["bias_labels"][0]] = [_term(step, s, l, "bias", 0, 0, units) for s in kept]
    return out


def chains_as_data(trace: StepTrace, parameter: str | None = None) -> list[dict]:
    """Every gradient's chain of factors (or one parameter's) as plain data, for JSON."""
    return [{
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
    } for chain in _chains(StepValues(trace), parameter)]


__all__ = ["Chain", "Factor", "SampleChain", "all_chains", "chain_items", "chains_as_data", "gradients_section",
           "parameter_chain", "path_products", "paths_to_net", "sample_terms"]
