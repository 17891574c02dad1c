"""Optimisers: each one written once, as a class carrying its rule as numbers and as formulas.

An optimiser sees parameter arrays, gradients and its own state — never the model.  Each class gives:

* ``SETTINGS``: its spec keys (momentum, beta1, …) with defaults, validation and their symbols;
  ``validate`` refuses combinations that make no sense (Nesterov without momentum);
* ``update(index, p, g, mask)``: one step of one parameter array, in place, with the same rule
  (and the same order of floating-point operations, where it matters) as its PyTorch namesake;
  ``masks`` hold 1 where a parameter is trained and 0 where it is frozen;
* ``state(index)`` / ``describe()``: its per-parameter state and settings as plain data (a traced
  step records them; ``from_description`` builds the optimiser back from them);
* ``equations(label, first)``: the update of one parameter as formula trees, lhs = rhs in order
  (g with weight decay, the state, then p⁺).  Explanations print them; the checker evaluates them
  (``evaluate``) and rewrites them to name mistakes.

``mistakes()`` lists the wrong updates students write (wrong.py's ``Wrong``: the equations rewritten),
named by ``chainrule check`` on any step that uses the optimiser.  Adding an optimiser is adding a class
here.  Learning-rate schedules are classes of their own, in schedules.py.
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from .expr import D, Add, Call, Expr, Frac, Mul, Num, Paren, Pow, Sub, Sym, rewrite, sym
from .settings import ConfigError, Setting, boolean, checked_settings, number_in
from .wrong import Wrong

_OPTIMIZERS: dict[str, type["Optimizer"]] = {}
E = Sym("E")
ONE = Num(1)

WEIGHT_DECAY = Setting("weight_decay", 0.0, number_in(0), "a finite number ≥ 0", ("λ",))
EPS = Setting("eps", 1e-8, number_in(0, low_open=True), "a number > 0", ("ε",))


LEARNING_RATE = Setting("learning_rate", 0.1, number_in(0), "a finite number ≥ 0")

# Where PyTorch's and scikit-learn's forms of a rule differ (SGD's velocity, where Adam adds ε), each
# optimiser takes ``form``: "pytorch" (the default) or "sklearn" (scikit-learn's MLP, whose estimators
# chainrule.sklearn reproduces number for number).
FORMS = ("pytorch", "sklearn")
FORM = Setting("form", "pytorch", lambda v: v in FORMS, "'pytorch' or 'sklearn'")


def parameter(label: str, sup: str = "") -> Sym:
    """The parameter's symbol (w5, w5⁺), or p (p⁺) in a rule's generic form (label "")."""
    return sym(label, sup) if label else Sym("p", "", sup)


def squared(g: Expr) -> Pow:
    """g², with ∂E/∂p in parentheses: (∂E/∂p)²."""
    return Pow(Paren(g) if isinstance(g, D) else g, 2)


def changed(equations: list, base: str, change) -> list | None:
    """The equations with ``change(rhs)`` for the one defining base⁺ (v⁺, m⁺, u⁺, g; "p": the last, p⁺);
    None where there is no such equation or the change leaves it as it is."""
    for n, (lhs, rhs, note) in enumerate(equations):
        if (n == len(equations) - 1) if base == "p" else lhs.base == base:
            new = change(rhs)
            if new is None or new == rhs:
                return None
            return [*equations[:n], (lhs, new, note), *equations[n + 1:]]
    return None


def replacing(old: Expr, new: Expr):
    """A change of a right-hand side: every ``old`` node written as ``new``."""
    return lambda rhs: rewrite(rhs, lambda node: new if node == old else None)


def wrong_update(id: str, sentence: str, base: str, change) -> Wrong:
    """A wrong update: the equation of base⁺ (see ``changed``) changed."""
    return Wrong(id, sentence, "update", lambda equations, first: changed(equations, base, change))


def state_before(name: str):
    """A change reading a state's value before the step (v) where its value after (v⁺) belongs."""
    return lambda rhs: rewrite(rhs, lambda node: Sym(node.base, node.sub) if (
        isinstance(node, Sym) and node.base == name and node.sup == "+") else None)


class Optimizer:
    """What every rule shares: settings, state per parameter, one step over every parameter array."""

    name: ClassVar[str] = ""
    SETTINGS: ClassVar[dict[str, Setting]] = {}
    STATE: ClassVar[tuple[str, ...]] = ()       # the names of each parameter's state arrays
    # learning rate and settings that train an MLP on MNIST-like data well (`chainrule train --data`)
    PRESET: ClassVar[dict] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            _OPTIMIZERS[cls.name] = cls

    def __init__(self, learning_rate: float = 0.1, **settings):
        self.learning_rate = LEARNING_RATE.check(learning_rate)
        self.settings = checked_settings(self.name, self.SETTINGS, settings)
        for key, value in self.settings.items():
            setattr(self, key, value)
        self.validate()
        self.t = 0                                 # steps taken
        self.states: dict[int, dict[str, np.ndarray]] = {}

    def validate(self) -> None:
        """Refuse settings that contradict each other (raise ConfigError)."""

    @property
    def plain(self) -> bool:
        """p ← p − η·g exactly: the fast engines may fold η into the deltas."""
        return False

    def begin_step(self) -> None:
        self.t += 1

    def step(self, parameters, gradients, masks=None) -> None:
        self.begin_step()
        for i, (p, g) in enumerate(zip(parameters, gradients)):
            self.update(i, p, g, None if masks is None else masks[i])

    def update(self, index: int, p: np.ndarray, g: np.ndarray, mask: np.ndarray | None = None) -> None:
        """Apply one step to parameter ``index`` (its position in ``Network.parameters()``)."""
        decay = self.settings.get("weight_decay", 0.0)
        if decay:
            g = g + decay * p
        step = self.direction(index, p, g)
        p -= step if mask is None else step * mask

    def direction(self, index: int, p: np.ndarray, g: np.ndarray) -> np.ndarray:
        """What is subtracted from p this step, updating the parameter's state (g has weight decay in)."""
        raise NotImplementedError

    def zeros(self, index: int, p: np.ndarray) -> dict[str, np.ndarray]:
        """Parameter ``index``'s state, created as zeros before its first step."""
        if index not in self.states:
            self.states[index] = {name: np.zeros_like(p) for name in self.STATE}
        return self.states[index]

    # ---- plain data ----
    def describe(self) -> dict:
        """The rule's settings as plain data (for a step's trace), with the step count t."""
        return {"name": self.name, **self.settings, "t": self.t}

    @classmethod
    def from_description(cls, description: dict | None, learning_rate: float) -> "Optimizer":
        """The optimiser a trace's ``optimizer`` entry describes (plain SGD when None)."""
        if description is None:
            return SGD(learning_rate)
        rule = dict(description)
        kind = _OPTIMIZERS[rule.pop("name")]
        t = rule.pop("t", 0)
        optimizer = kind(learning_rate, **{k: v for k, v in rule.items() if k in kind.SETTINGS})
        optimizer.t = t
        return optimizer

    def state(self, index: int) -> dict:
        """Parameter ``index``'s state arrays (copies), empty before its first step."""
        return {name: array.copy() for name, array in self.states.get(index, {}).items()}

    # ---- formulas ----
    def symbol(self, setting: str) -> Sym:
        return Sym(*self.SETTINGS[setting].symbol)

    def settings_shown(self) -> list[tuple[Sym, float]]:
        """(symbol, value) of every setting the equations use."""
        return [(self.symbol(k), float(v)) for k, v in self.settings.items()
                if self.SETTINGS[k].symbol and v]

    def gradient_equations(self, label: str) -> tuple[list, Expr]:
        """The gradient the rule uses: ∂E/∂p, or g = ∂E/∂p + λ·p with weight decay."""
        p = parameter(label)
        if not self.settings.get("weight_decay"):
            return [], D(E, p)
        g = Sym("g", label)
        return [(g, Add(D(E, p), Mul(Sym("λ"), p)), "with weight decay")], g

    def equations(self, label: str = "", first: bool = False) -> list[tuple[Expr, Expr, str]]:
        """(lhs, rhs, note) of the update of the parameter called ``label`` in order, ending with
        p⁺; ``first``: its first step (no state yet).  With label "" the rule's generic form."""
        raise NotImplementedError

    def state_symbol(self, name: str, label: str, after: bool = False) -> Sym:
        return Sym(name, label, "+" if after else "")

    def environment(self, label: str, p: float, gradient: float, before: dict) -> dict:
        """The numbers the equations read: settings, η, p, ∂E/∂p and the state before the step."""
        env = {s.text(): v for s, v in self.settings_shown()}
        env.update({"η": self.learning_rate, "t": self.t, sym(label).text(): p,
                    D(E, sym(label)).text(): gradient})
        for name in self.STATE:
            env[self.state_symbol(name, label).text()] = before.get(name, 0.0)
        return env

    def evaluate(self, label: str, p: float, gradient: float, before: dict, equations=None) -> dict:
        """Every quantity of the update worked out from the equations, in order: {symbol text: value}."""
        env = self.environment(label, p, gradient, before)
        for lhs, rhs, _ in equations or self.equations(label, first=not before):
            env[lhs.text()] = rhs.value(env)
        return env

    def mistakes(self) -> list[Wrong]:
        """The wrong updates written with this rule and its settings: the sign, the learning rate missing,
        squared or applied twice, weight decay's sign or absence, and the class's own (``own_mistakes``)."""
        eta = Sym("η")
        found = [wrong_update("update_sign", "the update's sign flipped", "p",
                              lambda rhs: Add(rhs.left, rhs.right) if isinstance(rhs, Sub) else None),
                 wrong_update("no_rate", "the learning rate not applied", "p", replacing(eta, ONE)),
                 wrong_update("rate_squared", "the learning rate applied twice: η²·…, not η·…", "p",
                              replacing(eta, Pow(eta, 2))),
                 wrong_update("step_twice", "the step taken twice: p − 2·η·…, not p − η·…", "p",
                              lambda rhs: Sub(rhs.left, Mul(Num(2), rhs.right)) if isinstance(rhs, Sub) else None)]
        if self.settings.get("weight_decay"):
            found += [wrong_update("decay_sign", "weight decay's sign flipped: g = ∂E/∂p + λ·p, not ∂E/∂p − λ·p", "g",
                                   lambda rhs: Sub(rhs.items[0], rhs.items[1]) if isinstance(rhs, Add) else None),
                      wrong_update("decay_missing", "weight decay left out: g = ∂E/∂p + λ·p, not ∂E/∂p", "g",
                                   lambda rhs: rhs.items[0] if isinstance(rhs, Add) else None)]
        return found + self.own_mistakes()

    def own_mistakes(self) -> list[Wrong]:
        """The wrong updates particular to this rule (each class lists its own)."""
        return []

    def heading(self) -> str:
        """The rule in words and symbols, for an update section's title."""
        rule = ", ".join(f"{lhs.text()} = {rhs.text()}" for lhs, rhs, _ in self.equations())
        return f"Update ({self.title()}): {rule}"

    def title(self) -> str:
        return self.name


class SGD(Optimizer):
    """Gradient descent, with optional L2 weight decay λ, momentum μ and Nesterov momentum
    (torch.optim.SGD):

        g ← ∂E/∂p + λ·p
        v ← g (first step),  v ← μ·v + g (after)          (only with momentum)
        d ← g + μ·v (Nesterov),  v (momentum),  g (plain)
        p ← p − η·d

    With ``form="sklearn"`` the velocity holds steps, not gradients, as in scikit-learn's MLP
    (sklearn.neural_network's SGDOptimizer); it starts at 0, and a learning rate that changes between
    steps then scales only the new gradient:

        v ← μ·v − η·g
        p ← p + v (momentum),  p ← p + μ·v − η·g (Nesterov, with the new v)
    """

    name = "sgd"
    PRESET = {"learning_rate": 0.05, "momentum": 0.9}
    SETTINGS = {"momentum": Setting("momentum", 0.0, number_in(0, 1, high_open=True), "a number in [0, 1)", ("μ",)),
                "nesterov": Setting("nesterov", False, boolean, "true or false"),
                "weight_decay": WEIGHT_DECAY, "form": FORM}
    STATE = ("v",)
    momentum: float                 # the settings, set from SETTINGS by Optimizer.__init__
    nesterov: bool
    weight_decay: float
    form: str

    def __init__(self, learning_rate: float = 0.05, **settings):
        super().__init__(learning_rate, **settings)

    def validate(self) -> None:
        if self.nesterov and self.momentum == 0:
            raise ConfigError("nesterov", "momentum > 0 with Nesterov momentum", self.momentum)

    @property
    def plain(self) -> bool:
        return self.momentum == 0 and self.weight_decay == 0

    def direction(self, index, p, g):
        if self.momentum and self.form == "sklearn":
            v = self.zeros(index, p)["v"]
            v[...] = self.momentum * v - self.learning_rate * g
            step = self.momentum * v - self.learning_rate * g if self.nesterov else v
            return -step                # p ← p + step (negation is exact: p − (−s) is p + s)
        if self.momentum:
            state = self.states.get(index)
            if state is None:
                v = self.states.setdefault(index, {"v": np.array(g, copy=True)})["v"]
            else:
                v = state["v"]
                v *= self.momentum
                v += g
            g = g + self.momentum * v if self.nesterov else v
        return self.learning_rate * g

    def describe(self) -> dict:
        return {"name": self.name, **self.settings}

    def title(self) -> str:
        if not self.momentum:
            return "SGD with weight decay" if self.weight_decay else "SGD"
        form = ", scikit-learn's form" if self.form == "sklearn" else ""
        return f"SGD with {'Nesterov ' if self.nesterov else ''}momentum{form}"

    def heading(self) -> str:
        if self.plain:
            return "Update: p⁺ = p − η·∂E/∂p"
        if not self.momentum or self.form == "sklearn":
            return super().heading() + (" (v starts at 0)" if self.momentum else "")
        *_, (v, first, _), (p, rule, _) = self.equations("", first=True)
        decay, g = self.gradient_equations("")
        later = self.equations()[len(decay)]
        parts = [f"{lhs.text()} = {rhs.text()}" for lhs, rhs, _ in decay]
        parts += [f"{later[0].text()} = {later[1].text()} ({v.text()} = {first.text()} on the first step)",
                  f"{p.text()} = {rule.text()}"]
        return f"Update ({self.title()}): " + ", ".join(parts)

    def equations(self, label="", first=False):
        p, eta = parameter(label), Sym("η")
        items, g = self.gradient_equations(label)
        if not self.momentum:
            return items + [(parameter(label, "+"), Sub(p, Mul(eta, g)), "")]
        v, v_new, mu = self.state_symbol("v", label), self.state_symbol("v", label, True), Sym("μ")
        if self.form == "sklearn":
            items.append((v_new, Sub(Mul(mu, v), Mul(eta, g)), "the velocity holds steps; it starts at 0"))
            new: Expr = Sub(Mul(mu, v_new), Mul(eta, g)) if self.nesterov else v_new
            items.append((parameter(label, "+"), Add(p, new), ""))
            return items
        if first:
            items.append((v_new, g, "first step: the velocity starts at the gradient"))
        else:
            items.append((v_new, Add(Mul(mu, v), g), ""))
        step = Paren(Add(g, Mul(mu, v_new))) if self.nesterov else v_new
        items.append((parameter(label, "+"), Sub(p, Mul(eta, step)), ""))
        return items

    def own_mistakes(self):
        if not self.momentum:
            return []
        mu = Sym("μ")

        def velocity(change):
            return lambda rhs: change(*rhs.items) if isinstance(rhs, Add) and isinstance(rhs.items[0], Mul) else None
        found = [wrong_update("velocity_subtracted", "the gradient subtracted in the velocity: v⁺ = μ·v + ∂E/∂p, "
                              "not μ·v − ∂E/∂p", "v", velocity(lambda mv, g: Sub(mv, g))),
                 wrong_update("momentum_on_gradient", "μ on the gradient: v⁺ = μ·v + ∂E/∂p, not v + μ·∂E/∂p", "v",
                              velocity(lambda mv, g: Add(mv.items[1], Mul(mu, g)))),
                 wrong_update("velocity_averaged", "the velocity averaged: v⁺ = μ·v + ∂E/∂p, not μ·v + (1 − μ)·∂E/∂p",
                              "v", velocity(lambda mv, g: Add(mv, Mul(Paren(Sub(ONE, mu)), g))))]
        if self.nesterov:        # (the look-ahead with the previous velocity, g + μ·v, is the same number)
            found.append(wrong_update("nesterov_no_lookahead", "Nesterov's look-ahead left out: p⁺ = p − η·(∂E/∂p + μ·v⁺), "
                                      "not p − η·v⁺", "p", lambda rhs: rewrite(rhs, lambda node: node.inner.items[1].items[1] if (
                                          isinstance(node, Paren) and isinstance(node.inner, Add)) else None)))
        else:
            found.append(wrong_update("velocity_previous_step", "the previous step's velocity used: p⁺ = p − η·v⁺, "
                                      "not p − η·v", "p", state_before("v")))
        return found


class Adam(Optimizer):
    """Adam (Kingma & Ba; torch.optim.Adam), with optional L2 weight decay λ added to the gradient:

        g ← ∂E/∂p + λ·p
        m ← β₁·m + (1 − β₁)·g,   v ← β₂·v + (1 − β₂)·g²
        p ← p − (η / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)

    With ``form="sklearn"`` both corrections go into the rate and ε is added to √v uncorrected, as in
    scikit-learn's MLP (sklearn.neural_network's AdamOptimizer; the steps differ while ε is not small
    beside √v):

        p ← p − (η·√(1 − β₂ᵗ) / (1 − β₁ᵗ)) · m / (√v + ε)
    """

    name = "adam"
    PRESET = {"learning_rate": 0.001}
    beta1: float                    # the settings, set from SETTINGS by Optimizer.__init__
    beta2: float
    eps: float
    weight_decay: float
    form: str
    SETTINGS = {"beta1": Setting("beta1", 0.9, number_in(0, 1, high_open=True), "a number in [0, 1)", ("β", "1")),
                "beta2": Setting("beta2", 0.999, number_in(0, 1, high_open=True), "a number in [0, 1)", ("β", "2")),
                "eps": EPS, "weight_decay": WEIGHT_DECAY, "form": FORM}
    STATE = ("m", "v")

    def __init__(self, learning_rate: float = 0.001, **settings):
        super().__init__(learning_rate, **settings)

    def direction(self, index, p, g):
        state = self.zeros(index, p)
        m, v = state["m"], state["v"]
        m *= self.beta1
        m += (1 - self.beta1) * g
        v *= self.beta2
        v += (1 - self.beta2) * (g * g)
        correction1 = 1 - self.beta1 ** self.t
        correction2 = 1 - self.beta2 ** self.t
        if self.form == "sklearn":
            rate = self.learning_rate * math.sqrt(correction2) / correction1
            return rate * m / (np.sqrt(v) + self.eps)
        denominator = np.sqrt(v) / math.sqrt(correction2) + self.eps
        return (self.learning_rate / correction1) * (m / denominator)

    def title(self) -> str:
        return f"Adam, step t = {self.t}"

    def equations(self, label="", first=False):
        p, eta, t = parameter(label), Sym("η"), max(self.t, 1)
        items, g = self.gradient_equations(label)
        b1, b2 = Sym("β", "1"), Sym("β", "2")
        m, m_new = self.state_symbol("m", label), self.state_symbol("m", label, True)
        v, v_new = self.state_symbol("v", label), self.state_symbol("v", label, True)
        items.append((m_new, Add(Mul(b1, m), Mul(Paren(Sub(ONE, b1)), g)), ""))
        items.append((v_new, Add(Mul(b2, v), Mul(Paren(Sub(ONE, b2)), squared(g))), ""))
        if self.form == "sklearn":
            rate = Frac(Mul(eta, Call("√", Sub(ONE, Pow(b2, t)))), Paren(Sub(ONE, Pow(b1, t))))
            step = Mul(rate, Frac(m_new, Paren(Add(Call("√", v_new), Sym("ε")))))
            items.append((parameter(label, "+"), Sub(p, step), ""))
            return items
        step = Mul(Frac(eta, Paren(Sub(ONE, Pow(b1, t)))),
                   Frac(m_new, Paren(Add(Frac(Call("√", v_new), Call("√", Sub(ONE, Pow(b2, t)))), Sym("ε")))))
        items.append((parameter(label, "+"), Sub(p, step), ""))
        return items

    def own_mistakes(self):
        b1, b2, t, eps = Sym("β", "1"), Sym("β", "2"), max(self.t, 1), Sym("ε")
        m_correction, v_correction = replacing(Pow(b1, t), Num(0)), replacing(Pow(b2, t), Num(0))

        def eps_inside(rhs):          # (√v⁺/√(1 − β₂ᵗ) + ε) → √(v⁺/(1 − β₂ᵗ) + ε)
            return rewrite(rhs, lambda node: Call("√", Add(Frac(node.inner.items[0].top.arg, Paren(node.inner.items[0].bottom.arg)), eps))
                           if isinstance(node, Paren) and isinstance(node.inner, Add) and node.inner.items[1] == eps else None)
        return [wrong_update("no_bias_correction", "Adam's bias corrections left out: m⁺/(1 − β₁ᵗ) and v⁺/(1 − β₂ᵗ), "
                             "not m⁺ and v⁺", "p", lambda rhs: v_correction(m_correction(rhs))),
                wrong_update("no_m_correction", "Adam's bias correction of m left out: m⁺/(1 − β₁ᵗ), not m⁺", "p",
                             m_correction),
                wrong_update("no_v_correction", "Adam's bias correction of v left out: v⁺/(1 − β₂ᵗ), not v⁺", "p",
                             v_correction),
                wrong_update("correction_previous_t", "the bias corrections with the previous step's t: 1 − βᵗ, not 1 − βᵗ⁻¹", "p", lambda rhs: replacing(Pow(b2, t), Pow(b2, t - 1))(
                                 replacing(Pow(b1, t), Pow(b1, t - 1))(rhs)) if t > 1 else None),
                wrong_update("eps_inside_sqrt", "ε inside the square root: √v̂ + ε, not √(v̂ + ε)", "p", eps_inside),
                wrong_update("gradient_not_squared", "the gradient not squared in v: v⁺ = β₂·v + (1 − β₂)·g², "
                             "not β₂·v + (1 − β₂)·g", "v", lambda rhs: rewrite(
                                 rhs, lambda node: node.base if isinstance(node, Pow) and node.exponent == 2 else None)),
                wrong_update("moments_previous_step", "the previous step's moments used: m⁺ and v⁺, not m and v", "p",
                             lambda rhs: state_before("v")(state_before("m")(rhs)))]


class RMSprop(Optimizer):
    """RMSprop (torch.optim.RMSprop, not centred), with optional weight decay λ and momentum μ:

        g ← ∂E/∂p + λ·p
        v ← α·v + (1 − α)·g²
        u ← μ·u + g/(√v + ε),  p ← p − η·u          (with momentum; u starts at 0)
        p ← p − η·g/(√v + ε)                        (without)
    """

    alpha: float                    # the settings, set from SETTINGS by Optimizer.__init__
    eps: float
    momentum: float
    weight_decay: float

    name = "rmsprop"
    PRESET = {"learning_rate": 0.001}       # 0.01 (PyTorch's default) reached 73% on MNIST in an epoch, 0.001 82%
    SETTINGS = {"alpha": Setting("alpha", 0.99, number_in(0, 1), "a number in [0, 1]", ("α",)),
                "eps": EPS,
                "momentum": Setting("momentum", 0.0, number_in(0, 1, high_open=True), "a number in [0, 1)", ("μ",)),
                "weight_decay": WEIGHT_DECAY}
    STATE = ("v", "u")

    def __init__(self, learning_rate: float = 0.01, **settings):
        super().__init__(learning_rate, **settings)

    def direction(self, index, p, g):
        state = self.zeros(index, p)
        v = state["v"]
        v *= self.alpha
        v += (1 - self.alpha) * (g * g)
        average = np.sqrt(v)
        average += self.eps
        if self.momentum:
            u = state["u"]
            u *= self.momentum
            u += g / average
            return self.learning_rate * u
        return self.learning_rate * (g / average)

    def title(self) -> str:
        return "RMSprop with momentum" if self.momentum else "RMSprop"

    def equations(self, label="", first=False):
        p, eta, alpha = parameter(label), Sym("η"), Sym("α")
        items, g = self.gradient_equations(label)
        v, v_new = self.state_symbol("v", label), self.state_symbol("v", label, True)
        items.append((v_new, Add(Mul(alpha, v), Mul(Paren(Sub(ONE, alpha)), squared(g))), ""))
        scaled = Frac(g, Paren(Add(Call("√", v_new), Sym("ε"))))
        if self.momentum:
            u, u_new = self.state_symbol("u", label), self.state_symbol("u", label, True)
            items.append((u_new, Add(Mul(Sym("μ"), u), scaled), ""))
            items.append((parameter(label, "+"), Sub(p, Mul(eta, u_new)), ""))
        else:
            items.append((parameter(label, "+"), Sub(p, Mul(eta, scaled)), ""))
        return items

    def own_mistakes(self):
        alpha, eps = Sym("α"), Sym("ε")
        where = "u" if self.momentum else "p"          # the equation that divides by √v⁺ + ε

        def denominator(change):
            return lambda rhs: rewrite(rhs, lambda node: change(node.inner.items[0].arg) if (
                isinstance(node, Paren) and isinstance(node.inner, Add) and node.inner.items[1] == eps
                and isinstance(node.inner.items[0], Call)) else None)
        return [wrong_update("eps_inside_sqrt", "ε inside the square root: √v⁺ + ε, not √(v⁺ + ε)", where,
                             denominator(lambda v: Call("√", Add(v, eps)))),
                wrong_update("no_sqrt", "the square root left out: g/(√v⁺ + ε), not g/(v⁺ + ε)", where,
                             denominator(lambda v: Paren(Add(v, eps)))),
                wrong_update("gradient_not_squared", "the gradient not squared in v: v⁺ = α·v + (1 − α)·g², "
                             "not α·v + (1 − α)·g", "v", lambda rhs: rewrite(
                                 rhs, lambda node: node.base if isinstance(node, Pow) and node.exponent == 2 else None)),
                wrong_update("alpha_swapped", "α and 1 − α swapped: v⁺ = α·v + (1 − α)·g², not (1 − α)·v + α·g²", "v",
                             lambda rhs: Add(Mul(Paren(Sub(ONE, alpha)), rhs.items[0].items[1]), Mul(alpha, rhs.items[1].items[1]))
                             if isinstance(rhs, Add) else None),
                wrong_update("average_previous_step", "the previous step's average used: √v⁺, not √v", where,
                             state_before("v"))]


NAMES = tuple(_OPTIMIZERS)
OPTIMIZERS = NAMES
ALL_SETTINGS: dict[str, list[str]] = {}
for _kind in _OPTIMIZERS.values():
    for _key in _kind.SETTINGS:
        ALL_SETTINGS.setdefault(_key, []).append(_kind.name)


def get_optimizer(name: str, learning_rate: float | None = None, **settings) -> Optimizer:
    """The optimiser called ``name`` with its settings; unknown or inapplicable settings are refused."""
    if name not in _OPTIMIZERS:
        raise ConfigError("optimizer", f"one of {', '.join(NAMES)}", name)
    kind = _OPTIMIZERS[name]
    return kind(**settings) if learning_rate is None else kind(learning_rate, **settings)


def settings_of(name: str) -> dict[str, Setting]:
    return _OPTIMIZERS[name].SETTINGS


def preset(name: str) -> dict:
    """The learning rate and settings the optimiser called ``name`` starts from on a data set."""
    return dict(_OPTIMIZERS[name].PRESET)

