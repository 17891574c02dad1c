"""Audit numbers someone worked out by hand against the engine, and name the mistake.

A claims file (TOML) names a spec and the numbers claimed::

    spec = "mazur"                # a built-in example, a spec file (relative to this file) or a [spec] table
    [[claims]]                    # one group of claims: step (default 1) and sample (default 1)
    step = 1
    net_h1 = 0.3775
    "out_o1 (line 12)" = 0.75136507      # a remark in parentheses is kept for the report

Each claim is compared at the precision it was written with (0.5824 means ±0.00005).  A wrong
one is explained, in this order: it follows from earlier wrong (or rounded) claims; a mistake of
the catalogue reproduces it (from the claimed or the correct inputs); it is a digit slip.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .explain.derive import StepDerivation, optimizer_state
from .expr import Add, Num, Pow, Sub, Sym, rewrite, sym, symbols
from .optim import Optimizer
from .spec import SpecError, from_dict, load
from .trace import trace_steps

GROUP_KEYS = {"step", "sample"}
TOP_KEYS = {"spec", "title", "claims"}
MAX_STEP = 10_000     # steps are traced one by one to the last claimed

# names: net_h1, out_o2, E_o1, E_total, delta_h1, dE_dnet_o1, dE_dout_h1, dout_o1_dnet_o1,
# dE_o1_dout_h1, dE_dw5, w5, w5_after, loss_before, loss_after
NEURON = r"(?:i\d+|h\d+(?:_\d+)?|o\d+)"
PARAM = r"[wb]\d+"
PATTERNS = [
    ("net", rf"net_({NEURON})"), ("out", rf"out_({NEURON})"), ("error", r"E_(o\d+)"), ("error_total", r"E_total"),
    ("delta", rf"(?:delta|δ|dE_dnet)_({NEURON})"), ("dE_dout", rf"dE_dout_({NEURON})"),
    ("dout_dnet", rf"dout_({NEURON})_dnet_\1"), ("dEo_dout", rf"dE_(o\d+)_dout_({NEURON})"),
    ("gradient", rf"dE_d({PARAM})"), ("after", rf"({PARAM})_after"), ("before", rf"({PARAM})"),
    ("loss_before", r"loss_before"), ("loss_after", r"loss_after"),
]


class ClaimsError(ValueError):
    """A claims file that cannot be checked: names the file, line and key."""


@dataclass
class Claim:
    key: str            # as written, with any remark
    name: str
    step: int
    sample: int
    literal: str
    value: float
    line: int | None
    source: str = "<claims>"

    @property
    def where(self) -> str:
        """file:line: key — for messages."""
        return f"{self.source}{':' + str(self.line) if self.line else ''}: {self.key}"

    @property
    def tolerance(self) -> float:
        """Half a unit in the last written digit: 0.5824 → 0.00005."""
        mantissa, _, exponent = self.literal.lower().replace("_", "").partition("e")
        decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
        return 0.5 * 10.0 ** (-decimals + (int(exponent) if exponent else 0))

    def matches(self, value: float) -> bool:
        return value is not None and math.isfinite(value) and (
            abs(value - self.value) <= self.tolerance * (1 + 1e-9) + 1e-12 * abs(value))


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


# ---- reading a claims file --------------------------------------------------------------------------

def _literals(text: str) -> list[tuple[int, str, str]]:
    """(line, key, number literal) for every `key = number` line, in file order."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        m = re.match(r'\s*("(?:[^"\\]|\\.)*"|[A-Za-z0-9_\-]+)\s*=\s*([-+]?[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][-+]?\d+)?)\s*(?:#.*)?$',
                     line)
        if m:
            found.append((number, m.group(1).strip('"'), m.group(2)))
    return found


def parse_name(key: str) -> str:
    """The claim's name without its remark: 'out_o1 (line 12)' → 'out_o1'."""
    return re.sub(r"\s*\(.*\)\s*$", "", key).strip()


def _kind(name: str):
    for kind, pattern in PATTERNS:
        m = re.fullmatch(pattern, name)
        if m:
            return kind, m.groups()
    return None, ()


def read_claims(path_or_text: str | Path, *, text: str | None = None, base: Path | None = None,
                source: str | None = None):
    """(spec, [Claim], title) from a claims file (or its text)."""
    if text is None:
        path = Path(path_or_text)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ClaimsError(f"{path}: cannot read the claims file: {exc}") from None
        base, source = path.parent, str(path)
    source = source or "<claims>"
    base = base or Path(".")
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ClaimsError(f"{source}: invalid TOML: {exc}") from None
    literals = _literals(text)
    lines = text.splitlines()

    def line_of(key: str, after: int = 0) -> int | None:
        for number, k, _ in literals:
            if number > after and k == key:
                return number
        for number, line in enumerate(lines, 1):
            if number > after and re.match(rf'\s*"?{re.escape(key)}"?\s*=', line):
                return number
        return None

    def fail(key: str, message: str, after: int = 0) -> ClaimsError:
        line = line_of(key, after)
        return ClaimsError(f"{source}{':' + str(line) if line else ''}: {key}: {message}")

    unknown = set(document) - TOP_KEYS
    if unknown:
        key = sorted(unknown)[0]
        raise fail(key, f"expected one of {', '.join(sorted(TOP_KEYS))}, got an unknown key")
    if "spec" not in document:
        raise ClaimsError(f"{source}: spec: missing; expected an example name, a spec file or a [spec] table")
    spec = _load_spec(document["spec"], base, source, fail)
    groups = document.get("claims")
    if groups is None:
        raise ClaimsError(f"{source}: claims: missing; expected [[claims]] tables of name = number")
    if isinstance(groups, dict):
        groups = [groups]
    if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
        raise fail("claims", "expected [[claims]] tables of name = number")
    claims, cursor = [], 0
    header_lines = [n for n, line in enumerate(lines, 1) if re.match(r"\s*\[\[?\s*claims\s*\]\]?", line)]
    for g, group in enumerate(groups):
        cursor = header_lines[g] if g < len(header_lines) else cursor
        step = group.get("step", 1)
        sample = group.get("sample", 1)
        for key, value in (("step", step), ("sample", sample)):
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_STEP:
                raise fail(key, f"expected an integer from 1 to {MAX_STEP}, got {value!r}", cursor)
        for key, value in group.items():
            if key in GROUP_KEYS:
                continue
            line = line_of(key, cursor)
            where = f"{source}:{line}" if line else source
            name = parse_name(key)
            kind, _ = _kind(name)
            if kind is None:
                raise ClaimsError(f"{where}: {key}: expected a claim name such as net_h1, out_o1, E_o1, E_total, "
                                  f"delta_h1, dE_dout_o1, dout_o1_dnet_o1, dE_dw5, w5, w5_after, loss_after; "
                                  f"got {name!r}")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ClaimsError(f"{where}: {key}: expected a number, got {value!r}")
            literal = next((lit for n, k, lit in literals if n == line and k == key), repr(value))
            claims.append(Claim(key, name, step, sample, literal, float(value), line, source))
    if not claims:
        raise ClaimsError(f"{source}: claims: expected at least one claimed number, got none")
    return spec, claims, document.get("title", spec.name)


def _load_spec(value, base: Path, source: str, fail):
    if isinstance(value, dict):
        try:
            return from_dict(value, f"{source} [spec]", None, base)
        except SpecError as exc:
            raise ClaimsError(f"{source}: spec: {exc}") from None
    if not isinstance(value, str):
        raise fail("spec", f"expected an example name, a spec file or a [spec] table, got {value!r}")
    candidate = base / value
    try:
        return load(candidate if candidate.is_file() else value)
    except SpecError as exc:
        raise fail("spec", f"does not load: {exc}") from None


# ---- the engine's values and the mistakes ------------------------------------------------------------

class _Step:
    """One traced step, with every quantity a claim can name, computed from looked-up inputs."""

    def __init__(self, trace, network):
        self.trace = trace
        self.d = StepDerivation(trace)
        self.network = network

    # where each named neuron lives
    def locate(self, neuron: str) -> tuple[int, int]:
        names = self.d.names
        for l, layer in enumerate(self.d.layers):
            for j in range(layer["units"]):
                if names.neuron(l, j) == neuron:
                    return l, j
        if re.fullmatch(r"i\d+", neuron) and int(neuron[1:]) <= self.trace.network["inputs"]:
            return -1, int(neuron[1:]) - 1
        raise KeyError(neuron)

    def param(self, label: str):
        for l, layer in enumerate(self.d.layers):
            for j in range(layer["units"]):
                for i in range(layer["fan_in"]):
                    if layer["weight_labels"][j][i] == label:
                        return "weight", l, j, i
            if label in layer["bias_labels"]:
                return "bias", l, layer["bias_labels"].index(label), 0
        raise KeyError(label)

    def sample_position(self, sample: int) -> int:
        for s, traced in enumerate(self.trace.samples):
            if traced.index == sample - 1:
                return s
        raise KeyError(sample)

    def correct(self, name: str, s: int | None) -> float:
        """The engine's value of a claim name (s: position of the sample in the step)."""
        kind, args = _kind(name)
        d, trace = self.d, self.trace
        env = d.env(s) if s is not None else None
        if kind in ("net", "out"):
            l, j = self.locate(args[0])
            return trace.samples[s].input[j] if l < 0 else env[f"{kind}_{args[0]}"]
        if kind == "error":
            return trace.samples[s].errors[self.locate(args[0])[1]]
        if kind == "error_total":
            return trace.samples[s].loss
        if kind == "delta":
            return env[f"δ_{args[0]}"]
        if kind == "dE_dout":
            return env[f"∂E/∂out_{args[0]}"]
        if kind == "dout_dnet":
            return env[f"∂out_{args[0]}/∂net_{args[0]}"]
        if kind == "dEo_dout":
            (lo, jo), (_, jh) = self.locate(args[0]), self.locate(args[1])
            return env[f"δ_{args[0]}"] * d.weight(lo, jo, jh)
        if kind in ("gradient", "before", "after"):
            which, l, j, i = self.param(args[0])
            table = {"gradient": trace.gradients, "before": trace.parameters_before,
                     "after": trace.parameters_after}[kind][l]
            if which == "weight":
                return table["weights"][j][i]
            b = table["bias"]
            return b if d.layers[l]["bias_mode"] == "shared" else b[j]
        if kind == "loss_before":
            return trace.loss_before
        if kind == "loss_after":
            return trace.loss_after
        raise KeyError(name)


class Checker:
    def __init__(self, spec, claims: list[Claim]):
        self.spec, self.claims = spec, claims
        x, t = spec.require_data()
        network = spec.build_network()
        last = max(c.step for c in claims)
        traces = trace_steps(network, x, t, spec.training, last)
        self.steps = {k: _Step(traces[k - 1], network) for k in {c.step for c in claims}}
        self.by_key = {}
        for c in claims:
            self.by_key.setdefault((c.step, c.sample, c.name), c)
        self.data = (x, t)

    def position(self, claim: Claim) -> int | None:
        kind, _ = _kind(claim.name)
        if kind in ("gradient", "before", "after", "loss_before", "loss_after"):
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
            key = (step, sample if s_sample is None else s_sample, name)
            kind, _ = _kind(name)
            if kind in ("gradient", "before", "after", "loss_before", "loss_after"):
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
                    probe = Claim(name, name, step, number, "0", 0.0, None)
                    value = self.recompute(probe, lambda n, smp=None: look(n, number if smp is None else smp))
                    memo[(name, number)] = (value, used - outer)
                value, depends = memo[(name, number)]
                if value is not None:
                    used.update(depends)
                    return value
            return st.correct(name, s)
        return look

    def explain(self, v: Verdict) -> None:
        c = v.claim
        used: set = set()
        look = self.lookup(c.step, c.sample, used)
        recomputed = self.recompute(c, look)
        wrong_used = sorted(k for k in used if any(w.claim.key == k for w in self.wrong.values()))
        if recomputed is not None and c.matches(recomputed):
            if wrong_used:
                v.inherited_from = wrong_used
            else:
                v.mistake = "computed from rounded values: " + ", ".join(sorted(used))
            return
        for claimed_inputs in (True, False):
            used = set()
            look = self.lookup(c.step, c.sample, used, claimed_inputs)
            for mistake, thunk in self.variants(c, look):
                used.clear()       # only the inputs of the variant that matches count
                if c.matches(thunk()):
                    wrong_used = sorted(k for k in used if any(w.claim.key == k for w in self.wrong.values()))
                    v.mistake = mistake
                    v.inherited_from = wrong_used or None
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
            for mistake, thunk in self.variants(c, look):
                used.clear()
                value = thunk()
                slip = digit_slip(c.literal, value) if value is not None and math.isfinite(value) else None
                if slip:
                    wrong_used = sorted(k for k in used if any(w.claim.key == k for w in self.wrong.values()))
                    v.mistake = f"{mistake}; then a {slip}"
                    v.inherited_from = wrong_used or None
                    return

    def copied_from(self, v: Verdict) -> str | None:
        """Another quantity of the same step whose correct value the claim equals (a copying slip)."""
        st = self.steps[v.claim.step]
        s = st.sample_position(v.claim.sample) if st.trace.samples else None
        names = [f"{kind}_{n}" for l, layer in enumerate(st.d.layers) for j in range(layer["units"])
                 for n in [st.d.names.neuron(l, j)] for kind in ("net", "out", "delta")]
        labels = [c.label for c in st.d.chains()]
        names += labels + [f"{p}_after" for p in labels] + [f"dE_d{p}" for p in labels]
        for name in names:
            if name != v.claim.name and v.claim.matches(st.correct(name, s)):
                return name
        return None

    # ---- each quantity from its inputs -------------------------------------------------------------------

    def _step(self, c: Claim) -> _Step:
        return self.steps[c.step]

    def recompute(self, c: Claim, look) -> float | None:
        """The claim's quantity computed from its immediate inputs, as ``look`` gives them."""
        st, (kind, args) = self._step(c), _kind(c.name)
        d = st.d
        if kind == "net":
            l, j = st.locate(args[0])
            return None if l < 0 else self._net(st, l, j, look)
        if kind == "out":
            l, j = st.locate(args[0])
            if l < 0 or not d.activations[l].elementwise:
                return None
            net = look(f"net_{args[0]}")
            return float(d.activations[l].value(np.array([net]))[0])
        if kind == "error":
            l, j = st.locate(args[0])
            return self._error_terms(st, c, look)[j]
        if kind == "error_total":
            last = d.L - 1
            return math.fsum(look(f"E_{d.names.neuron(last, j)}") for j in range(d.layers[-1]["units"]))
        if kind == "dE_dout":
            return self._dE_dout(st, c, args[0], look)
        if kind == "dout_dnet":
            l, j = st.locate(args[0])
            formula = d.activations[l].derivative_formula(sym(f"net_{args[0]}"), sym(f"out_{args[0]}"))
            return None if formula is None else evaluate(formula, look)
        if kind == "delta":
            return self._delta(st, c, args[0], look)
        if kind == "dEo_dout":
            (lo, jo), (_, jh) = st.locate(args[0]), st.locate(args[1])
            return look(f"delta_{args[0]}") * look(d.layers[lo]["weight_labels"][jo][jh])
        if kind == "gradient":
            return self._gradient(st, c, args[0], look)
        if kind == "after":
            return self._update(st, args[0], look(args[0]), look(f"dE_d{args[0]}"))
        if kind == "loss_after":
            return self._loss_after(st, c, look)
        return None

    def _net(self, st: _Step, l: int, j: int, look, replace: dict | None = None) -> float:
        layer = st.d.layers[l]
        total = 0.0
        for i in range(layer["fan_in"]):
            label = layer["weight_labels"][j][i]
            source = st.d.names.out(l - 1, i)
            label, source = (replace or {}).get(label, label), (replace or {}).get(source, source)
            x = look(source) if source.startswith("out_") else look(f"net_{source}")
            total += look(label) * x
        if layer["bias_labels"][j] is not None:
            total += look(layer["bias_labels"][j])
        return total

    def _outputs(self, st: _Step, look) -> np.ndarray:
        last = st.d.L - 1
        return np.array([[look(f"out_{st.d.names.neuron(last, j)}") for j in range(st.d.layers[-1]["units"])]])

    def _targets(self, st: _Step, c: Claim) -> np.ndarray:
        return np.array([st.trace.samples[st.sample_position(c.sample)].target])

    def _error_terms(self, st: _Step, c: Claim, look) -> list:
        """E_o of each output, by the loss's own formula from the (looked-up) outputs."""
        d, k = st.d, st.d.layers[-1]["units"]
        target = st.trace.samples[st.sample_position(c.sample)].target
        terms = []
        for j in range(k):
            o = d.names.neuron(d.L - 1, j)
            formula = d.loss.term_formula(sym(f"out_{o}"), sym(f"t_{o}"), k)
            terms.append(evaluate(formula, look, {f"t_{o}": target[j]}))
        return terms

    def _dE_dout(self, st: _Step, c: Claim, neuron: str, look, squared: bool = False) -> float | None:
        l, j = st.locate(neuron)
        d = st.d
        if l == d.L - 1:
            if d.fused:
                return None
            target = st.trace.samples[st.sample_position(c.sample)].target
            return _output_gradient(d, j, target, look, squared)
        above = d.layers[l + 1]
        return sum(look(f"delta_{d.names.neuron(l + 1, m)}") * look(above["weight_labels"][m][j])
                   for m in range(above["units"]))

    def _delta(self, st: _Step, c: Claim, neuron: str, look) -> float | None:
        l, j = st.locate(neuron)
        if l == st.d.L - 1 and st.d.fused:
            return None
        if not st.d.activations[l].elementwise:
            return None
        return look(f"dE_dout_{neuron}") * look(f"dout_{neuron}_dnet_{neuron}")

    def _gradient(self, st: _Step, c: Claim, label: str, look, deltas=None, only_neuron: int | None = None):
        """∂E/∂label combined over the step's samples, from each sample's δ (looked up or given)."""
        which, l, j, i = st.param(label)
        d = st.d
        neurons = range(d.layers[l]["units"]) if which == "bias" and d.layers[l]["bias_mode"] == "shared" else [j]
        if only_neuron is not None:
            neurons = [only_neuron]
        terms = []
        for s, sample in enumerate(st.trace.samples):
            number = sample.index + 1
            total = 0.0
            for jj in neurons:
                n = d.names.neuron(l, jj)
                delta = deltas[s][l][jj] if deltas is not None else look(f"delta_{n}", number)
                x = 1.0 if which == "bias" else (
                    look(d.names.out(l - 1, i), number) if l > 0 else sample.input[i])
                total += delta * x
            terms.append(total)
        return math.fsum(terms) / (1 if st.trace.reduction == "sum" else len(terms))

    def _update(self, st: _Step, label: str, before: float, gradient: float, sign: float = -1.0, rate: bool = True):
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
            rhs = Add(rhs.left, rhs.right)          # p − step → p + step
        if not rate:
            rhs = rewrite(rhs, lambda node: Num(1) if node == Sym("η") else None)
        return optimizer.evaluate(label, before, gradient, state, [*rest, (lhs, rhs, note)])[lhs.text()]

    def _loss_after(self, st: _Step, c: Claim, look) -> float | None:
        """The data's loss after the step, from the claimed updated parameters (and the claimed outs of
        layers the step did not change)."""
        x, t = self.data
        network = st.network
        d = st.d
        unchanged = []
        still = True
        for l, layer in enumerate(d.layers):
            labels = [lab for row in layer["weight_labels"] for lab in row] + [b for b in layer["bias_labels"] if b]
            still = still and all(lab in st.trace.frozen for lab in labels)
            unchanged.append(still)
        losses = []
        for n in range(len(x)):
            values = list(x[n])
            for l, layer in enumerate(d.layers):
                if unchanged[l]:
                    values = [look(f"out_{d.names.neuron(l, j)}", n + 1) for j in range(layer["units"])]
                    continue
                nets = []
                for j in range(layer["units"]):
                    total = sum(look(f"{layer['weight_labels'][j][i]}_after") * values[i] for i in range(layer["fan_in"]))
                    if layer["bias_labels"][j]:
                        total += look(f"{layer['bias_labels'][j]}_after")
                    nets.append(total)
                values = d.activations[l].value(np.array([nets]))[0].tolist()
            if unchanged[-1]:
                return None
            losses.append(float(network.loss.value(np.array([nets]), np.array([values]), t[n:n + 1])[0]))
        return math.fsum(losses) / (1 if st.trace.reduction == "sum" else len(losses))

    # ---- the catalogue of classic mistakes ----------------------------------------------------------------

    def variants(self, c: Claim, look):
        """(mistake, thunk) pairs: thunk() is what the claim would be with that classic mistake.
        Each is computed only when asked, so the claims it reads are known for each one alone."""
        st, (kind, args) = self._step(c), _kind(c.name)
        d = st.d
        if kind == "net":
            l, j = st.locate(args[0])
            if l < 0:
                return
            layer = d.layers[l]
            labels = [lab for row in layer["weight_labels"] for lab in row]
            sources = [d.names.out(l - 1, i) for i in range(layer["fan_in"])]
            for i, own in enumerate(layer["weight_labels"][j]):
                for other in labels:
                    if other != own:
                        yield (f"swapped indices: {other} used where {own} belongs",
                               lambda own=own, other=other: self._net(st, l, j, look, {own: other}))
                for other in sources:
                    if other != sources[i]:
                        yield (f"swapped indices: {other} used where {sources[i]} belongs in the term of {own}",
                               lambda i=i, other=other: self._net(st, l, j, look, {sources[i]: other}))
        elif kind == "out":
            l, j = st.locate(args[0])
            if l >= 0:
                for other in range(d.layers[l]["units"]):
                    if other != j:
                        yield (f"swapped indices: computed with the weights of {d.names.neuron(l, other)}",
                               lambda other=other: float(d.activations[l].value(
                                   np.array([self._net(st, l, other, look)]))[0]))
        elif kind in ("dE_dout", "delta"):
            l, j = st.locate(args[0])
            n = args[0]
            elementwise = d.activations[l].elementwise
            if l == d.L - 1 and not d.fused and _squared(d, j) is not None:
                if kind == "dE_dout":
                    yield (self.MISTAKES["squared"], lambda: self._dE_dout(st, c, n, look, squared=True))
                elif elementwise:
                    yield (self.MISTAKES["squared"],
                           lambda: self._dE_dout(st, c, n, look, squared=True) * look(f"dout_{n}_dnet_{n}"))
            if l < d.L - 1:
                factor = (lambda: look(f"dout_{n}_dnet_{n}")) if kind == "delta" else (lambda: 1.0)
                yield (self.MISTAKES["updated_weights"], lambda: self._dE_dout_updated(st, c, l, j, look) * factor())
            if kind == "delta" and elementwise and not (l == d.L - 1 and d.fused):
                yield self.MISTAKES["no_derivative"], lambda: look(f"dE_dout_{n}")
        elif kind == "gradient":
            yield from self._gradient_variants(st, c, args[0], look)
        elif kind == "after":
            label = args[0]
            gradients = [(None, lambda: look(f"dE_d{label}"))] + list(self._gradient_variants(st, c, label, look))
            for cause, gradient in gradients:
                for sign, rate, what in ((-1, True, None), (1, True, "the update's sign flipped"),
                                         (-1, False, "the learning rate not applied"),
                                         (1, False, "the update's sign flipped and the learning rate not applied")):
                    if cause is None and what is None:
                        continue
                    mistake = "; ".join(m for m in (cause, what) if m)
                    yield mistake, (lambda g=gradient, sign=sign, rate=rate:
                                    self._update(st, label, look(label), g(), sign, rate))

    def _dE_dout_updated(self, st: _Step, c: Claim, l: int, j: int, look) -> float:
        d = st.d
        above = d.layers[l + 1]
        return sum(look(f"delta_{d.names.neuron(l + 1, m)}") * look(f"{above['weight_labels'][m][j]}_after")
                   for m in range(above["units"]))

    def _gradient_variants(self, st: _Step, c: Claim, label: str, look):
        which, l, j, i = st.param(label)
        d = st.d
        if which == "bias" and d.layers[l]["bias_mode"] == "shared" and d.layers[l]["units"] > 1:
            for jj in range(d.layers[l]["units"]):
                yield (f"a shared bias's gradient not summed over its neurons (δ of {d.names.neuron(l, jj)} only)",
                       lambda jj=jj: self._gradient(st, c, label, look, only_neuron=jj))
        for mistake in ("squared", "no_derivative", "updated_weights"):
            yield (self.MISTAKES[mistake], lambda mistake=mistake: self._gradient_mistaken(st, c, label, mistake, look))

    def _gradient_mistaken(self, st: _Step, c: Claim, label: str, mistake: str, look) -> float:
        deltas = self._mistaken_deltas(st, mistake, look)
        return math.nan if deltas is None else self._gradient(st, c, label, look, deltas=deltas)

    MISTAKES = {"squared": "the squared residual used where the residual belongs",
                "no_derivative": "the activation's derivative factor left out",
                "updated_weights": "hidden deltas computed with output weights already updated"}

    def _mistaken_deltas(self, st: _Step, mistake: str, look):
        """Every sample's δ per layer with one classic mistake, from the (looked-up) outputs."""
        d, trace = st.d, st.trace
        last = d.L - 1
        if mistake == "squared" and (d.fused or _squared(d, 0) is None):
            return None
        if mistake == "updated_weights" and d.L < 2:
            return None
        out = []
        for s, sample in enumerate(trace.samples):
            deltas = [None] * d.L
            o = np.array([[look(f"out_{d.names.neuron(last, j)}", sample.index + 1)
                           for j in range(d.layers[-1]["units"])]])
            net = np.array([sample.layers[-1]["net"]])
            if d.fused:
                top = np.array([sample.deltas[-1]])
            else:
                grad = np.array([[_output_gradient(d, j, sample.target, look, mistake == "squared", sample.index + 1)
                                  for j in range(d.layers[-1]["units"])]])
                top = grad if mistake == "no_derivative" else d.activations[last].backward(net, o, grad)
            deltas[last] = top[0]
            for l in range(last - 1, -1, -1):
                w = np.array((trace.parameters_after if mistake == "updated_weights" else trace.parameters_before)
                             [l + 1]["weights"])
                grad = deltas[l + 1] @ w
                netl, outl = np.array([sample.layers[l]["net"]]), np.array([sample.layers[l]["out"]])
                deltas[l] = grad if mistake == "no_derivative" else d.activations[l].backward(netl, outl, grad[None])[0]
            out.append(deltas)
        return out


def evaluate(formula, look, known: dict | None = None) -> float:
    """A formula's value with every symbol it reads looked up by its claim name (net_h1, out_o1, …)."""
    env = dict(known or {})
    for name in symbols(formula) - env.keys():
        env[name] = look(name)
    return formula.value(env)


def _squared(d: StepDerivation, j: int):
    """∂E/∂out of output j with the squared residual (t − out)² where the residual t − out belongs: the
    loss's gradient formula rewritten, or None where it has no residual (bce, cross-entropy)."""
    o = d.names.neuron(d.L - 1, j)
    out, t = sym(f"out_{o}"), sym(f"t_{o}")
    formula = d.loss.gradient_formula(out, t, d.layers[-1]["units"])
    residual = Sub(t, out)
    squared = rewrite(formula, lambda node: Pow(node, 2) if node == residual else None)
    return None if squared == formula else squared


def _output_gradient(d: StepDerivation, j: int, target: list, look, squared: bool = False, sample=None):
    """∂E/∂out of output j by the loss's gradient formula (or its squared-residual rewrite)."""
    o = d.names.neuron(d.L - 1, j)
    formula = _squared(d, j) if squared else d.loss.gradient_formula(sym(f"out_{o}"), sym(f"t_{o}"),
                                                                         d.layers[-1]["units"])
    if formula is None:
        return None
    return evaluate(formula, lambda name: look(name, sample), {f"t_{o}": target[j]})


def digit_slip(literal: str, reference: float) -> str | None:
    """How the written number differs from the reference by a copying slip, if it does: one or two digits
    changed, two neighbours swapped, or a digit dropped or doubled (two such slips for 4+ digits)."""
    mantissa = literal.lower().split("e")[0].lstrip("+-")
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    exponent = int(literal.lower().split("e")[1]) if "e" in literal.lower() else 0
    written = mantissa.replace(".", "").lstrip("0")
    expected = f"{abs(reference) / 10.0 ** exponent:.{decimals}f}".replace(".", "").lstrip("0")
    if (reference < 0) != literal.strip().startswith("-") or not written or not expected:
        return None
    truncated = math.trunc(abs(reference) / 10.0 ** exponent * 10 ** decimals) / 10 ** decimals
    if written == f"{truncated:.{decimals}f}".replace(".", "").lstrip("0") and written != expected:
        return f"cut instead of rounded: {_format(reference, decimals + 3, exponent)} written as {literal}"
    distance = _damerau(written, expected)
    allowed = 2 if len(written) >= 4 else 1
    if 0 < distance <= allowed:
        return f"digit slip: written {literal} where {_format(reference, decimals, exponent)} belongs"
    return None


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


def check(path_or_name: str) -> tuple[str, list[Verdict]]:
    """(title, verdicts) for a claims file, or a seed's built-in claims ('seed:000')."""
    if path_or_name.startswith("seed:"):
        from . import examples
        path = examples.claims_path(path_or_name.removeprefix("seed:"))
        text = path.read_text(encoding="utf-8")
        spec, claims, title = read_claims(path, text=text, base=path.parent, source=f"{path_or_name} (built-in)")
    else:
        spec, claims, title = read_claims(path_or_name)
    return title, Checker(spec, claims).run()


def report_text(title: str, verdicts: list[Verdict]) -> str:
    wrong = [v for v in verdicts if not v.ok]
    lines = [f"{title}: {len(verdicts)} claims, {len(verdicts) - len(wrong)} right, {len(wrong)} wrong", ""]
    width = max(len(v.claim.key) for v in verdicts)
    for v in verdicts:
        where = f"step {v.claim.step}" + (f", sample {v.claim.sample}" if v.claim.sample != 1 else "")
        status = "right" if v.ok else "WRONG"
        line = f"  {status:5}  {v.claim.key:<{width}}  claimed {v.claim.literal:<14} correct {v.correct:.9g}  ({where})"
        lines.append(line)
        if not v.ok:
            why = []
            if v.inherited_from:
                why.append("inherits the wrong " + ", ".join(v.inherited_from))
            if v.mistake:
                why.append(v.mistake)
            lines.append("         " + ("; ".join(why) if why else "no mistake in the catalogue reproduces it"))
    return "\n".join(lines) + "\n"


def report_json(verdicts: list[Verdict]) -> dict:
    return {"claims": [v.as_dict() for v in verdicts], "wrong": sum(not v.ok for v in verdicts)}
