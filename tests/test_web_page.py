"""The web page as a learner meets it, in Chromium at a desktop (1440×900) and a phone (390×844) size:
legible labels in every phase, the spec's run exactly as `chainrule train` runs it, everything on screen in
step with the server, keyboard-only use, and worksheet mode checked by the same checker as `chainrule check`."""

import json
import subprocess
import sys
import urllib.request

import numpy as np
import pytest

from test_web import open_page, server  # noqa: F401  (the module's live server fixture)

SIZES = [(1440, 900), (390, 844)]
EXAMPLES = ["mazur", "mazur-code", "worksheet", "visual", "xor", "softplus"]


def built(units: int) -> dict:
    """A 2-units-units-1 tanh network on 500 generated points (a fifth kept for testing)."""
    hidden = [{"units": units, "activation": "tanh", "init": {"kind": "xavier"}} for _ in range(2)]
    return {"spec": {"name": f"built-{units}", "network": {"inputs": 2, "loss": "bce", "layers": [
        *hidden, {"units": 1, "activation": "sigmoid"}]},
        "training": {"learning_rate": 0.3, "batch": 10, "reduction": "mean", "epochs": 200, "seed": 1, "shuffle": True},
        "data": {"generator": "circle", "samples": 500, "noise": 0.05, "test_fraction": 0.2, "seed": 0}}}


SETUPS = {**{name: {"example": name} for name in EXAMPLES}, "2-4-4-1": built(4), "2-8-8-1": built(8)}


def open_at(browser, url, size=(1440, 900)):
    return open_page(browser, url, size)


def link(server, setup):
    return f"{server}/#setup=" + json.dumps(setup)


# What the page draws, measured in the browser: every visible label's box, every neuron's, the smallest text.
MEASURE = """() => {
  const box = (e) => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  const labels = [...document.querySelectorAll('#diagram .label')].map((g) => ({ id: g.id, param: g.dataset.param || null,
                                                                         box: box(g.querySelector('rect')) }));
  const neurons = [...document.querySelectorAll('#diagram .neuron rect.body')].map((r) => ({ id: r.parentNode.id, box: box(r) }));
  const sizes = [...document.querySelectorAll('#diagram text, #values td, #curve text, button, label')]
      .filter((e) => e.getClientRects().length).map((e) => parseFloat(getComputedStyle(e).fontSize));
  // the element a click at each label's centre reaches (scrolled into view first, as a click would)
  const hits = labels.map((l) => { const g = document.getElementById(l.id); g.scrollIntoView({ block: 'center' });
      const [x0, y0, x1, y1] = box(g.querySelector('rect'));
      const e = document.elementFromPoint((x0 + x1) / 2, (y0 + y1) / 2);
      const hit = e && e.closest('.label'); return hit ? hit.id : null; });
  return { labels, neurons, smallest: Math.min(...sizes), hits,
           scroll: document.documentElement.scrollWidth, width: window.innerWidth };
}"""


def overlap(a, b, tolerance=0.5):
    return a[0] < b[2] - tolerance and b[0] < a[2] - tolerance and a[1] < b[3] - tolerance and b[1] < a[3] - tolerance


def check_legible(page, where):
    m = page.evaluate(MEASURE)
    labels = m["labels"]
    for i, a in enumerate(labels):
        for b in labels[i + 1:]:
            assert not overlap(a["box"], b["box"]), f"{where}: {a['id']} overlaps {b['id']}"
        for n in m["neurons"]:
            assert not overlap(a["box"], n["box"]), f"{where}: {a['id']} lies on {n['id']}"
    assert m["hits"] == [label["id"] for label in labels], f"{where}: a label's centre reaches another element"
    assert m["smallest"] >= 10, f"{where}: text of {m['smallest']} px"
    assert m["scroll"] <= m["width"], f"{where}: the page scrolls sideways ({m['scroll']} > {m['width']})"
    return labels


@pytest.mark.parametrize("size", SIZES, ids=["desktop", "phone"])
def test_labels_never_overlap_and_each_opens_its_own_parameter(browser, server, size):  # noqa: F811
    counts = {}
    for name, setup in SETUPS.items():
        page, errors = open_at(browser, link(server, setup), size)
        where = f"{name} at {size[0]}×{size[1]}"
        counts[name] = [len(check_legible(page, f"{where}, before a step"))]
        page.click("#take-step")
        page.wait_for_function("window.chainrulePage.current >= 0")
        for phase in ("forward", "error", "backward", "update"):
            page.click(f"[data-phase={phase}]")
            labels = check_legible(page, f"{where}, {phase}")
            counts[name].append(len(labels))
            if phase == "backward":      # a click on every visible parameter label opens exactly that parameter
                for label in [item for item in labels if item["param"]]:
                    page.click(f"#{label['id']}")
                    page.wait_for_function("(p) => document.querySelector('#inspector-title').textContent.startsWith(p + ' ')",
                                           arg=label["param"])
        assert min(counts[name][1:]) >= 1, f"{where}: no label shown"
        assert not errors, errors
        page.close()
    # seed 000's 2-2-2 shows every weight and bias at the desktop size
    if size[0] == 1440:
        assert min(counts["mazur"][1:]) >= 8 + 2 + 4


def cli_run(name: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "chainrule", "train", name, "--json"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("name", EXAMPLES)
def test_play_runs_the_spec_as_chainrule_train_does(browser, server, name):  # noqa: F811
    """Play ends where `chainrule train NAME --json` ends: the same epochs, stop reason, phases and losses."""
    expected = cli_run(name)
    page, errors = open_at(browser, link(server, {"example": name}))
    page.fill("#speed", "200")
    page.click("#play")
    page.wait_for_function("window.chainrulePage.state.run.finished !== null && !window.chainrulePage.playing", timeout=90_000)
    state = page.evaluate("window.chainrulePage.state")
    curve = page.evaluate("window.chainrulePage.curve.train")
    phases = expected.get("phases") or [expected]
    assert state["run"]["finished"] == phases[-1]["stopped_because"] == expected["stopped_because"]
    assert [(p["epochs_run"], p["stopped_because"]) for p in state["run"]["phases"]] == \
        [(p["epochs_run"], p["stopped_because"]) for p in phases]
    losses = [v for p in phases for v in p["loss_history"]]
    assert len(curve) == len(losses) == state["epochs"]
    assert max(abs(a - b) for a, b in zip(curve, losses)) <= 1e-12
    for mine, theirs in zip(state["network"]["layers"], expected["parameters"]):
        assert np.allclose(mine["weights"], theirs["weights"], rtol=0, atol=1e-12)
        assert theirs["bias"] is None or np.allclose(mine["bias"], theirs["bias"], rtol=0, atol=1e-12)
    reason = page.text_content("#stop-reason")
    epochs = state["epochs"]
    assert "has ended" in reason and f"after {epochs:,} epoch{'s' * (epochs != 1)}:" in reason
    if len(phases) > 1:     # softplus: both phases, each with its own stop reason
        line = page.text_content("#phase-line")
        assert all(p["name"] in line and p["stopped_because"] in line for p in phases)
    assert page.is_enabled("#more") and not errors
    page.close()


def server_state(server, page):
    sid = page.evaluate("window.chainrulePage.id")
    with urllib.request.urlopen(f"{server}/api/sessions/{sid}?history=1") as response:
        return json.loads(response.read())["state"]


def agrees(server, page, when):
    """The header, counters, table and inspector describe the server's state."""
    state = server_state(server, page)
    shown = page.evaluate("window.chainrulePage")
    assert page.text_content("#epochs") == f"{state['epochs']:,}", when
    assert f"step {state['updates']} " in page.text_content("#status") + " ", when
    assert f"epoch {state['epochs']} " in page.text_content("#status") + " ", when
    assert page.text_content("#loss") == shown_number(state["loss"]), when
    assert shown["curve"]["train"] == state["loss_history"], when
    if shown["current"] < 0:           # the network as it is now: the table is the server's forward pass
        values = state["forward_samples"][0]["layers"][-1]["out"]
        assert page.text_content("#v-out_o1") == shown_number(values[0]), when
        assert page.text_content("#v-w1") == shown_number(state["parameters"]["w1"]), when
    if page.is_visible("#inspector"):
        label = shown["selected"]
        assert page.input_value("#param-value") == shown_number(state["parameters"][label]), when
    return state


def shown_number(v):
    text = f"{v:.9g}"
    mantissa, _, exponent = text.partition("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return mantissa + (f"e{int(exponent)}" if exponent else "")


def test_after_step_train_back_edit_reset_everything_agrees_with_the_server(browser, server):  # noqa: F811
    page, errors = open_at(browser, link(server, {"example": "mazur"}))
    agrees(server, page, "opened")
    page.click("#label-w1")
    page.click("#take-step")
    page.wait_for_function("window.chainrulePage.current === 0")
    page.wait_for_selector("#derivation math")
    assert "step 1" in page.text_content("#inspector-title")
    agrees(server, page, "after a step")
    page.fill("#speed", "30")
    page.click("#epoch")
    page.wait_for_function("document.querySelector('#epochs').textContent === '2'")
    state = agrees(server, page, "after an epoch")
    assert "Take a step" in page.text_content("#derivation")       # no stale derivation of step 1
    page.click("#previous-step")
    page.wait_for_function("document.querySelector('#inspector-title').textContent.includes('step 1')")
    assert "gone on to step 2" in page.text_content("#step-label")
    agrees(server, page, "back to step 1")
    page.fill("#param-value", "0.25")
    page.click("#param-set")
    page.wait_for_function("document.querySelector('#v-w1') && document.querySelector('#v-w1').textContent === '0.25'")
    state = agrees(server, page, "after an edit")
    assert state["parameters"]["w1"] == 0.25
    page.click("#reset")
    page.wait_for_function("document.querySelector('#epochs').textContent === '0'")
    state = agrees(server, page, "after reset")
    assert state["parameters"]["w1"] == 0.15 and state["loss_history"] == []
    # a shared link gives the same set-up, parameters, steps and epochs
    page.click("#take-step")
    page.wait_for_function("window.chainrulePage.current === 0")
    page.click("#epoch")
    page.wait_for_function("document.querySelector('#epochs').textContent === '2'")
    before = server_state(server, page)
    other, more = open_at(browser, page.get_attribute("#share", "href"))
    after = agrees(server, other, "opened from the link")
    assert (after["epochs"], after["updates"], after["parameters"], after["loss_history"]) == \
        (before["epochs"], before["updates"], before["parameters"], before["loss_history"])
    assert not errors and not more


def tab_to(page, selector, limit=400):
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_keyboard_only_load_step_chain_rule_play_and_pause(browser, server):  # noqa: F811
    page, errors = open_at(browser, link(server, {"example": "mazur"}))
    tab_to(page, "#example")
    page.keyboard.press("ArrowDown")          # the next example, xor's seed… then back up to mazur-code
    page.keyboard.press("ArrowUp")
    before = page.evaluate("window.chainrulePage.id")
    tab_to(page, "#load-example")
    page.keyboard.press("Enter")
    page.wait_for_function(f"window.chainrulePage.id !== {before!r} && window.chainrulePage.state.name === 'mazur'")
    tab_to(page, "#take-step")
    page.keyboard.press("Enter")
    page.wait_for_function("window.chainrulePage.current === 0")
    tab_to(page, "#edge-w1")
    page.keyboard.press("Enter")
    page.wait_for_selector("#derivation math")
    assert page.text_content("#inspector-title").startswith("w1 ")
    tab_to(page, "#play")
    page.keyboard.press("Enter")
    page.wait_for_function("window.chainrulePage.playing")
    assert page.evaluate("document.activeElement.id") == "pause"       # focus stays on the control in use
    page.keyboard.press("Enter")
    page.wait_for_function("!window.chainrulePage.playing")
    assert page.evaluate("document.activeElement.id") == "play"
    # announced once the frame on its way when Pause was pressed is in (its epochs counted)
    page.wait_for_function("document.querySelector('#announce').textContent.startsWith('paused at epoch')")
    assert page.get_attribute("#curve", "aria-label").startswith("loss curve")
    assert not errors


def test_worksheet_mode_names_the_mistake_as_chainrule_check_does(browser, server):  # noqa: F811
    """Seed 000's step: out_h1 right (0.593269992 by hand: 1/(1+e^-0.3775)); ∂E/∂w5 with the sign of
    ∂E/∂out flipped (−0.082167041 where seed 000 has +0.082167041): named, with the correct line."""
    page, errors = open_at(browser, link(server, {"example": "mazur"}))
    page.check("#worksheet")
    page.wait_for_selector("#ws-out_h1")
    assert page.text_content("#label-w1") == "w1 0.15"     # the forward phase's givens stay
    assert "?" in page.text_content("#caption-h1")           # its results are blanks
    page.fill("#ws-out_h1", "0.593269992")
    page.click("[data-phase=backward]")
    page.fill("#ws-dE_dw5", "-0.082167041")
    page.click("#check-answers")
    page.wait_for_selector("#verdict-dE_dw5")
    assert "sign" in page.text_content("#verdict-dE_dw5") and "0.0821670406" in page.text_content("#verdict-dE_dw5")
    page.click("[data-phase=forward]")
    assert page.text_content("#verdict-out_h1").startswith("✓")
    assert not errors


def test_build_form_names_what_was_typed(browser, server):  # noqa: F811
    page, errors = open_at(browser, server + "/")
    for field, typed, expected in [("#b-rate", "abc", 'Learning rate: expected a number above 0 such as 0.1, got "abc"'),
                                   ("#b-layers", "", 'Hidden layers: expected units per layer'),
                                   ("#b-batch", "1.5", 'Batch: expected a number of samples, full or online, got "1.5"')]:
        page.goto(server + "/")
        page.wait_for_selector("body[data-ready=true]")
        page.click("#build summary")            # "Build a new network" opens the form
        page.fill(field, typed)
        page.click("#build-network")
        page.wait_for_function("(t) => document.querySelector('#message').textContent.startsWith(t)", arg=expected)
    # regression data with input features: the fitted surface and each neuron's map over the plane
    page.fill("#b-batch", "10")
    page.select_option("#b-data", "saddle")
    page.check("#f-x1_x2")
    page.fill("#b-layers", "3")
    page.click("#build-network")
    page.wait_for_function("document.querySelectorAll('#diagram .neuron').length === 3 + 3 + 1")
    assert page.evaluate("window.chainrulePage.state.plot") == "surface"
    assert page.locator("#diagram .neuron image").count() == 3 + 3 + 1       # every neuron's map, inputs too
    assert "fitted surface" in page.get_attribute("#boundary", "aria-label")
    assert not errors


# Every visible text's colour against the background behind it (the nearest opaque one; white for the diagram's
# labels, which sit on white boxes): WCAG AA asks 4.5:1 for text of this size.
CONTRAST = """() => {
  const parse = (c) => { const m = c.match(/[\\d.]+/g).map(Number); return { rgb: m.slice(0, 3), a: m.length > 3 ? m[3] : 1 }; };
  const lum = ([r, g, b]) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
                              return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const background = (e) => { for (; e && e !== document.documentElement; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor); if (c.a > 0.5) return c.rgb; } return [255, 255, 255]; };
  const worst = [];
  for (const e of document.querySelectorAll('body *')) {
    if (!e.getClientRects().length || ['SCRIPT', 'STYLE', 'OPTION'].includes(e.tagName)) continue;
    const own = [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own) continue;
    const svgText = e instanceof SVGElement;
    if (svgText && !e.closest('.label, #curve')) continue;          // the neurons' names carry a white halo
    const style = getComputedStyle(e);
    const colour = parse(svgText ? style.fill : style.color).rgb;
    const r = ratio(colour, svgText ? [255, 255, 255] : background(e));
    if (r < 4.5) worst.push(`${e.tagName}#${e.id || ''}.${e.className.baseVal ?? e.className}: ${r.toFixed(2)} (${e.textContent.trim().slice(0, 30)})`);
  }
  return worst;
}"""


def test_text_has_wcag_aa_contrast_in_every_phase(browser, server):  # noqa: F811
    page, errors = open_at(browser, link(server, {"example": "xor"}))
    assert page.evaluate(CONTRAST) == []
    page.click("#take-step")
    page.wait_for_function("window.chainrulePage.current >= 0")
    for phase in ("forward", "error", "backward", "update"):
        page.click(f"[data-phase={phase}]")
        assert page.evaluate(CONTRAST) == [], phase
    assert not errors


def test_diagram_curve_output_and_controls_on_one_desktop_screen(browser, server):  # noqa: F811
    """At 1440×900, for up to 8 units a layer: the diagram, the loss curve, the boundary and Play all on
    screen, also with a chain rule open (the inspector and the table scroll inside themselves)."""
    page, errors = open_at(browser, link(server, SETUPS["2-8-8-1"]))
    page.click("#take-step")
    page.wait_for_function("window.chainrulePage.current >= 0")
    page.click("[data-phase=backward]")
    page.click("#diagram .label.param")
    page.wait_for_selector("#derivation math")
    for selector in ("#diagram", "#curve", "#boundary", "#play", "#take-step", "#inspector", "#values-panel"):
        box = page.locator(selector).bounding_box()
        assert box and box["y"] >= 0 and box["y"] + box["height"] <= 900 + 1 and box["x"] + box["width"] <= 1440, selector
    assert page.evaluate("document.documentElement.scrollHeight") <= 900 + 1
    assert not errors
