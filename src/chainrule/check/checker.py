"""Each claim against the engine, and a wrong one explained: it inherits wrong (or rounded) claims
written before it, a mistake of the catalogue reproduces it, it is another quantity's value copied, or
a digit slip.

Recomputing a claim (an Evaluation) evaluates the formula the explanation prints for it, rewritten by
the mistakes assumed, with every symbol looked up: claimed where claimed earlier in the file, else
recomputed by its own (rewritten) formula, else the engine's value."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..explain.derive import optimizer_state
from ..optim import Optimizer
from ..trace import trace_steps
from .claims import PARAMETER_KINDS, Claim, ClaimsError, kind_of
from .formulas import Step, evaluate, share_of, symbol_text, updated
from .mistakes import COPIED, NOT_THIS_CODE, ROUNDED, catalogue, chance_of_slip, cut, digit_slip, mistaken_forms, rewritten


SLIP_CHANCE = 0.05      # a catalogue mistake then a digit slip is named only where chance would seldom give it


@dataclass
class Verdict:
    claim: Claim
    correct: float
    ok: bool
    inherited_from: list | None = None
    mistake: str | None = None          # the sentence naming the mistake (a guess)
    mistake_id: str | None = None       # its stable id: "sign", "one_path", "digit_slip", …
    note: str | None = None             # for a right claim: how it was written (cut instead of rounded)
    correct_line: str | None = None     # the derivation's line: symbols = numbers = result

    @property
    def wrong(self) -> bool:
        return not self.ok and self.claim.answered

    @property
    def why(self) -> str:
        """Why a wrong claim is wrong, in one line: what it inherits, what it looks like."""
        parts = []
        if self.inherited_from:
            parts.append("inherits the wrong " + ", ".join(self.inherited_from))
        if self.mistake:
            parts.append("looks like: " + self.mistake)
        return "; ".join(parts) if parts else "no mistake in the catalogue reproduces it"

    def as_dict(self) -> dict:
        return {"name": self.claim.key, "step": self.claim.step, "sample": self.claim.sample,
                "claimed": self.claim.value if self.claim.answered else None, "correct": self.correct,
                "ok": self.ok, "answered": self.claim.answered,
                "inherited_from": self.inherited_from, "mistake": self.mistake, "mistake_id": self.mistake_id,
                "note": self.note, "correct_line": self.correct_line}


class Checker:
    def __init__(self, spec, claims: list[Claim]):
        self.spec, self.claims = spec, claims
        x, t = spec.require_data()
        network = spec.build_network()
        last = max(c.step for c in claims)
        self.traces = trace_steps(network, x, t, spec.training, last + 1)      # and the next, for its parameters
        self.network = network
        self._other: dict = {}          # other steps' parameters, the step worked online: made when asked
        self.steps = {k: Step(self.traces[k - 1], network) for k in {c.step for c in claims}}
        for st in self.steps.values():
            st.cache["data_rows"] = len(x)
        self.by_key: dict[tuple, list[Claim]] = {}
        for order, c in enumerate(claims):
            c.order = order
            if not c.answered:
                continue
            kind, _ = kind_of(c.name)
            self.by_key.setdefault((c.step, None if kind in PARAMETER_KINDS else c.sample, c.name), []).append(c)
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
            if not v.claim.answered:
                continue
            v.ok = v.claim.matches(v.correct)
            if not v.ok and cut(v.claim.literal, v.correct):
                v.ok, v.note = True, cut(v.claim.literal, v.correct)
        self.wrong = {v.claim.key for v in verdicts if v.wrong}
        self.right: dict[int, list[Claim]] = {}
        for v in verdicts:
            if v.ok and v.claim.answered and kind_of(v.claim.name)[0] not in ("before", "loss_before"):
                self.right.setdefault(v.claim.step, []).append(v.claim)
        for v in verdicts:
            if v.wrong:
                self.explain(v)
                v.correct_line = self.steps[v.claim.step].line(v.claim.name, self.position(v.claim))
        self.not_this_code(verdicts)
        return verdicts

    def not_this_code(self, verdicts: list[Verdict]) -> None:
        """Two or more unexplained losses of a printed run: the printout is not this spec's run."""
        printed = [v for v in verdicts if v.wrong and kind_of(v.claim.name)[0] == "loss_after"
                   and v.mistake is None and not v.inherited_from]
        if len(printed) >= 2:
            first = min(printed, key=lambda v: v.claim.step)
            for v in printed:
                v.mistake_id, v.mistake = NOT_THIS_CODE.id, NOT_THIS_CODE.says(value=first.correct, step=first.claim.step)

    # ---- recomputing a claim through the (mistaken) step ---------------------------------------------

    def evaluation(self, claim: Claim, mistakes: tuple = (), claimed: bool = True) -> "Evaluation":
        return Evaluation(self, claim, mistakes, claimed)

    def explain(self, v: Verdict) -> None:
        c = v.claim
        base = self.evaluation(c)
        recomputed = base.value()
        wrong_used = base.wrong_used()
        if recomputed is not None and c.matches(recomputed):
            if wrong_used:
                v.inherited_from = wrong_used
            else:
                v.mistake, v.mistake_id = ROUNDED.says(names=", ".join(sorted(base.used))), ROUNDED.id
            return
        candidates = list(self.candidates(c))
        matching = (ev for ev in candidates if c.matches(ev.value()))
        first = next(matching, None)
        if first is not None:
            ev = first if self.consistent(first) else next((ev for ev in matching if self.consistent(ev)), first)
            v.mistake, v.mistake_id = ev.sentence, ev.id
            v.inherited_from = ev.wrong_used() or None
            return
        copied = self.copied_from(v)
        if copied:
            v.mistake, v.mistake_id = COPIED.says(name=copied), COPIED.id
            return
        reference = recomputed if wrong_used and recomputed is not None else v.correct
        slip = digit_slip(c.literal, reference)
        if slip:
            v.mistake_id, v.mistake = slip[0].id, slip[1]
            v.inherited_from = wrong_used or None
            return
        singles = [ev for ev in candidates if len(ev.mistakes) == 1]
        if chance_of_slip(c.literal, len(singles)) > SLIP_CHANCE:
            return      # so many mistakes that one of them would be a slip away from a random number
        for ev in singles:      # two mistakes at once: one of the catalogue, then a slip
            value = ev.value()
            slip = digit_slip(c.literal, value) if value is not None and math.isfinite(value) else None
            if slip:
                v.mistake, v.mistake_id = f"{ev.sentence}; then a {slip[1]}", f"{ev.id}+{slip[0].id}"
                v.inherited_from = ev.wrong_used() or None
                return

    def consistent(self, ev: "Evaluation") -> bool:
        """Whether the claims the student got right in the step stay right with the mistakes made (a right
        ∂E/∂w5 rules out a wrong ∂E/∂out): the explanation that agrees with them is preferred."""
        for r in self.right.get(ev.claim.step, ()):
            if r is not ev.claim:
                value = self.evaluation(r, ev.mistakes, False).value()
                if value is not None and not r.matches(value):
                    return False
        return True

    def candidates(self, c: Claim):
        """Evaluations of the claim under each applicable mistake: one mistake before two, the claimed
        inputs before the correct ones; a mistake that leaves the claim's value as it is does not apply."""
        kind, args = kind_of(c.name)
        if kind in ("before", "loss_before"):
            return
        st = self.steps[c.step]
        own = {args[0]} if kind in ("net", "out") else set()
        mistakes = [m for m in catalogue(st) if not m.neurons or m.neurons & own]
        if kind != "after":
            mistakes = [m for m in mistakes if m.update is None]
        mistakes.sort(key=lambda m: not self.at(c, m))
        plain_evs = {claimed: self.evaluation(c, (), claimed) for claimed in (True, False)}
        unmistaken = {claimed: ev.value() for claimed, ev in plain_evs.items()}
        singles = [(m,) for m in mistakes]
        pairs = [(m, u) for u in mistakes if u.update is not None for m in mistakes
                 if m.update is None or (m.id == "update_sign" and u.id == "no_rate")] if kind == "after" else []
        alone: dict = {}           # (mistake's id(), claimed) → its evaluation alone

        def unchanged(value, reference):
            return reference is not None and value is not None and abs(value - reference) <= 1e-12 * max(1.0, abs(reference))
        for group in (singles, pairs):
            for claimed in (True, False):
                for ms in group:
                    # what the update's mistakes read (∂E/∂p, p) is what the others give: worked once
                    before = [m for m in ms if m.update is None]
                    if len(ms) == 2 and before and unchanged(alone[id(before[0]), claimed].value(), unmistaken[claimed]):
                        continue        # the first does nothing here: the pair is the second alone
                    ev = self.evaluation(c, ms, claimed)
                    if len(before) < len(ms):
                        ev.reuse(alone[id(before[0]), claimed] if before else plain_evs[claimed])
                    value, plain = ev.value(), unmistaken[claimed]
                    if len(ms) == 1:
                        alone[id(ms[0]), claimed] = ev
                    if value is None or not math.isfinite(value) or unchanged(value, plain):
                        continue
                    if len(ms) == 2 and any(abs(value - (alone[id(m), claimed].value() or math.nan)) <= 1e-12
                                            for m in ms):
                        continue        # one of the two does nothing here
                    yield ev

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

    def at(self, c: Claim, m) -> bool:
        """Whether the mistake rewrites the claim's own formula (tried before those further up)."""
        st, (kind, args) = self.steps[c.step], kind_of(c.name)
        if kind == "after":
            return m.update is not None
        if kind == "gradient":
            return m.form is not None or m.combine is not None
        if kind in PARAMETER_KINDS:
            return False
        s = st.sample_position(c.sample)
        key = f"∂E/∂out_{args[1]}" if kind == "dEo_dout" else symbol_text(c.name) or ""
        return rewritten(st, s, (m,)).get(key) != st.definitions(s).get(key)

    # ---- the formulas the evaluation uses -----------------------------------------------------------

    def gradient(self, st: Step, label: str, look, forms=None, combine: str | None = None) -> float:
        """∂E/∂label combined over the step's samples, each sample's δ form (or ``forms``, a mistaken one)
        evaluated with that sample's look-ups."""
        terms = []
        for sample, form in zip(st.trace.samples, forms or st.sample_forms(label)):
            number = sample.index + 1
            terms.append(evaluate(form, lambda name: look(name, number)))
        return st.combine(terms, combine)

    def update(self, st: Step, label: str, before: float, gradient: float, changes=()) -> float | None:
        """p⁺ by the optimiser's own equations from p and ∂E/∂p (its state before the step from the trace),
        each of ``changes`` (a mistake's ``update``) rewriting them; None where one of them does not apply."""
        if label in st.trace.frozen:
            return before
        which, l, j, i = st.param(label)
        optimizer = Optimizer.from_description(st.trace.optimizer, st.trace.learning_rate)
        state = optimizer_state(st.trace, "before", l, "weights" if which == "weight" else "bias",
                                (j, i) if which == "weight" else ((j,) if st.d.layers[l]["bias_mode"] == "per_neuron" else ()))
        equations = optimizer.equations(label, first=not state)
        for change in changes:
            equations = change(equations, not state)
            if equations is None:
                return None
        *_, (lhs, _, _) = equations
        try:
            return optimizer.evaluate(label, before, gradient, state, equations)[lhs.text()]
        except (ValueError, ZeroDivisionError, OverflowError):      # a mistaken rule's √ of a negative, 1/0
            return math.nan

    def online(self, st: Step) -> list[Step]:
        """The batch step worked as online steps: one plain SGD step a sample, in the batch's order, from
        the step's parameters (each a traced Step)."""
        key = ("online", st.trace.step)
        if key not in self._other:
            spec = self.spec.overridden(training={"batch": 1, "shuffle": False},
                                        parameters={label: st.correct(label, None) for label in st.labels()})
            network = spec.build_network()
            x, t = self.data
            rows = [sample.index for sample in st.trace.samples]
            traces = trace_steps(network, x[rows], t[rows], spec.training, len(rows))
            self._other[key] = [Step(trace, network) for trace in traces]
        return self._other[key]

    def parameter_at(self, step: int, label: str) -> float:
        """A parameter's value before ``step`` (traced to one step past the last claimed)."""
        key = ("parameters", step)
        if key not in self._other:
            self._other[key] = Step(self.traces[step - 1], self.network)
        return self._other[key].correct(label, None)

    def loss_after(self, st: Step, look, definitions: dict | None = None) -> float | None:
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
        definitions = definitions or st.definitions(0)
        labels = st.labels()
        last = d.L - 1
        outputs = [d.names.neuron(last, j) for j in range(d.layers[-1]["units"])]
        nets = {m: updated(definitions[f"net_{m}"], labels) for l, layer in enumerate(d.layers) if not unchanged[l]
                for m in (d.names.neuron(l, j) for j in range(layer["units"]))}
        losses = []
        for n in range(len(x)):
            known = {d.names.neuron(-1, i): v for i, v in enumerate(x[n])}
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


class Evaluation:
    """One claim recomputed through the step with some mistakes made: each quantity it reads is the
    value claimed before it in the file (with ``claimed``), else its own formula rewritten by the
    mistakes, evaluated the same way; the claims read are kept in ``used``."""

    def __init__(self, checker: Checker, claim: Claim, mistakes: tuple, claimed: bool):
        self.checker, self.claim, self.mistakes, self.claimed = checker, claim, mistakes, claimed
        self.st = checker.steps[claim.step]
        self.used: set = set()
        self.memo: dict = {}
        self._value: float | None = None
        self._done = False

    @property
    def id(self) -> str:
        return "+".join(m.id for m in self.mistakes)

    @property
    def sentence(self) -> str:
        return "; ".join(m.sentence for m in self.mistakes)

    def online(self, name: str, sample: int) -> float | None:
        """name's value with the batch step worked as online steps: a sample's quantities from its own
        step, the gradient combined over them, p⁺ after the last."""
        steps = self.checker.online(self.st)
        kind, args = kind_of(name)
        if kind == "after":
            return steps[-1].correct(name, None)
        if kind == "gradient":
            return self.st.combine([one.correct(name, None) for one in steps])
        if kind in PARAMETER_KINDS or kind == "loss_after":
            return None
        try:
            return steps[self.st.sample_position(sample)].correct(name, 0)
        except KeyError:
            return math.nan

    def reuse(self, other: "Evaluation") -> None:
        """Start from what ``other`` (the same claim, the same mistakes but the update's) has worked out."""
        other.value()
        self.memo, self.used = dict(other.memo), set(other.used)

    def wrong_used(self) -> list:
        return sorted(k for k in self.used if k in self.checker.wrong)

    def value(self) -> float | None:
        if not self._done:
            self._value, self._done = self.compute(self.claim.name, self.claim.sample), True
        return self._value

    def claimed_value(self, name: str, sample: int) -> float | None:
        """The value claimed for name before this claim in the file (a given parameter anywhere)."""
        kind, _ = kind_of(name)
        step = self.claim.step
        found = self.checker.by_key.get((step, None if kind in PARAMETER_KINDS else sample, name), [])
        given = kind in ("before", "loss_before")
        earlier = [c for c in found if (given or c.order < self.claim.order) and c is not self.claim]
        if not earlier:
            return None
        chosen = max(earlier, key=lambda c: c.order) if not given else earlier[0]
        self.used.add(chosen.key)
        return chosen.value

    def look(self, name: str, sample: int | None = None) -> float:
        sample = self.claim.sample if sample is None else sample
        if self.claimed and not (kind_of(name)[0] == "before" and any(m.parameters for m in self.mistakes)):
            found = self.claimed_value(name, sample)
            if found is not None:
                return found
        key = (name, sample)
        if key not in self.memo:
            self.memo[key] = math.nan          # a guard while it is being computed
            value = self.compute(name, sample)
            self.memo[key] = self._engine(name, sample) if value is None else value
        return self.memo[key]

    def _engine(self, name: str, sample: int) -> float:
        """The engine's value of a quantity, nan for one this step does not have (∂E/∂out of an output
        whose δ is fused with its loss, read by a mistaken formula)."""
        try:
            return self.st.correct(name, self._position(name, sample))
        except KeyError:
            return math.nan

    def _position(self, name: str, sample: int) -> int | None:
        return None if kind_of(name)[0] in PARAMETER_KINDS else self.st.sample_position(sample)

    def compute(self, name: str, sample: int) -> float | None:
        """name's value by its formula (rewritten by the mistakes); None where it has none (a given)."""
        st, (kind, args) = self.st, kind_of(name)
        checker, mistakes = self.checker, self.mistakes
        if any(m.online for m in mistakes):
            return self.online(name, sample)
        if kind == "gradient":
            combine = next((m.combine for m in mistakes if m.combine), None)
            return checker.gradient(st, args[0], self.look, mistaken_forms(st, args[0], mistakes), combine)
        if kind == "after":
            return checker.update(st, args[0], self.look(args[0]), self.look(f"dE_d{args[0]}"),
                                  [m.update for m in mistakes if m.update is not None])
        if kind == "loss_after":
            return checker.loss_after(st, self.look, rewritten(st, 0, mistakes))
        if kind == "before" and any(m.parameters for m in mistakes):
            return checker.parameter_at(next(m.parameters for m in mistakes if m.parameters), args[0])
        if kind in PARAMETER_KINDS:
            return None
        s = st.sample_position(sample)
        definitions = rewritten(st, s, mistakes)
        if kind == "dEo_dout":
            formula = share_of(definitions.get(f"∂E/∂out_{args[1]}"), args[0])
        else:
            formula = definitions.get(symbol_text(name) or "")
        if formula is None:
            return None
        return evaluate(formula, lambda n: self.look(n, sample), st.targets(s))
