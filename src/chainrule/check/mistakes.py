"""The catalogue of the mistakes students make, each a rewrite of the step's formulas as the
explanation prints them, and the copying slips (digits changed, swapped, dropped or doubled; a number
cut instead of rounded).

A Mistake rewrites a sample's definitions (net, out, E, ∂E/∂out, ∂out/∂net, δ by symbol), a
gradient's per-sample δ form (δ_h1·i1), how the samples combine (sum or mean), or the update (its
sign, its η).  The checker recomputes a claim through the rewritten step, so a mistake made once
carries into everything computed after it.  ``catalogue(step)`` lists the mistakes that can be made in
a step; ``local`` ones (swapped indices) belong to one neuron and are tried on that neuron's claims.

Sources for the catalogue: the errata and questions around Mazur's worked example (the ½ of the
squared error forgotten or its 2 kept, the sign of ∂E/∂out, σ′ taken at net, a hidden error summed
along one path, the output weights already updated, a shared bias summed over one neuron), Nielsen's
chapter 2 (δ against ∂E/∂out; net against out in ∂net/∂w), and the usual slips of hand computation
(bias left out, indices swapped, η forgotten, sum against mean over a batch)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

from ..expr import Add, D, Expr, Mul, Sym, rewrite, sym
from ..optim import Optimizer
from .formulas import only_term, replaced, terms, updated, without_factor

E = Sym("E")


@dataclass(frozen=True)
class Mistake:
    """One mistake: a stable id, the sentence that names it, and what it rewrites."""

    id: str
    sentence: str
    definitions: Callable | None = None     # (step, s, {symbol: formula}) → the rewritten dict
    form: Callable | None = None            # (step, label, δ form) → the rewritten form
    combine: str | None = None              # "sum" or "mean" where the step combines the other way
    update: Callable | None = None          # (equations, first) → the optimiser's equations rewritten, or None
    parameters: int | None = None           # the step whose parameters are read where this step's belong
    online: bool = False                    # the batch step worked as online steps, one sample after another
    neurons: frozenset = field(default_factory=frozenset)     # local: tried on these neurons' claims only
    layer: int | None = None                # where it is made, for ranking


def _each(definitions: dict, keys, change) -> dict:
    """The definitions with change(key, formula) applied to the formulas of ``keys`` (where defined)."""
    out = dict(definitions)
    for key in keys:
        if key in out:
            out[key] = change(key, out[key])
    return out


def _set(definitions: dict, formulas: dict) -> dict:
    """The definitions with these formulas written in (where the derivation has one or not)."""
    return {**definitions, **formulas}


def _neurons(st, l: int) -> list[str]:
    return [st.d.names.neuron(l, j) for j in range(st.d.layers[l]["units"])]


def _weights_of(layer: dict) -> list[str]:
    return [label for row in layer["weight_labels"] for label in row]


def catalogue(st) -> list[Mistake]:
    """Every mistake that can be made in this step, fewest assumptions first (built once per step): the
    loss's, the activations' and the optimiser's own wrong forms (declared on their classes) and the
    structural mistakes of backpropagation at any depth and width."""
    if "catalogue" in st.cache:
        return st.cache["catalogue"]
    d = st.d
    last = d.L - 1
    hidden = [n for l in range(last) for n in _neurons(st, l)]
    found: list[Mistake] = [*_loss_mistakes(st), *_activation_mistakes(st)]

    def add(*args, **kwargs):
        found.append(Mistake(*args, **kwargs))

    # back through the hidden layers
    for l in range(last):
        above = _neurons(st, l + 1)
        for m in above:
            add("one_path", f"a hidden neuron's error taken along one path only (through {m})",
                lambda st, s, defs, l=l, m=m: _each(
                    defs, [f"∂E/∂out_{n}" for n in _neurons(st, l)],
                    lambda k, f: only_term(f, next((t for t in terms(f) if sym(f"δ_{m}") in getattr(t, "items", ())),
                                                   f))), layer=l)
        found += _transposed(st, l)
    found += _layered("errors_not_deltas", "the next layer's ∂E/∂out used where its δ belongs (its activation's "
                      "derivative skipped)", range(last), lambda st, l: (
                          [f"∂E/∂out_{n}" for n in _neurons(st, l)], _deltas_as_errors))
    found += _layered("updated_weights", "hidden deltas computed with output weights already updated", range(last),
                      lambda st, l: ([f"∂E/∂out_{n}" for n in _neurons(st, l)],
                                     lambda f: updated(f, _weights_of(st.d.layers[l + 1]))))
    # the forward pass
    found += _layered("no_bias", "the bias left out of net", range(d.L),
                      lambda st, l: ([f"net_{n}" for n in _neurons(st, l)], lambda f: _without_bias(st, f)))
    found += _layered("net_not_out", "the previous layer's net used where its out belongs", range(1, d.L),
                      lambda st, l: ([f"net_{n}" for n in _neurons(st, l)], lambda f: _nets_for_outs(f, hidden)))
    if last > 0:
        add("input_net_not_out", "∂net/∂w taken as the previous layer's net where its out belongs",
            form=lambda st, label, f: _nets_for_outs(f, hidden))
    found += _wrong_layer_inputs(st)
    # the gradient over a batch, the biases and the update
    if len(st.trace.samples) > 1:
        other = "mean" if st.trace.reduction == "sum" else "sum"
        add("mean_vs_sum", f"the batch's per-sample gradients combined by their {other} where their "
            f"{st.trace.reduction} belongs", combine=other)
    found += _bias_mistakes(st)
    optimizer = Optimizer.from_description(st.trace.optimizer, st.trace.learning_rate)
    found += [Mistake(w.id, w.sentence, update=w.form) for w in optimizer.mistakes()]
    found += _other_steps(st)
    found += _swaps(st)
    st.cache["catalogue"] = found
    return found


def _layered(id: str, sentence: str, layers, where) -> list[Mistake]:
    """A mistake made in one layer, for each of ``layers``, and in all of them: ``where(st, l)`` gives
    the symbols it rewrites in layer l and how (formula → formula)."""
    layers = list(layers)

    def change(chosen):
        def rewrite_layers(st, s, defs):
            for l in chosen:
                keys, how = where(st, l)
                defs = _each(defs, keys, lambda k, f: how(f))
            return defs
        return rewrite_layers
    groups = [[l] for l in layers] + ([layers] if len(layers) > 1 else [])
    return [Mistake(id, sentence, change(group), layer=group[0] if len(group) == 1 else None) for group in groups]


def _loss_mistakes(st) -> list[Mistake]:
    """The loss's own wrong forms (losses.py) at every output: its terms, its ∂E/∂out or its fused δ."""
    d = st.d
    outputs = _neurons(st, d.L - 1)
    target_sum = float(sum(st.trace.samples[0].target)) if st.trace.samples else 1.0
    keys = {"term": "E_{}", "gradient": "∂E/∂out_{}", "delta": "δ_{}"}
    found = []
    for w in d.loss.mistakes(len(outputs), target_sum, d.fused):
        if w.part == ("gradient" if d.fused else "delta"):
            continue

        def change(st, s, defs, w=w):
            return _set(defs, {keys[w.part].format(o): w.form(sym(f"out_{o}"), sym(f"t_{o}"), len(outputs))
                               for o in outputs})
        found.append(Mistake(w.id, w.sentence, change, layer=d.L - 1))
    return found


def _activation_mistakes(st) -> list[Mistake]:
    """Each layer's activation's own wrong forms (activations.py) — out, ∂out/∂net, a whole layer's δ —
    made in that layer, and in every layer of that activation; δ without its ∂out/∂net factor likewise."""
    d = st.d
    keys = {"value": "out_{}", "derivative": "∂out_{0}/∂net_{0}", "delta": "δ_{}"}
    per_layer: dict[tuple, list] = {}
    for l in range(d.L):
        fused = l == d.L - 1 and d.fused
        activation = d.activations[l]
        for w in activation.mistakes():
            if fused and w.part != "value" or w.part == "delta" and activation.elementwise:
                continue
            per_layer.setdefault((w.id, w.sentence, w.part), []).append((l, w))
        if not fused:
            per_layer.setdefault(("no_derivative", "the activation's derivative factor left out", "no_derivative"),
                                 []).append((l, None))
    found = []
    for (id, sentence, part), made in per_layer.items():
        groups = [[one] for one in made] + ([made] if len(made) > 1 else [])
        for group in groups:
            found.append(Mistake(id, sentence, _activation_change(part, [(l, w) for l, w in group], keys),
                                 layer=group[0][0] if len(group) == 1 else None))
    return found


def _activation_change(part: str, group: list, keys: dict):
    def change(st, s, defs):
        if part == "no_derivative":
            return _each(defs, [f"δ_{n}" for l, _ in group for n in _neurons(st, l)],
                         lambda k, f: without_factor(f, D(sym(f"out_{k[2:]}"), sym(f"net_{k[2:]}"))))
        return _set(defs, {keys[part].format(n): w.form(sym(f"net_{n}"), sym(f"out_{n}"), D(E, sym(f"out_{n}")))
                           for l, w in group for n in _neurons(st, l)})
    return change


def _transposed(st, l: int) -> list[Mistake]:
    """W where Wᵀ belongs: layer l's ∂E/∂out summed with the next layer's weights of the transposed
    matrix (w[i][j] for w[j][i]; a square matrix only)."""
    above = st.d.layers[l + 1]
    if above["units"] != above["fan_in"] or above["units"] < 2:
        return []
    rows = above["weight_labels"]
    swap = {sym(rows[j][i]): sym(rows[i][j]) for j in range(len(rows)) for i in range(len(rows))}
    first = _neurons(st, l)[0]
    return [Mistake("transposed_weights", f"W where Wᵀ belongs: ∂E/∂out_{first} summed with the weights of "
                    f"{_neurons(st, l + 1)[0]}'s row ({', '.join(rows[0])}), not those out of {first} "
                    f"({', '.join(r[0] for r in rows)})",
                    lambda st, s, defs: _each(defs, [f"∂E/∂out_{n}" for n in _neurons(st, l)],
                                              lambda k, f: rewrite(f, lambda node: swap.get(node))), layer=l)]


def _wrong_layer_inputs(st) -> list[Mistake]:
    """A layer's net computed from the values of a lower layer (or the inputs) where the layer just
    below belongs — where the two are as wide."""
    d, found = st.d, []
    for l in range(1, d.L):
        below = [d.names.out(l - 1, i) for i in range(d.layers[l]["fan_in"])]
        for k in range(-1, l - 1):
            width = d.trace.network["inputs"] if k < 0 else d.layers[k]["units"]
            if width != len(below):
                continue
            lower = {sym(b): sym(d.names.out(k, i)) for i, b in enumerate(below)}
            what = "the inputs" if k < 0 else f"layer {k + 1}'s outputs"
            found.append(Mistake("wrong_layer_inputs", f"net of layer {l + 1} computed from {what} "
                                 f"({', '.join(v.text() for v in lower.values())}) where layer {l}'s outputs "
                                 f"({', '.join(below)}) belong",
                                 lambda st, s, defs, l=l, lower=lower: _each(
                                     defs, [f"net_{n}" for n in _neurons(st, l)],
                                     lambda key, f: rewrite(f, lambda node: lower.get(node))), layer=l))
    return found


def _bias_mistakes(st) -> list[Mistake]:
    """A bias's gradient: a shared bias's not summed over its neurons, a per-neuron bias's summed over
    its layer, a bias's taken times an input as a weight's."""
    d, found = st.d, []
    for l, layer in enumerate(d.layers):
        neurons = _neurons(st, l)
        biases = {b for b in layer["bias_labels"] if b}
        if not biases:
            continue
        if layer["bias_mode"] == "shared" and layer["units"] > 1:
            for n in neurons:
                found.append(Mistake("shared_bias_one_neuron",
                                     f"a shared bias's gradient not summed over its neurons (δ of {n} only)",
                                     form=lambda st, label, f, n=n, biases=biases: only_term(f, sym(f"δ_{n}"))
                                     if label in biases else f))
        elif layer["units"] > 1:
            everyone = Add(*(sym(f"δ_{n}") for n in neurons))
            found.append(Mistake("per_neuron_bias_summed", "a per-neuron bias's gradient summed over its layer's "
                                 "neurons as a shared bias's: ∂E/∂b is its own neuron's δ",
                                 form=lambda st, label, f, biases=biases, everyone=everyone: everyone
                                 if label in biases else f))
        shared = layer["bias_mode"] == "shared" and layer["units"] > 1
        for i in range(layer["fan_in"]):
            x = sym(d.names.out(l - 1, i))
            found.append(Mistake("bias_as_weight", f"a bias's gradient taken as a weight's, δ times an input "
                                 f"({x.text()}): a bias's input is 1, ∂E/∂b = δ",
                                 form=lambda st, label, f, biases=biases, x=x: Mul(f, x) if label in biases else f))
            for n in neurons if shared else ():        # one neuron's δ, times an input: a weight's gradient
                found.append(Mistake("bias_as_weight", f"a bias's gradient taken as a weight's, δ_{n}·{x.text()}: a "
                                     f"bias's input is 1, and a shared bias sums the δ of its neurons",
                                     form=lambda st, label, f, biases=biases, x=x, n=n: Mul(sym(f"δ_{n}"), x)
                                     if label in biases else f))
    return found


def _other_steps(st) -> list[Mistake]:
    """Parameters of another step read where this step's belong: the previous step's (its update not
    applied), the next step's (the update applied too early), and, for online steps (one sample a step),
    those of the epoch's first step (the online steps worked as one batch); a batch step (plain SGD) worked
    as online steps, one sample after another."""
    k = st.trace.step if hasattr(st.trace, "step") else None
    if not k:
        return []
    found = []
    if k > 1:
        found.append(Mistake("previous_parameters", f"the parameters before step {k - 1} used in step {k}: "
                             f"step {k - 1}'s update not applied", parameters=k - 1))
    found.append(Mistake("later_parameters", f"the parameters after step {k} used in step {k}: the update applied "
                         "before the step is worked", parameters=k + 1))
    if len(st.trace.samples) > 1 and Optimizer.from_description(st.trace.optimizer, st.trace.learning_rate).plain:
        found.append(Mistake("batch_as_online", f"the batch step worked as online steps: each sample's forward "
                             f"and backward pass with the parameters already updated by the samples before it",
                             online=True))
    n = st.cache.get("data_rows")
    if n and len(st.trace.samples) == 1 and n > 1:
        first = k - (k - 1) % n
        if first < k - 1:
            found.append(Mistake("online_as_batch", f"the online steps of the epoch worked as one batch: step {k} "
                                 f"with the parameters of step {first}, before the updates of the samples since",
                                 parameters=first))
    return found


def _deltas_as_errors(formula: Expr) -> Expr:
    return _rewrite_syms(formula, lambda node: D(E, Sym("out", node.sub)) if node.base == "δ" else None)


def _nets_for_outs(formula: Expr, neurons) -> Expr:
    wanted = {f"out_{n}" for n in neurons}
    return _rewrite_syms(formula, lambda node: Sym("net", node.sub) if node.text() in wanted else None)


def _rewrite_syms(formula: Expr, change) -> Expr:
    return rewrite(formula, lambda node: change(node) if isinstance(node, Sym) else None)


def _without_bias(st, formula: Expr) -> Expr:
    biases = {sym(b) for layer in st.d.layers for b in layer["bias_labels"] if b}
    if isinstance(formula, Add):
        kept = [t for t in formula.items if t not in biases]
        if len(kept) < len(formula.items):
            return kept[0] if len(kept) == 1 else Add(*kept)
    return formula


def _swaps(st) -> list[Mistake]:
    """Swapped indices, each local to one neuron: another weight or another input in its net, its out
    computed from another neuron's net."""
    d, found = st.d, list[Mistake]()
    if sum(layer["units"] * layer["fan_in"] for layer in d.layers) > 400:
        return found
    for l, layer in enumerate(d.layers):
        sources = [d.names.out(l - 1, i) for i in range(layer["fan_in"])]
        for j in range(layer["units"]):
            n = d.names.neuron(l, j)
            local = frozenset({n})

            def net_swap(old, new, n=n):
                return lambda st, s, defs: _each(defs, [f"net_{n}"], lambda k, f: replaced(f, sym(old), sym(new)))
            for k in range(layer["units"]):
                if k != j:
                    other = d.names.neuron(l, k)
                    found.append(Mistake(
                        "swapped_neuron", f"swapped indices: computed with the weights of {other}",
                        lambda st, s, defs, n=n, other=other: _each(
                            defs, [f"out_{n}"], lambda key, f: replaced(f, sym(f"net_{n}"), defs[f"net_{other}"])),
                        neurons=local))
            for i, own in enumerate(layer["weight_labels"][j]):
                for other in _weights_of(layer):
                    if other != own:
                        found.append(Mistake("swapped_weight", f"swapped indices: {other} used where {own} belongs",
                                             net_swap(own, other), neurons=local))
                for other in sources:
                    if other != sources[i]:
                        found.append(Mistake("swapped_input", f"swapped indices: {other} used where {sources[i]} "
                                             f"belongs in the term of {own}", net_swap(sources[i], other), neurons=local))
    return found


def rewritten(st, s: int, mistakes) -> dict:
    """Sample s's definitions with each mistake's rewrite applied (built once per sample and mistakes)."""
    key = ("definitions", s, tuple(map(id, mistakes)))
    if key not in st.cache:
        definitions = st.definitions(s)
        for m in mistakes:
            if m.definitions is not None:
                definitions = m.definitions(st, s, definitions)
        st.cache[key] = definitions
    return st.cache[key]


def mistaken_forms(st, label: str, mistakes) -> list[Expr]:
    forms = st.sample_forms(label)
    for m in mistakes:
        if m.form is not None:
            forms = [m.form(st, label, f) for f in forms]
    return forms


# ---- slips: named by comparing numbers, not by rewriting the step ----------------------------------------

@dataclass(frozen=True)
class Slip:
    """A slip of hand computation (or of copying a printout) that the checker names by comparing the
    number written with others: a stable id, what it applies to, and its sentence with {fields}."""

    id: str
    applies: str
    sentence: str
    example: dict

    def says(self, **fields) -> str:
        return self.sentence.format(**fields)


COPIED = Slip("copied", "any quantity", "the value of {name} copied here", {"name": "w7_after"})
DIGIT_SLIP = Slip("digit_slip", "any quantity", "digit slip: written {written} where {right} belongs",
                  {"written": "0.75136079", "right": "0.75136507"})
CUT = Slip("cut", "any quantity", "cut instead of rounded: {right} written as {written}",
           {"right": "0.2869789", "written": "0.2869"})
ROUNDED = Slip("rounded", "any quantity", "computed from rounded values: {names}", {"names": "out_h1, out_o1"})
NOT_THIS_CODE = Slip("not_this_code", "printed losses",
                     "the output of other code: this spec's run prints {value:.9g} after step {step}",
                     {"value": 0.496045683, "step": 1})
SLIPS = (COPIED, DIGIT_SLIP, CUT, ROUNDED, NOT_THIS_CODE)


def cut(literal: str, reference: float) -> str | None:
    """CUT's sentence where the written number is the reference's digits cut, not rounded."""
    slip = digit_slip(literal, reference)
    return slip[1] if slip and slip[0] is CUT else None


def digit_slip(literal: str, reference: float) -> tuple[Slip, str] | None:
    """How the written number differs from the reference by a copying slip, if it does, and the sentence
    naming it: cut instead of rounded (CUT), or one or two digits changed, two neighbours swapped, or a
    digit dropped or doubled (DIGIT_SLIP; two such slips for 4+ digits)."""
    mantissa = literal.lower().split("e")[0].lstrip("+-")
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    exponent_text = literal.lower().split("e")[1] if "e" in literal.lower() else "0"
    exponent = int(exponent_text) if len(exponent_text.lstrip("+-")) <= 3 else 10 ** 9
    if decimals > 30 or abs(exponent) > 300:
        return None          # no one copies 30 decimals by hand; 10^±300 and beyond over- or underflows
    written = mantissa.replace(".", "").lstrip("0")
    expected = f"{abs(reference) / 10.0 ** exponent:.{decimals}f}".replace(".", "").lstrip("0")
    if (reference < 0) != literal.strip().startswith("-") or not written or not expected:
        return None
    truncated = math.trunc(abs(reference) / 10.0 ** exponent * 10 ** decimals) / 10 ** decimals
    if written == f"{truncated:.{decimals}f}".replace(".", "").lstrip("0") and written != expected:
        return CUT, CUT.says(right=_format(reference, decimals + 3, exponent), written=literal)
    distance = _damerau(written, expected)
    allowed = 2 if len(written) >= 4 else 1
    if 0 < distance <= allowed:
        return DIGIT_SLIP, DIGIT_SLIP.says(written=literal, right=_format(reference, decimals, exponent))
    return None


def chance_of_slip(literal: str, tries: int) -> float:
    """About how likely a number written like ``literal`` (n significant digits) falls by chance within
    a slip of one of ``tries`` numbers: each has ~12n numbers one edit away (digits changed, swapped,
    dropped, doubled), ~(12n)²/2 two edits away, of 10ⁿ."""
    digits = literal.lower().split("e")[0].replace(".", "").lstrip("+-").lstrip("0")
    n = max(len(digits), 1)
    allowed = 2 if n >= 4 else 1
    return tries * (12 * n) ** allowed / math.factorial(allowed) / 10 ** n


def _format(value: float, decimals: int, exponent: int) -> str:
    text = f"{value / 10.0 ** exponent:.{decimals}f}"
    return text + (f"e{exponent}" if exponent else "")


def _damerau(a: str, b: str) -> int:
    """Edit distance counting a swap of neighbours as one edit."""
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[-1][-1]
