"""Each claim against the engine, and a wrong one explained: it inherits earlier wrong (or rounded)
claims, a classic mistake reproduces it, it is another quantity's value copied, or a digit slip.

Recomputing a claim from its inputs evaluates the formula the explanation prints for it, with every
symbol looked up: claimed where claimed, else recomputed from claims further up, else correct."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..explain.derive import optimizer_state
from ..expr import Add, Num, Sub, Sym, rewrite
from ..optim import Optimizer
from ..trace import trace_steps
from .claims import PARAMETER_KINDS, Claim, ClaimsError, kind_of
from .formulas import Step, evaluate, updated
from .mistakes import digit_slip, variants


@dataclass
class Verdict:
    claim: Claim
    correct: float
    ok: bool
    inherited_from: list | None = None
    mistake: str | None = None

    def as_dict(self) -> dict:
        return {"name": self.claim.key, "step": self.claim.step, "sample": self.claim.sample,
                "claimed": self.claim.value, "correct": self.correct, "ok": self.ok,
                "inherited_from": self.inherited_from, "mistake": self.mistake}


class Checker:
    def __init__(self, spec, claims: list[Claim]):
        self.spec, self.claims = spec, claims
        x, t = spec.require_data()
        network = spec.build_network()
        last = max(c.step for c in claims)
        traces = trace_steps(network, x, t, spec.training, last)
        self.steps = {k: Step(traces[k - 1], network) for k in {c.step for c in claims}}
        self.by_key: dict[tuple, Claim] = {}
        for c in claims:
            self.by_key.setdefault((c.step, c.sample, c.name), c)
        self.data = (x, t)

    def position(self, claim: Claim) -> int | None:
        kind, _ = kind_of(claim.name)
        if kind in PARAMETER_KINDS:
            return None
        try:
            return self.steps[claim.step].sample_position(claim.sample)
        except KeyError:
            raise ClaimsError(f"{claim.where}: sample {claim.sample}: expected one of the samples of step "
                              f"{claim.step}, got {claim.sample}") from None

    def correct(self, claim: Claim) -> float:
        step = self.steps[claim.step]
        try:
            return step.correct(claim.name, self.position(claim))
        except KeyError:
            neurons = [step.d.names.neuron(l, j) for l, layer in enumerate(step.d.layers) for j in range(layer["units"])]
            labels = [c.label for c in step.d.chains()]
            raise ClaimsError(f"{claim.where}: expected a name of this network (neurons {', '.join(neurons)}; "
                              f"parameters {', '.join(labels)}), got {claim.name!r}") from None

    def run(self) -> list[Verdict]:
        verdicts = [Verdict(c, self.correct(c), False) for c in self.claims]
        for v in verdicts:
            v.ok = v.claim.matches(v.correct)
        self.wrong = {(v.claim.step, v.claim.sample, v.claim.name): v for v in verdicts if not v.ok}
        for v in verdicts:
            if not v.ok:
                self.explain(v)
        return verdicts

    # ---- looking up inputs: claimed where claimed, else correct ----------------------------------------

    def lookup(self, step: int, sample: int, used: set, claimed: bool = True):
        """look(name[, sample]) → the claimed value where claimed; otherwise (with claimed=True) the value
        recomputed from claims further up, so a wrong claim carries through unclaimed quantities; else correct."""
        memo: dict = {}

        def look(name: str, s_sample: int | None = None):
            key: tuple = (step, sample if s_sample is None else s_sample, name)
            kind, _ = kind_of(name)
            if kind in PARAMETER_KINDS:
                key = (step, None, name)
                found = next((c for (k_step, _, k_name), c in self.by_key.items()
                              if k_step == step and k_name == name), None)
            else:
                found = self.by_key.get(key)
            st = self.steps[step]
            s = None if key[1] is None else st.sample_position(key[1])
            if claimed and found is not None:
                used.add(found.key)
                return found.value
            if claimed and kind not in ("before", "loss_before"):
                number = sample if s_sample is None else s_sample
                if (name, number) not in memo:
                    memo[(name, number)] = (None, set())        # a guard while it is being computed
                    outer = set(used)
                    used.clear()            # what it reads, even where something before read it too
                    probe = Claim(name, name, step, number, "0", 0.0, None)
                    value = self.recompute(probe, lambda n, smp=None: look(n, number if smp is None else smp))
                    memo[(name, number)] = (value, set(used))
                    used.update(outer)
                value, depends = memo[(name, number)]
                if value is not None:
                    used.update(depends)
                    return value
            return st.correct(name, s)
        return look

    def _wrong_among(self, used: set) -> list:
        return sorted(k for k in used if any(w.claim.key == k for w in self.wrong.values()))

    def explain(self, v: Verdict) -> None:
        c = v.claim
        used: set = set()
        look = self.lookup(c.step, c.sample, used)
        recomputed = self.recompute(c, look)
        wrong_used = self._wrong_among(used)
        if recomputed is not None and c.matches(recomputed):
            if wrong_used:
                v.inherited_from = wrong_used
            else:
                v.mistake = "computed from rounded values: " + ", ".join(sorted(used))
            return
        for claimed_inputs in (True, False):
            used = set()
            look = self.lookup(c.step, c.sample, used, claimed_inputs)
            for mistake, thunk in variants(self, c, look):
                used.clear()       # only the inputs of the variant that matches count
                if c.matches(thunk()):
                    v.mistake = mistake
                    v.inherited_from = self._wrong_among(used) or None
                    return
        copied = self.copied_from(v)
        if copied:
            v.mistake = f"the value of {copied} copied here"
            return
        reference = recomputed if wrong_used and recomputed is not None else v.correct
        slip = digit_slip(c.literal, reference)
        if slip:
            v.mistake = slip
            v.inherited_from = wrong_used or None
            return
        for claimed_inputs in (True, False):      # two mistakes at once: a classic one, then a slip
            used = set()
            look = self.lookup(c.step, c.sample, used, claimed_inputs)
            for mistake, thunk in variants(self, c, look):
                used.clear()
                value = thunk()
                slip = digit_slip(c.literal, value) if value is not None and math.isfinite(value) else None
                if slip:
                    v.mistake = f"{mistake}; then a {slip}"
                    v.inherited_from = self._wrong_among(used) or None
                    return

    def copied_from(self, v: Verdict) -> str | None:
        """Another quantity of the same step whose correct value the claim equals (a copying slip)."""
        st = self.steps[v.claim.step]
        s = st.sample_position(v.claim.sample) if st.trace.samples else None
        names = [f"{kind}_{n}" for l, layer in enumerate(st.d.layers) for j in range(layer["units"])
                 for n in [st.d.names.neuron(l, j)] for kind in ("net", "out", "delta")]
        labels = st.labels()
        names += labels + [f"{p}_after" for p in labels] + [f"dE_d{p}" for p in labels]
        for name in names:
            if name != v.claim.name and v.claim.matches(st.correct(name, s)):
                return name
        return None

    # ---- each quantity from its inputs, by the formula the explanation prints ----------------------------

    def recompute(self, c: Claim, look) -> float | None:
        """The claim's quantity computed from its immediate inputs, as ``look`` gives them."""
        st, (kind, args) = self.steps[c.step], kind_of(c.name)
        if kind == "gradient":
            return self.gradient(st, args[0], look)
        if kind == "after":
            return self.update(st, args[0], look(args[0]), look(f"dE_d{args[0]}"))
        if kind == "loss_after":
            return self.loss_after(st, look)
        if kind in PARAMETER_KINDS:
            return None
        s = st.sample_position(c.sample)
        formula = st.share(args[0], args[1], s) if kind == "dEo_dout" else st.formula(c.name, s)
        return None if formula is None else evaluate(formula, look, st.targets(s))

    def gradient(self, st: Step, label: str, look, forms=None, known=None) -> float:
        """∂E/∂label combined over the step's samples, each sample's δ form (or ``forms``, a mistaken one)
        evaluated with that sample's look-ups (and ``known[s]``, numbers the mistake gives)."""
        terms = []
        for s, (sample, form) in enumerate(zip(st.trace.samples, forms or st.sample_forms(label))):
            number = sample.index + 1
            terms.append(evaluate(form, lambda name: look(name, number), known[s] if known else None))
        return st.combine(terms)

    def update(self, st: Step, label: str, before: float, gradient: float, sign: float = -1.0, rate: bool = True):
        """p⁺ by the optimiser's own equations from p and ∂E/∂p (its state before the step from the trace);
        ``sign`` +1 rewrites p − … into p + …, ``rate`` False writes 1 for η."""
        if label in st.trace.frozen:
            return before
        which, l, j, i = st.param(label)
        optimizer = Optimizer.from_description(st.trace.optimizer, st.trace.learning_rate)
        state = optimizer_state(st.trace, "before", l, "weights" if which == "weight" else "bias",
                                (j, i) if which == "weight" else ((j,) if st.d.layers[l]["bias_mode"] == "per_neuron" else ()))
        equations = optimizer.equations(label, first=not state)
        *rest, (lhs, rhs, note) = equations
        if sign > 0:
            assert isinstance(rhs, Sub), "an optimiser's last equation is p⁺ = p − step"
            rhs = Add(rhs.left, rhs.right)          # p − step → p + step
        if not rate:
            rhs = rewrite(rhs, lambda node: Num(1) if node == Sym("η") else None)
        return optimizer.evaluate(label, before, gradient, state, [*rest, (lhs, rhs, note)])[lhs.text()]

    def loss_after(self, st: Step, look) -> float | None:
        """The data's loss after the step: the forward pass and error of the first sample's derivation with
        every parameter p read as p⁺ (claimed where claimed), over every data point; layers the step did
        not change enter by their claimed outs."""
        x, t = self.data
        d = st.d
        unchanged, still = [], True
        for l, layer in enumerate(d.layers):
            labels = [lab for row in layer["weight_labels"] for lab in row] + [b for b in layer["bias_labels"] if b]
            still = still and all(lab in st.trace.frozen for lab in labels)
            unchanged.append(still)
        if unchanged[-1]:
            return None
        definitions = st.definitions(0)
        labels = st.labels()
        last = d.L - 1
        outputs = [d.names.neuron(last, j) for j in range(d.layers[-1]["units"])]
        nets = {m: updated(definitions[f"net_{m}"], labels) for l, layer in enumerate(d.layers) if not unchanged[l]
                for m in (d.names.neuron(l, j) for j in range(layer["units"]))}
        losses = []
        for n in range(len(x)):
            known = {f"i{i + 1}": v for i, v in enumerate(x[n])}
            known.update({f"t_{o}": target for o, target in zip(outputs, t[n])})
            for l, layer in enumerate(d.layers):
                neurons = [d.names.neuron(l, j) for j in range(layer["units"])]
                if unchanged[l]:
                    known.update({f"out_{m}": look(f"out_{m}", n + 1) for m in neurons})
                    continue
                for m in neurons:
                    known[f"net_{m}"] = evaluate(nets[m], look, known)
                if d.activations[l].elementwise:
                    for m in neurons:
                        known[f"out_{m}"] = evaluate(definitions[f"out_{m}"], look, known)
                else:       # a whole layer at once (softmax): its formula has a Σ_k, so the layer's own values
                    outs = d.activations[l].scalar_layer([known[f"net_{m}"] for m in neurons])
                    known.update({f"out_{m}": v for m, v in zip(neurons, outs)})
            for o in outputs:
                known[f"E_{o}"] = evaluate(definitions[f"E_{o}"], look, known)
            losses.append(evaluate(definitions["E_total"], look, known))
        return math.fsum(losses) / (1 if st.trace.reduction == "sum" else len(losses))
