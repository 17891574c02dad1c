"""Formulas as small trees that print three ways: plain text (the seeds' style,
``net_h1 = w1·i1 + w2·i2 + b1``), LaTeX (Markdown and the LaTeX document) and
MathML (the HTML page, rendered by the browser with no script and no network).

Every node can also be evaluated, so a formula shown to the reader can be checked
against the function the engine runs (``value(env)``, env maps symbol text → number), and
rewritten (``rewrite``, ``substitute``): the checker names a mistake by rewriting the tree it
evaluates.  Longer than 500 lines on purpose: each node keeps its four forms (text, LaTeX, MathML,
value) side by side, so a node is written once and its forms cannot drift apart.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, is_dataclass, replace
from typing import Any
from html import escape

DIGITS = 9

# Precedence: how tightly a node binds; a child binding less tightly than its parent needs ().
SUM, PRODUCT, POWER, ATOM = 1, 2, 3, 4

GREEK = {"δ": r"\delta", "η": r"\eta", "σ": r"\sigma", "Σ": r"\Sigma", "Δ": r"\Delta", "μ": r"\mu",
         "λ": r"\lambda", "β": r"\beta", "ε": r"\varepsilon"}
SUPERSCRIPT_DIGITS = str.maketrans("0123456789+-T", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻ᵀ")
SUBSCRIPT_DIGITS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def num(value: float) -> str:
    """A number to 9 significant digits, as the seeds print them, its sign the minus sign −
    (as in every formula: −(t_o1 − out_o1) = −0.217071535)."""
    text = f"{value:.{DIGITS}g}"
    if text == "-0":
        return "0"
    return "−" + text[1:] if text.startswith("-") else text


def _latex_number(value: float) -> str:
    text = num(value).replace("−", "-")
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = rf"{mantissa}\times 10^{{{int(exponent)}}}"
    return text


class Expr:
    precedence = ATOM

    def text(self) -> str:
        raise NotImplementedError

    def latex(self) -> str:
        raise NotImplementedError

    def mathml(self) -> str:
        raise NotImplementedError

    def value(self, env: dict) -> float:
        raise NotImplementedError

    def negative(self) -> bool:
        """Whether the printed form starts with a minus sign (then it needs () as a term or factor)."""
        return False

    def lines(self) -> list[str]:
        """The text form as lines (only matrices take more than one)."""
        return [self.text()]


def wrap(child: Expr, parent_precedence: int, strict: bool = False) -> Expr:
    """``child`` in parentheses where it binds less tightly than its parent or starts with −."""
    weaker = child.precedence < parent_precedence or (strict and child.precedence == parent_precedence)
    return Paren(child) if weaker or child.negative() else child


def _split_subscript(sub: str) -> list[str]:
    """'o1' → ['o', '1']; 'h1_2' → ['h', '1,2']; 'total' → ['total']."""
    m = re.fullmatch(r"([a-zA-Z]+)(\d+(?:_\d+)*)", sub)
    if m:
        return [m.group(1), m.group(2).replace("_", ",")]
    return [sub]


def _mi(name: str) -> str:
    return f"<mi>{escape(name)}</mi>" if len(name) == 1 else f'<mi mathvariant="normal">{escape(name)}</mi>'


NAMES_LATEX = {"∇W̃": r"\nabla\tilde{W}", "W̃": r"\tilde{W}"}

# Characters of titles and notes, written for LaTeX's text mode.
TEXT_LATEX = {"δ": r"$\delta$", "∂": r"$\partial$", "η": r"$\eta$", "σ": r"$\sigma$", "Σ": r"$\Sigma$",
              "∇": r"$\nabla$", "⊙": r"$\odot$", "·": r"$\cdot$", "−": "-", "…": r"\ldots{}", "⁺": r"$^+$",
              "ᵀ": r"$^T$", "W̃": r"$\tilde{W}$", "x̃": r"$\tilde{x}$", "_": r"\_", "&": r"\&", "%": r"\%",
              "#": r"\#", "$": r"\$", "{": r"\{", "}": r"\}", "^": r"\^{}", "~": r"\~{}", "\\": r"\textbackslash{}",
              "×": r"$\times$", "→": r"$\to$", "≤": r"$\le$", "≥": r"$\ge$", "²": r"$^2$", "½": r"$\frac12$",
              "—": "---", "–": "--", "μ": r"$\mu$", "λ": r"$\lambda$", "β": r"$\beta$", "ε": r"$\varepsilon$",
              "√": r"$\surd$", "ᵗ": r"$^t$", "≈": r"$\approx$", "ŷ": r"$\hat{y}$", "′": r"$'$"}
_TEXT_LATEX_RE = re.compile("|".join(re.escape(k) for k in sorted(TEXT_LATEX, key=len, reverse=True)))


def latex_text(text: str) -> str:
    """Plain text (titles, notes) for LaTeX's text mode, special characters escaped."""
    return _TEXT_LATEX_RE.sub(lambda m: TEXT_LATEX[m.group(0)], text)


def _latex_name(name: str) -> str:
    if name in GREEK:
        return GREEK[name]
    if name in NAMES_LATEX:
        return NAMES_LATEX[name]
    return name if len(name) == 1 else rf"\mathrm{{{name}}}"


@dataclass(frozen=True)
class Sym(Expr):
    """A named quantity: base with optional subscript and superscript (out_o1, w5, δ_h1, w5⁺)."""

    base: str
    sub: str = ""
    sup: str = ""

    def text(self) -> str:
        sup = self.sup.translate(SUPERSCRIPT_DIGITS) if self.sup in ("+", "T") else (f"^{self.sup}" if self.sup else "")
        if not self.sub:
            return self.base + sup
        # w5, b1, i1 (and an input an example calls x1): one letter numbered; out_o1 joined by _
        joiner = "" if len(self.base) == 1 and self.base.isascii() and self.base.isalpha() and self.sub.isdigit() else "_"
        return f"{self.base}{joiner}{self.sub}{sup}"

    def latex(self) -> str:
        out = _latex_name(self.base)
        if self.sub:
            parts = _split_subscript(self.sub)
            sub = parts[0] if len(parts[0]) == 1 else rf"\mathrm{{{parts[0]}}}"
            if len(parts) == 2:
                sub += f"_{{{parts[1]}}}"
            out += f"_{{{sub}}}"
        if self.sup:
            out += f"^{{{self.sup}}}"
        return out

    def mathml(self) -> str:
        base = _mi(self.base)
        if self.sub:
            parts = _split_subscript(self.sub)
            sub = _mi(parts[0]) if len(parts) == 1 else f"<msub>{_mi(parts[0])}<mn>{parts[1]}</mn></msub>"
            base = f"<msub>{base}<mrow>{sub}</mrow></msub>"
        if self.sup:
            sup = f"<mo>{escape(self.sup)}</mo>" if self.sup == "+" else _mi(self.sup)
            base = f"<msup>{base}{sup}</msup>"
        return base

    def value(self, env: dict) -> float:
        return env[self.text()]


def sym(name: str, sup: str = "") -> Sym:
    """A symbol from its text: 'out_o1' → out with o1 below; 'w5' → w with 5 below; 'E' → E."""
    if "_" in name:
        base, sub = name.split("_", 1)
        return Sym(base, sub, sup)
    m = re.fullmatch(r"([a-z])(\d+)", name)
    if m:
        return Sym(m.group(1), m.group(2), sup)
    return Sym(name, "", sup)


@dataclass(frozen=True)
class Num(Expr):
    number: float

    def text(self) -> str:
        return num(self.number)

    def latex(self) -> str:
        return _latex_number(self.number)

    def mathml(self) -> str:
        text = num(self.number)
        if "e" in text:
            mantissa, exponent = text.split("e")
            mn = f"<mn>{mantissa.lstrip('−')}</mn><mo>×</mo><msup><mn>10</mn><mn>{int(exponent)}</mn></msup>"
        else:
            mn = f"<mn>{text.lstrip('−')}</mn>"
        return mn.replace("<mn>", "<mn>−", 1) if text.startswith("−") else mn

    def value(self, env: dict) -> float:
        return float(self.number)

    def negative(self) -> bool:
        return num(self.number).startswith("−")


@dataclass(frozen=True)
class Word(Expr):
    """Plain words inside a formula."""

    words: str

    def text(self) -> str:
        return self.words

    def latex(self) -> str:
        return rf"\text{{{latex_text(self.words)}}}"

    def mathml(self) -> str:
        return f"<mtext>{escape(self.words)}</mtext>"


@dataclass(frozen=True)
class Blank(Expr):
    """A worksheet's blank: the number a student fills in."""

    def text(self) -> str:
        return "________"

    def latex(self) -> str:
        return r"\underline{\hspace{6em}}"

    def mathml(self) -> str:
        return '<mspace width="6em" height="0.2em" depth="0.2em" style="border-bottom: 1px solid"/>'


@dataclass(frozen=True)
class Paren(Expr):
    inner: Expr
    brackets: str = "()"

    def text(self) -> str:
        return f"{self.brackets[0]}{self.inner.text()}{self.brackets[1]}"

    def lines(self) -> list[str]:
        inner = self.inner.lines()
        if len(inner) == 1:
            return [self.text()]
        return hcat([_bracket_column(self.brackets[0], len(inner)), inner, _bracket_column(self.brackets[1], len(inner))])

    def latex(self) -> str:
        left, right = {"()": ("(", ")"), "[]": ("[", "]")}[self.brackets]
        return rf"\left{left}{self.inner.latex()}\right{right}"

    def mathml(self) -> str:
        return f"<mrow><mo>{self.brackets[0]}</mo>{self.inner.mathml()}<mo>{self.brackets[1]}</mo></mrow>"

    def value(self, env: dict) -> float:
        return self.inner.value(env)


@dataclass(frozen=True)
class _Chain(Expr):
    """Terms joined by one operator: Add (+), Mul (·), MatMul (×), Hadamard (⊙)."""

    items: tuple
    op_text = " + "
    op_latex = " + "
    op_mathml = "+"

    def _parts(self) -> list[Expr]:
        """Items in parentheses where they bind less tightly, or start with − after the first term."""
        parts = []
        for i, item in enumerate(self.items):
            needs = item.precedence < self.precedence or (item.negative() and (i > 0 or self.precedence == PRODUCT))
            parts.append(Paren(item) if needs else item)
        return parts

    def text(self) -> str:
        return self.op_text.join(p.text() for p in self._parts())

    def lines(self) -> list[str]:
        blocks = []
        for i, p in enumerate(self._parts()):
            if i:
                blocks.append([self.op_text])
            blocks.append(p.lines())
        return hcat(blocks)

    def latex(self) -> str:
        return self.op_latex.join(p.latex() for p in self._parts())

    def mathml(self) -> str:
        return "<mrow>" + f"<mo>{self.op_mathml}</mo>".join(p.mathml() for p in self._parts()) + "</mrow>"


class Add(_Chain):
    precedence = SUM

    def __init__(self, *items):
        object.__setattr__(self, "items", tuple(items))

    def value(self, env):
        return sum(item.value(env) for item in self.items)


class Mul(_Chain):
    precedence = PRODUCT
    op_text, op_latex, op_mathml = "·", r" \cdot ", "·"

    def __init__(self, *items):
        object.__setattr__(self, "items", tuple(items))

    def value(self, env):
        return math.prod(item.value(env) for item in self.items)


class MatMul(Mul):
    op_text, op_latex, op_mathml = " × ", r" \times ", "×"


class Hadamard(Mul):
    op_text, op_latex, op_mathml = " ⊙ ", r" \odot ", "⊙"


@dataclass(frozen=True)
class Sub(Expr):
    left: Expr
    right: Expr
    precedence = SUM

    def _parts(self):
        return wrap(self.left, SUM), wrap(self.right, SUM, strict=True)

    def text(self) -> str:
        a, b = self._parts()
        return f"{a.text()} − {b.text()}"

    def lines(self) -> list[str]:
        a, b = self._parts()
        return hcat([a.lines(), [" − "], b.lines()])

    def latex(self) -> str:
        a, b = self._parts()
        return f"{a.latex()} - {b.latex()}"

    def mathml(self) -> str:
        a, b = self._parts()
        return f"<mrow>{a.mathml()}<mo>−</mo>{b.mathml()}</mrow>"

    def value(self, env):
        return self.left.value(env) - self.right.value(env)


@dataclass(frozen=True)
class Neg(Expr):
    inner: Expr
    precedence = SUM

    def text(self) -> str:
        return "−" + wrap(self.inner, PRODUCT).text()

    def latex(self) -> str:
        return "-" + wrap(self.inner, PRODUCT).latex()

    def mathml(self) -> str:
        return f"<mrow><mo>−</mo>{wrap(self.inner, PRODUCT).mathml()}</mrow>"

    def value(self, env):
        return -self.inner.value(env)

    def negative(self) -> bool:
        return True


@dataclass(frozen=True)
class Frac(Expr):
    top: Expr
    bottom: Expr
    precedence = PRODUCT

    def text(self) -> str:
        return f"{wrap(self.top, PRODUCT).text()}/{wrap(self.bottom, POWER).text()}"

    def latex(self) -> str:
        return rf"\frac{{{self.top.latex()}}}{{{self.bottom.latex()}}}"

    def mathml(self) -> str:
        return f"<mfrac>{self.top.mathml()}{self.bottom.mathml()}</mfrac>"

    def value(self, env):
        return self.top.value(env) / self.bottom.value(env)


@dataclass(frozen=True)
class D(Expr):
    """The partial derivative ∂top/∂bottom."""

    top: Expr
    bottom: Expr

    def text(self) -> str:
        return f"∂{self.top.text()}/∂{self.bottom.text()}"

    def latex(self) -> str:
        return rf"\frac{{\partial {self.top.latex()}}}{{\partial {self.bottom.latex()}}}"

    def mathml(self) -> str:
        return (f"<mfrac><mrow><mo>∂</mo>{self.top.mathml()}</mrow>"
                f"<mrow><mo>∂</mo>{self.bottom.mathml()}</mrow></mfrac>")

    def value(self, env):
        return env[self.text()]


@dataclass(frozen=True)
class Pow(Expr):
    base: Expr
    exponent: int
    precedence = POWER

    def text(self) -> str:
        return wrap(self.base, ATOM).text() + str(self.exponent).translate(SUPERSCRIPT_DIGITS)

    def latex(self) -> str:
        return f"{wrap(self.base, ATOM).latex()}^{{{self.exponent}}}"

    def mathml(self) -> str:
        return f"<msup>{wrap(self.base, ATOM).mathml()}<mn>{self.exponent}</mn></msup>"

    def value(self, env):
        return self.base.value(env) ** self.exponent


# The elementary functions formulas are written with (losses' ln, softplus's exp, Adam's √).  An activation's
# own function (σ, tanh, …) is not here: its class passes its scalar form to the Call (``fn``).
ELEMENTARY: dict[str, Callable[[float], float]] = {"ln": math.log, "exp": math.exp, "√": math.sqrt}


@dataclass(frozen=True)
class Call(Expr):
    """A named function applied: σ(net_h1), ln(out), sigmoid(net_o1).  ``fn`` evaluates it: an activation's
    own scalar form, given by its class; an elementary function (ELEMENTARY) needs none."""

    name: str
    arg: Expr
    fn: Callable[[float], float] | None = field(default=None, compare=False, repr=False)

    def text(self) -> str:
        return f"{self.name}({self.arg.text()})"

    def lines(self) -> list[str]:
        inner = self.arg.lines()
        if len(inner) == 1:
            return [self.text()]
        return hcat([[self.name] + [""] * (len(inner) - 1), _bracket_column("(", len(inner)), inner,
                     _bracket_column(")", len(inner))])

    def latex(self) -> str:
        if self.name == "√":
            return rf"\sqrt{{{self.arg.latex()}}}"
        name = GREEK.get(self.name) or (rf"\{self.name}" if self.name in ("ln", "tanh", "exp", "max") else
                                         rf"\operatorname{{{self.name}}}")
        return rf"{name}\left({self.arg.latex()}\right)"

    def mathml(self) -> str:
        if self.name == "√":
            return f"<msqrt>{self.arg.mathml()}</msqrt>"
        return f"<mrow>{_mi(self.name)}<mo>&#x2061;</mo><mo>(</mo>{self.arg.mathml()}<mo>)</mo></mrow>"

    def value(self, env):
        fn = self.fn or ELEMENTARY.get(self.name)
        if fn is None:
            raise ValueError(f"{self.name}(…): a formula to evaluate needs the function itself, got only its name")
        return fn(self.arg.value(env))


@dataclass(frozen=True)
class Iverson(Expr):
    """[a > b]: 1 where the condition holds, else 0."""

    left: Expr
    relation: str
    right: Expr

    def text(self) -> str:
        return f"[{self.left.text()} {self.relation} {self.right.text()}]"

    def latex(self) -> str:
        rel = {">": ">", "≤": r"\le"}[self.relation]
        return rf"\left[{self.left.latex()} {rel} {self.right.latex()}\right]"

    def mathml(self) -> str:
        return (f"<mrow><mo>[</mo>{self.left.mathml()}<mo>{escape(self.relation)}</mo>"
                f"{self.right.mathml()}<mo>]</mo></mrow>")

    def value(self, env):
        a, b = self.left.value(env), self.right.value(env)
        return float(a > b if self.relation == ">" else a <= b)


@dataclass(frozen=True)
class SumOver(Expr):
    """Σ_index body."""

    index: str
    body: Expr
    precedence = PRODUCT

    def text(self) -> str:
        return f"Σ_{self.index} {wrap(self.body, PRODUCT).text()}"

    def latex(self) -> str:
        return rf"\sum_{{{self.index}}} {wrap(self.body, PRODUCT).latex()}"

    def mathml(self) -> str:
        return f"<mrow><munder><mo>∑</mo><mi>{self.index}</mi></munder>{wrap(self.body, PRODUCT).mathml()}</mrow>"


@dataclass(frozen=True)
class Matrix(Expr):
    """A matrix (or vector) of formulas, in square brackets."""

    rows: tuple

    def _cells(self) -> list[list[str]]:
        return [[cell.text() for cell in row] for row in self.rows]

    def text(self) -> str:
        return "[" + "; ".join(", ".join(row) for row in self._cells()) + "]"

    def lines(self) -> list[str]:
        cells = self._cells()
        widths = [max(len(row[c]) for row in cells) for c in range(len(cells[0]))]
        body = ["  ".join(cell.rjust(w) for cell, w in zip(row, widths)) for row in cells]
        if len(body) == 1:
            return [f"[ {body[0]} ]"]
        return ([f"┌ {body[0]} ┐"] + [f"│ {line} │" for line in body[1:-1]] + [f"└ {body[-1]} ┘"])

    def latex(self) -> str:
        rows = r" \\ ".join(" & ".join(cell.latex() for cell in row) for row in self.rows)
        return rf"\begin{{bmatrix}} {rows} \end{{bmatrix}}"

    def mathml(self) -> str:
        rows = "".join("<mtr>" + "".join(f"<mtd>{cell.mathml()}</mtd>" for cell in row) + "</mtr>"
                       for row in self.rows)
        return f"<mrow><mo>[</mo><mtable>{rows}</mtable><mo>]</mo></mrow>"


@dataclass(frozen=True)
class Transposed(Expr):
    inner: Expr
    precedence = POWER

    def text(self) -> str:
        return wrap(self.inner, ATOM).text() + "ᵀ"

    def lines(self) -> list[str]:
        block = self.inner.lines()
        return hcat([block, ["ᵀ"] + [" "] * (len(block) - 1)])

    def latex(self) -> str:
        return f"{wrap(self.inner, ATOM).latex()}^{{T}}"

    def mathml(self) -> str:
        return f"<msup>{wrap(self.inner, ATOM).mathml()}<mi>T</mi></msup>"


@dataclass(frozen=True)
class Indexed(Expr):
    """One entry of a quantity that stands in several places: (∂E/∂b2)₁, seed 000's bias column."""

    inner: Expr
    index: int

    def text(self) -> str:
        return f"({self.inner.text()})" + str(self.index).translate(SUBSCRIPT_DIGITS)

    def latex(self) -> str:
        return rf"\left({self.inner.latex()}\right)_{{{self.index}}}"

    def mathml(self) -> str:
        return f"<msub><mrow><mo>(</mo>{self.inner.mathml()}<mo>)</mo></mrow><mn>{self.index}</mn></msub>"


def matrix(rows) -> Matrix:
    return Matrix(tuple(tuple(row) for row in rows))


def column(items) -> Matrix:
    return Matrix(tuple((item,) for item in items))


def _bracket_column(ch: str, height: int) -> list[str]:
    top, mid, bottom = tuple({"(": "⎛⎜⎝", ")": "⎞⎟⎠", "[": "⎡⎢⎣", "]": "⎤⎥⎦"}[ch])
    return [top] + [mid] * (height - 2) + [bottom]


def hcat(blocks: list[list[str]]) -> list[str]:
    """Blocks of text lines side by side, centred vertically on one another."""
    height = max(len(b) for b in blocks)
    out = [""] * height
    for block in blocks:
        width = max(len(line) for line in block)
        top = (height - len(block)) // 2
        for r in range(height):
            k = r - top
            out[r] += (block[k] if 0 <= k < len(block) else "").ljust(width)
    return [line.rstrip() for line in out]


@dataclass
class Eq:
    """A chain of equal expressions — lhs = step = … = result — with an optional note."""

    parts: list
    note: str = ""

    def text(self) -> str:
        if any(len(p.lines()) > 1 for p in self.parts):
            blocks = []
            for i, p in enumerate(self.parts):
                if i:
                    blocks.append([" = "])
                blocks.append(p.lines())
            lines = hcat(blocks)
            if self.note:
                lines[len(lines) // 2] += f"   ({self.note})"
            return "\n".join(lines)
        text = " = ".join(p.text() for p in self.parts)
        return f"{text}   ({self.note})" if self.note else text

    def mathml(self) -> str:
        return "<mrow>" + "<mo>=</mo>".join(p.mathml() for p in self.parts) + "</mrow>"


def rewrite(expr: Expr, change) -> Expr:
    """The tree with ``change(node)`` applied bottom-up: change returns a new node, or None to keep it."""
    if isinstance(expr, _Chain):
        chain: Any = type(expr)         # Add, Mul, …: each made from its items
        expr = chain(*(rewrite(item, change) for item in expr.items))
    elif isinstance(expr, Matrix):
        expr = Matrix(tuple(tuple(rewrite(cell, change) for cell in row) for row in expr.rows))
    elif is_dataclass(expr) and not isinstance(expr, (Sym, D)):
        updates = {f.name: rewrite(getattr(expr, f.name), change) for f in fields(expr)
                   if isinstance(getattr(expr, f.name), Expr)}
        if updates:
            expr = replace(expr, **updates)
    changed = change(expr)
    return expr if changed is None else changed


def substitute(expr: Expr, env: Mapping) -> Expr:
    """The same formula with every known symbol replaced by its number."""
    def number(node):
        if isinstance(node, (Sym, D)) and node.text() in env:
            return Num(env[node.text()])
        return None
    return rewrite(expr, number)


def symbols(expr: Expr) -> set[str]:
    """The text of every symbol (and derivative symbol) the formula reads."""
    found: set[str] = set()

    def collect(node):
        if isinstance(node, (Sym, D)):
            found.add(node.text())
    rewrite(expr, collect)
    return found
