// The page: every number comes from the engine through the JSON API; nothing here computes backprop.
// Layout: data and settings | the network (diagram, chain-rule inspector) | training and output.

const $ = (selector) => document.querySelector(selector);
const svgNS = "http://www.w3.org/2000/svg";
const page = {
  id: null, state: null, setup: null, log: [],
  traces: [], current: -1,          // current: the trace viewed, or -1 for the network as it is now
  phase: "forward", sample: 0, selected: null, focus: null,
  curve: { train: [], test: [] }, view: {}, playing: false, worksheet: false, answers: {}, verdicts: {},
  renders: 0, derivations: new Map(), hidden: new Map(),
};
window.chainrulePage = page;       // for tests and the curious: the page's whole state

const POSITIVE = [52, 101, 164], NEGATIVE = [204, 0, 0];            // chainrule plot: weight signs
const CLASS0 = [52, 101, 164], CLASS1 = [245, 121, 0];               // chainrule plot regions: class colours
const rgb = (c) => `rgb(${c.map(Math.round).join(",")})`;
const mix = (a, b, t) => a.map((v, k) => v + (b[k] - v) * t);
const WHITE = [255, 255, 255];

/** v to `n` significant digits as Python's "g" writes it: no trailing zeros in the mantissa. */
function digits(v, n) {
  if (v === null || v === undefined || !Number.isFinite(Number(v))) return "—";
  const [mantissa, exponent] = Number(v).toPrecision(n).split("e");
  const trimmed = mantissa.includes(".") ? mantissa.replace(/\.?0+$/, "") : mantissa;
  return exponent === undefined ? trimmed : `${trimmed}e${exponent}`;
}
const fmt = (v) => digits(v, 9), short = (v) => digits(v, 5);
const plural = (n, word) => `${n.toLocaleString("en")} ${word}${n === 1 ? "" : "s"}`;

function say(text, kind = "error") {
  const m = $("#message");
  m.textContent = text || "";
  m.className = kind;
}

async function api(method, path, body) {
  const response = await fetch(path, { method, headers: body ? { "Content-Type": "application/json" } : {},
                                       body: body ? JSON.stringify(body) : undefined });
  const data = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
  if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
  return data;
}
const session = (path) => `/api/sessions/${page.id}${path}`;

// ---- the state kept in the link: the set-up and what was done to it, replayed on opening ----------------------
const MAX_LINK = 12000;

function remember(action) {
  const last = page.log[page.log.length - 1];
  if ((action[0] === "t" || action[0] === "m") && last && last[0] === action[0]) last[1] += action[1];
  else if (action[0] === "r") page.log = [["r"]];
  else page.log.push(action);
  writeUrl();
}

function writeUrl() {
  let log = page.log;
  let text = JSON.stringify({ ...page.setup, log });
  if (text.length > MAX_LINK && page.state) {       // too long a history: the set-up and the parameters now
    log = [["e", page.state.parameters]];
    text = JSON.stringify({ ...page.setup, log });
  }
  history.replaceState(null, "", "#setup=" + encodeURIComponent(text));
  $("#share").href = location.href;
}

/** The link's actions done again; the steps' traces, for going back to them (a reset forgets them, as it does). */
async function replay(log) {
  let traces = [];
  for (const [kind, value] of log) {
    if (kind === "s") traces.push((await api("POST", session("/step"))).trace);
    else if (kind === "e") await api("POST", session("/parameters"), { values: value });
    else if (kind === "r") { await api("POST", session("/reset")); traces = []; }
    else if (kind === "t" || kind === "m") {
      let left = value;
      while (left > 0) {
        const r = await api("POST", session("/train"), { epochs: Math.min(left, 1000), more: kind === "m" });
        if (!r.epochs) break;
        left -= r.epochs;
      }
    }
  }
  return traces;
}

// ---- loading a set-up ---------------------------------------------------------------------------------------
function showSetup(setup) {
  const select = $("#example");
  let yours = select.querySelector("option[value='']");
  if (setup.example) { select.value = setup.example; yours?.remove(); return; }
  const text = `(your network: ${page.state.name || "built"})`;
  if (!yours) { yours = new Option(text, ""); yours.disabled = true; select.prepend(yours); }
  yours.textContent = text;
  select.value = "";
}

async function start(setup, log = []) {
  say("");
  stopPlaying();
  const created = await api("POST", "/api/sessions", setup);
  Object.assign(page, { id: created.id, setup, log: [], traces: [], current: -1, phase: "forward", sample: 0,
                        selected: null, focus: null, answers: {}, verdicts: {}, derivations: new Map() });
  if (log.length) {
    page.traces = (await replay(log)).slice(-500);
    page.log = log.map((a) => [...a]);
    if (page.traces.length && log[log.length - 1][0] === "s") page.current = page.traces.length - 1;
  }
  await syncState();
  $("#download").href = session("/spec.toml");
  $("#inspector").hidden = true;
  $("#description").textContent = page.state.description || "";
  showSetup(setup);
  writeUrl();
  await refreshView();
  render();
}

async function syncState() {
  const { state } = await api("GET", session("?history=1"));
  page.state = state;
  page.curve = { train: state.loss_history, test: state.test_loss_history };
}

// ---- the build form: every field checked, with what was typed -------------------------------------------------
let CHOICES = { activations: [], losses: [], optimizers: [], schedules: [], classifications: [], regressions: {}, features: [] };

function field(id, name, parse, expected) {
  const text = $(id).value.trim();
  const value = parse(text);
  if (value === undefined || (typeof value === "number" && !Number.isFinite(value))) {
    $(id).setAttribute("aria-invalid", "true");
    $(id).focus();
    throw new Error(`${name}: expected ${expected}, got ${JSON.stringify(text)}`);
  }
  $(id).removeAttribute("aria-invalid");
  return value;
}
const number = (low, high, lowOpen = false) => (text) => {
  if (!/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(text)) return undefined;
  const v = Number(text);
  return (lowOpen ? v > low : v >= low) && v <= high ? v : undefined;
};
const integer = (low, high) => (text) => (/^\d+$/.test(text) && +text >= low && +text <= high ? +text : undefined);

function dataDimension() {
  const kind = $("#b-data").value;
  return CHOICES.regressions[kind] ?? (kind === "csv" ? null : 2);
}

function buildSetup() {
  const hidden = field("#b-layers", "Hidden layers", (t) => {
    if (t === "0" || t.toLowerCase() === "none") return [];
    const parts = t.split(/[,\s]+/).filter(Boolean);
    return parts.length && parts.every((p) => /^\d+$/.test(p) && +p >= 1 && +p <= 64) && parts.length <= 7
      ? parts.map(Number) : undefined;
  }, "units per layer such as 4,4 (1 to 64 each, at most 7 layers; 0 for none)");
  const rate = field("#b-rate", "Learning rate", number(0, 100, true), "a number above 0 such as 0.1");
  const momentum = field("#b-momentum", "Momentum", number(0, 0.999), "a number from 0 to 0.999");
  const l2 = field("#b-l2", "L2 (weight decay)", number(0, 10), "a number from 0 to 10");
  const batch = field("#b-batch", "Batch", (t) => (t === "full" || t === "online" ? t : integer(1, 5000)(t)),
                      "a number of samples, full or online");
  const epochs = field("#b-epochs", "Epochs", integer(1, 100000), "a whole number from 1 to 100000");
  const loss = $("#b-loss").value, output = CHOICES.losses.find((choice) => choice.name === loss);
  const kind = $("#b-data").value, regression = kind in CHOICES.regressions;
  const optimizer = $("#b-optimizer").value;
  if (momentum > 0 && !CHOICES.optimizer_settings[optimizer].includes("momentum")) throw new Error(`Momentum: expected 0 with the ${optimizer} optimiser (it takes no momentum), got ${momentum}`);
  const layers = hidden.map((units) => ({ units, activation: $("#b-activation").value, bias_mode: $("#b-bias").value,
                                          init: { kind: "xavier" } }));
  const outputs = regression ? 1 : output.units;
  layers.push({ units: outputs, activation: regression ? "identity" : output.output_activation, bias_mode: $("#b-bias").value,
                init: { kind: "xavier" } });
  const training = { learning_rate: rate, batch, reduction: "mean", epochs, seed: 1, optimizer,
                     schedule: $("#b-schedule").value, shuffle: batch !== "full" };
  if (momentum > 0) training.momentum = momentum;
  if (l2 > 0) training.weight_decay = l2;
  const chosen = [...document.querySelectorAll("#b-features input:checked")].map((box) => box.value);
  const spec = { name: "built", network: { inputs: chosen.length, loss, layers }, training,
                 data: { generator: kind, samples: field("#b-samples", "Samples", integer(4, 5000), "a whole number from 4 to 5000"),
                         noise: +$("#b-noise").value, test_fraction: +$("#b-test").value, seed: page.dataSeed || 0,
                         features: chosen } };
  if (kind !== "csv" && !chosen.length) throw new Error("Input features: expected at least one ticked, got none");
  return spec;
}

function showFeatures() {
  const dimension = dataDimension();
  const box = $("#b-features");
  box.hidden = dimension === null;
  const ticked = new Set([...box.querySelectorAll("input:checked")].map((b) => b.value));
  if (!ticked.size) ticked.add("x1").add("x2");
  box.replaceChildren(Object.assign(document.createElement("legend"), { textContent: "Input features" }),
    ...CHOICES.features.filter((name) => dimension === 2 || !name.includes("x2")).map((name) => {
      const label = document.createElement("label"), input = document.createElement("input");
      input.type = "checkbox"; input.value = name; input.checked = ticked.has(name); input.id = `f-${name.replace(/\W/g, "_")}`;
      label.append(input, ` ${name}`);
      return label;
    }));
  document.querySelector(".field.csv").hidden = $("#b-data").value !== "csv";
  const regression = $("#b-data").value in CHOICES.regressions, loss = $("#b-loss").value;
  const classifies = !!CHOICES.losses.find((c) => c.name === loss)?.classifier;
  if (regression && classifies) $("#b-loss").value = "mse";          // a regression's loss: identity output
  if (!regression && $("#b-data").value !== "csv" && !classifies) $("#b-loss").value = "bce";
}

// ---- what the viewed step shows ----------------------------------------------------------------------------
function neuronName(layer, j) {
  // the names the spec gives (seed 004: x, blue, orange, green), else the seeds' i1, h1, h1_2, o1
  const net = page.state.network, L = net.layers.length;
  const given = layer < 0 ? net.input_names : (net.layers[layer] || {}).names;
  if (given) return given[j];
  if (layer < 0) return `i${j + 1}`;
  if (layer === L - 1) return `o${j + 1}`;
  return L === 2 ? `h${j + 1}` : `h${layer + 1}_${j + 1}`;
}

function labelsOf(state) {
  // weight labels per layer [j][i] and bias labels per layer [j], from the state's label table
  const table = state.network.layers.map(() => ({ w: [], b: [] }));
  for (const [label, ref] of Object.entries(state.labels)) {
    const entry = table[ref.layer];
    if (ref.kind === "weights") (entry.w[ref.index[0]] ||= [])[ref.index[1]] = label;
    else if (ref.index.length === 0) entry.shared = label;
    else entry.b[ref.index[0]] = label;
  }
  return table;
}

function valueOf(source, ref) {
  const layer = source[ref.layer];
  if (ref.kind === "weights") return layer.weights[ref.index[0]][ref.index[1]];
  return ref.index.length ? layer.bias[ref.index[0]] : layer.bias;
}

/** What the diagram and table show: neurons' caption lines, each parameter's text and value, the table's rows
 *  [symbol, value, claim] and the caption above the diagram. */
function shown() {
  const state = page.state, trace = page.traces[page.current], L = state.network.layers.length;
  const out = { neurons: {}, inputs: [], params: {}, rows: [], caption: "", fill: {} };
  const blank = (claim) => page.worksheet && trace && claim;
  const narrow = page.layout && page.layout.W < 520;        // a phone: 3 significant digits on the diagram
  const text = (v, claim) => (blank(claim) ? "?" : narrow ? digits(v, 3) : short(v));
  const each = (fn) => state.network.layers.forEach((layer, l) => { for (let j = 0; j < layer.units; j++) fn(l, j, neuronName(l, j)); });
  const samples = trace ? trace.samples : state.forward_samples;
  const s = Math.min(page.sample, samples.length - 1), sample = samples[s];
  out.inputs = sample.input;
  if (!trace) {
    out.caption = `The network now, sample ${s + 1} of ${state.samples}: the forward pass with the current weights. ` +
                  "Take a step to see its error, backward pass and update.";
    each((l, j, n) => {
      const v = sample.layers[l];
      out.neurons[n] = [`out ${short(v.out[j])}`, `net ${short(v.net[j])}`];
      out.fill[n] = v.out[j];
      out.rows.push([`net_${n}`, v.net[j]], [`out_${n}`, v.out[j]]);
    });
    sample.target.forEach((t, j) => out.rows.push([`t_${neuronName(L - 1, j)}`, t]));
    for (const [label, value] of Object.entries(state.parameters)) { out.params[label] = [text(value), value]; out.rows.push([label, value]); }
    return out;
  }
  const batch = trace.samples_in_step, combined = trace.reduction === "mean" ? "averaged" : "summed";
  const phaseName = { forward: "forward pass", error: "error", backward: "backward pass", update: "update" }[page.phase];
  out.caption = `Step ${trace.step}${trace.phase ? ` (phase ${trace.phase})` : ""}, ${phaseName} — sample ${s + 1} of ${batch}` +
    (batch > 1 ? (page.phase === "backward" ? `; the edges show ∂E/∂w ${combined} over the ${batch} samples (this sample's terms in the table)`
                                           : page.phase === "update" ? `; the update uses the gradients ${combined} over ${batch} samples` : "") : "") +
    (batch > samples.length ? ` (the first ${samples.length} of them can be chosen)` : "") + ".";
  if (page.phase === "forward" || page.phase === "error") {
    each((l, j, n) => {
      const v = sample.layers[l];
      out.neurons[n] = [`out ${text(v.out[j], 1)}`, `net ${text(v.net[j], 1)}`];
      out.fill[n] = v.out[j];
      out.rows.push([`net_${n}`, v.net[j], `net_${n}`], [`out_${n}`, v.out[j], `out_${n}`]);
    });
    for (const [label, ref] of Object.entries(state.labels)) {
      const value = valueOf(trace.parameters_before, ref);
      out.params[label] = [text(value), value];
      out.rows.push([label, value]);
    }
  }
  if (page.phase === "error") {
    sample.errors.forEach((e, j) => {
      const n = neuronName(L - 1, j);
      out.neurons[n] = [`out ${short(sample.layers[L - 1].out[j])}`, `t ${short(sample.target[j])}`, `E ${text(e, 1)}`];
      out.rows.push([`t_${n}`, sample.target[j]], [`E_${n}`, e, `E_${n}`]);
    });
    out.rows.push(["E_total", sample.loss, "E_total"]);
    out.caption += ` · E_total (this sample) = ${blank(1) ? "?" : short(sample.loss)}`;
  }
  if (page.phase === "backward") {
    each((l, j, n) => {
      out.neurons[n] = [`δ ${text(sample.deltas[l][j], 1)}`];
      out.fill[n] = sample.layers[l].out[j];
      out.rows.push([`δ_${n}`, sample.deltas[l][j], `delta_${n}`]);
    });
    for (const [label, ref] of Object.entries(state.labels)) {
      const g = valueOf(trace.gradients, ref);
      out.params[label] = [`∂ ${text(g, 1)}`, g];
      out.rows.push([`dE/d${label}`, g, `dE_d${label}`]);
      const term = trace.terms?.[label]?.[s];
      if (batch > 1 && term !== undefined) out.rows.push([`dE/d${label} (sample ${s + 1})`, term]);
    }
  }
  if (page.phase === "update") {
    each((l, j, n) => { out.fill[n] = sample.layers[l].out[j]; });
    for (const [label, ref] of Object.entries(state.labels)) {
      const value = valueOf(trace.parameters_after, ref);
      out.params[label] = [`→ ${text(value, 1)}`, value];
      out.rows.push([label, value, `${label}_after`]);
    }
    out.rows.push(["loss before", trace.loss_before], ["loss after", trace.loss_after, "loss_after"]);
  }
  return out;
}

// ---- the diagram: glyphs, edges and labels placed so that none overlaps --------------------------------------
function el(name, attrs, text) {
  const node = document.createElementNS(svgNS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

const measure = (() => {
  const ctx = document.createElement("canvas").getContext("2d"), known = new Map();
  return (text, font = "11px ui-monospace, SFMono-Regular, Menlo, monospace") => {
    const key = font + "|" + text;
    if (!known.has(key)) {
      if (known.size > 5000) known.clear();
      ctx.font = font;
      known.set(key, ctx.measureText(text).width);
    }
    return known.get(key);
  };
})();

const overlaps = (a, b, gap = 1) => a.x < b.x + b.w + gap && b.x < a.x + a.w + gap && a.y < b.y + b.h + gap && b.y < a.y + a.h + gap;

function colourOf(value, scale = 1) {
  const t = Math.max(-1, Math.min(1, value / scale));
  return rgb(mix(WHITE, t >= 0 ? POSITIVE : NEGATIVE, Math.abs(t) * 0.85));
}

const heatCanvas = document.createElement("canvas");
function heatmapImage(grid, classes) {
  const n = grid.length, canvas = heatCanvas;
  if (canvas.width !== n) canvas.width = canvas.height = n;
  const ctx = canvas.getContext("2d"), image = ctx.createImageData(n, n);
  const flat = grid.flat().filter((v) => v !== null);
  const scale = Math.max(1e-9, ...flat.map(Math.abs));
  grid.forEach((row, r) => row.forEach((v, c) => {
    let colour;
    if (classes) { const t = Math.max(0, Math.min(1, v ?? 0.5)); colour = mix(WHITE, t >= 0.5 ? CLASS1 : CLASS0, Math.abs(t - 0.5) * 1.6); }
    else { const t = Math.max(-1, Math.min(1, (v ?? 0) / scale)); colour = mix(WHITE, t >= 0 ? POSITIVE : NEGATIVE, Math.abs(t) * 0.85); }
    const k = ((n - 1 - r) * n + c) * 4;
    image.data.set([...colour.map(Math.round), 255], k);
  }));
  ctx.putImageData(image, 0, 0);
  return canvas.toDataURL();
}

function measureLayout() {
  const wrap = $("#diagram-wrap"), state = page.state;
  const biggest = Math.max(state.network.inputs, ...state.network.layers.map((l) => l.units));
  const height = `${Math.max(300, Math.min(720, 58 * biggest + 90))}px`;
  if (window.innerWidth <= 760 && wrap.style.getPropertyValue("--diagram-height") !== height) wrap.style.setProperty("--diagram-height", height);
  return { W: Math.max(240, wrap.clientWidth), H: Math.max(220, wrap.clientHeight), curve: Math.max(200, $("#curve").clientWidth || 320) };
}

function geometry() {
  const state = page.state, sizes = [state.network.inputs, ...state.network.layers.map((l) => l.units)];
  const biggest = Math.max(...sizes);
  const { W, H } = page.layout;
  const left = 34, right = Math.min(110, W * 0.16), top = 22, bottom = 26;
  const colGap = (W - left - right) / Math.max(sizes.length - 1, 1), rowGap = (H - top - bottom) / biggest;
  const S = Math.max(22, Math.min(44, rowGap * 0.55, colGap * 0.3));
  const at = (c, j) => [left + c * colGap, top + rowGap * (j + 0.5) + (biggest - sizes[c]) * rowGap / 2];
  return { W, H, S, sizes, at };
}

function renderDiagram(view) {
  const state = page.state, svg = $("#diagram"), L = state.network.layers.length;
  const { W, H, S, sizes, at } = geometry();
  svg.replaceChildren();
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("width", W); svg.setAttribute("height", H);
  const labels = labelsOf(state), heat = page.view.heatmaps, classes = state.plot === "classes";
  const edges = el("g", { class: "edges" }), neurons = el("g", { class: "neurons" }), top = el("g", { class: "labels" });
  svg.append(edges, neurons, top);
  const boxes = {};           // each neuron's glyph box
  const glyph = (c, j, name) => {
    const [x, y] = at(c, j), w = Math.max(S, measure(name, "600 12px system-ui, sans-serif") + 8);
    boxes[`${c}:${j}`] = { x: x - w / 2, y: y - S / 2, w, h: S, cx: x, cy: y };
    return boxes[`${c}:${j}`];
  };
  for (let c = 0; c < sizes.length; c++) for (let j = 0; j < sizes[c]; j++) glyph(c, j, neuronName(c - 1, j));
  const maxAbs = Math.max(1e-9, ...Object.values(state.parameters).map(Math.abs));
  const items = [];           // labels to place: {id, text, kind, candidates, priority, param, neuron}
  const focus = page.focus ?? `${sizes.length - 1}:0`;
  const related = (param) => {
    if (page.selected === param) return true;
    const ref = state.labels[param];
    const [fc, fj] = focus.split(":").map(Number);
    if (ref.kind === "weights") return (ref.layer + 1 === fc && ref.index[0] === fj) || (ref.layer === fc && ref.index[1] === fj) ||
                                       (ref.layer === fc - 1 && fc === 0);
    return ref.layer + 1 === fc && (ref.index.length === 0 || ref.index[0] === fj);
  };
  // edges: colour = sign, width = |w| (the weights now, or before/after the viewed step)
  state.network.layers.forEach((layer, l) => {
    for (let j = 0; j < layer.units; j++) for (let i = 0; i < sizes[l]; i++) {
      const label = labels[l].w[j][i], a = boxes[`${l}:${i}`], b = boxes[`${l + 1}:${j}`];
      const weight = view.params[label] ? view.params[label][1] : state.parameters[label];
      const viewed = page.traces[page.current];
      const w = page.phase === "backward" && viewed ? valueOf(viewed.parameters_before, state.labels[label]) : weight;
      const x1 = a.x + a.w, y1 = a.cy, x2 = b.x, y2 = b.cy;
      const g = el("g", { class: `edge${page.selected === label ? " selected" : ""}`, id: `edge-${label}`, "data-param": label,
                          tabindex: "0", role: "button",
                          "aria-label": `${label}: weight from ${neuronName(l - 1, i)} to ${neuronName(l, j)}, ${view.params[label]?.[0] ?? short(w)}` });
      g.append(el("line", { class: "shown", x1, y1, x2, y2, stroke: w >= 0 ? rgb(POSITIVE) : rgb(NEGATIVE),
                            "stroke-width": (0.8 + 4.5 * Math.abs(w) / maxAbs).toFixed(2), "stroke-opacity": 0.75 }),
               el("line", { class: "hit", x1, y1, x2, y2 }));
      edges.append(g);
      const textValue = `${label} ${view.params[label]?.[0] ?? ""}`.trim(), width = measure(textValue) + 6;
      const candidates = [];
      const order = [0.5, 0.32, 0.68, 0.42, 0.58, 0.24, 0.76, 0.16, 0.84, 0.36, 0.64, 0.28, 0.72, 0.46, 0.54, 0.2, 0.8];
      const shift = (i % 3) * 0.06 - 0.06;
      for (const f0 of order) for (const dy of [0, -8, 8, -16, 16, -24, 24]) {
        const f = Math.max(0.1, Math.min(0.9, f0 + shift)), px = x1 + f * (x2 - x1), py = y1 + f * (y2 - y1) + dy;
        candidates.push({ x: px - width / 2, y: py - 8, w: width, h: 15 });
      }
      items.push({ id: `label-${label}`, text: [textValue], kind: "param", param: label, candidates, priority: 2 - (related(label) ? 2 : 0) });
    }
    const bias = (j) => labels[l].shared || labels[l].b[j];
    for (let j = 0; j < layer.units; j++) {
      const label = bias(j);
      if (!label) continue;
      const b = boxes[`${l + 1}:${j}`], textValue = `${label} ${view.params[label]?.[0] ?? ""}`.trim(), width = measure(textValue) + 6;
      const spots = [[b.cx - width / 2, b.y - 17], [b.x + b.w - 4, b.y - 17], [b.x - width + 4, b.y - 17], [b.cx - width / 2, b.y + b.h + 2],
                     [b.x - width - 3, b.y - 17], [b.x + b.w + 3, b.y - 17], [b.x - width - 3, b.y + b.h + 2], [b.x + b.w + 3, b.y + b.h + 2]];
      const shared = labels[l].shared && j > 0;
      items.push({ id: shared ? `label-${label}-${j}` : `label-${label}`, text: [textValue], kind: "param", param: label,
                   candidates: spots.map(([x, y]) => ({ x, y, w: width, h: 15 })), priority: (related(label) ? 0 : 1) + (shared ? 0.5 : 0) });
    }
  });
  // neurons: a glyph filled by its value (or Playground's map of its output over the plane), its name on it
  for (let c = 0; c < sizes.length; c++) for (let j = 0; j < sizes[c]; j++) {
    const name = neuronName(c - 1, j), b = boxes[`${c}:${j}`], key = `${c}:${j}`;
    const g = el("g", { class: `neuron${c === 0 ? " input" : ""}${focus === key ? " focused" : ""}`, id: `neuron-${name}`, tabindex: "0",
                        role: "button", "data-neuron": key, "aria-label": `neuron ${name}: ${c === 0 ? "input " + short(view.inputs[j]) : (view.neurons[name] || []).join(", ")}` });
    const grid = heat && (c === 0 ? heat.inputs[j] : heat.layers[c - 1][j]);
    const fill = c === 0 ? colourOf(view.inputs[j], Math.max(1, ...view.inputs.map(Math.abs))) : colourOf(view.fill[name] ?? 0);
    g.append(el("rect", { class: "body", x: b.x, y: b.y, width: b.w, height: b.h, rx: 4, fill }));
    if (grid) g.append(el("image", { href: heatmapImage(grid, classes && c === sizes.length - 1), x: b.x + 1, y: b.y + 1, width: b.w - 2, height: b.h - 2, preserveAspectRatio: "none" }));
    g.append(el("text", { class: "name", x: b.cx, y: b.cy + 4, "text-anchor": "middle", "paint-order": "stroke", stroke: "white", "stroke-width": 3 }, name));
    neurons.append(g);
    const lines = c === 0 ? [`${short(view.inputs[j])}`] : (view.neurons[name] || []);
    if (lines.length) {
      const width = Math.max(...lines.map((t) => measure(t))) + 6, height = 13 * lines.length + 3;
      const right = [b.x + b.w + 3, b.cy - height / 2], below = [b.cx - width / 2, b.y + b.h + 2], above = [b.cx - width / 2, b.y - height - 2];
      // narrow diagrams keep the space between columns for the edges' labels: captions go below or above first
      const spots = [...(W < 520 ? [below, above, right] : [right, below, above]),
                     [b.x - width - 3, b.cy - height / 2], [b.x + b.w + 3, b.y + b.h], [b.x - width - 3, b.y + b.h]];
      items.push({ id: `caption-${name}`, text: lines, kind: "caption", neuron: key,
                   candidates: spots.map(([x, y]) => ({ x, y, w: width, h: height })), priority: focus === key ? -1 : 0.2 });
    }
  }
  // placing: greedily, most important first; where not all fit, only the focused neuron's or parameter's labels
  const obstacles = Object.values(boxes).map((b) => ({ x: b.x - 2, y: b.y - 2, w: b.w + 4, h: b.h + 4 }));
  const inside = (r) => r.x >= 0 && r.y >= 0 && r.x + r.w <= W && r.y + r.h <= H;
  const tryPlace = (list) => {
    const placed = [], spots = new Map();
    for (const item of list) {
      const spot = item.candidates.find((r) => inside(r) && !obstacles.some((o) => overlaps(r, o, 0)) && !placed.some((p) => overlaps(r, p)));
      if (spot) { placed.push(spot); spots.set(item.id, spot); }
    }
    return spots;
  };
  items.sort((a, b) => a.priority - b.priority);
  // a layout found crowded stays so while Play redraws it (the same shape, size, phase and focus): one pass
  const key = [sizes, W, H, page.phase, focus, page.selected, page.current < 0].join("|");
  let spots = page.crowded === key ? null : tryPlace(items);
  const crowded = !spots || items.some((item) => item.kind === "param" && !spots.has(item.id));
  if (crowded) spots = tryPlace(items.filter((item) => item.kind === "caption" || item.priority < 1));
  page.crowded = crowded ? key : null;
  page.hidden = new Map();
  for (const item of items) {
    const spot = spots.get(item.id);
    if (!spot) { if (item.kind === "param") page.hidden.set(item.param, item.text[0]); continue; }
    const g = el("g", { class: `label ${item.kind}${item.param && item.param === page.selected ? " selected" : ""}`, id: item.id });
    if (item.param) { g.dataset.param = item.param; }
    if (item.neuron) { g.dataset.neuron = item.neuron; }
    g.append(el("rect", { x: spot.x, y: spot.y, width: spot.w, height: spot.h, rx: 2 }));
    item.text.forEach((line, k) => g.append(el("text", { x: spot.x + 3, y: spot.y + 11 + 13 * k, class: line.startsWith("δ") ? "delta" : "" }, line)));
    top.append(g);
  }
  $("#diagram-caption").textContent = view.caption.replace(/\.?$/, ".") + (crowded ? " Not every value fits: the focused neuron's are shown — click or tab to a neuron to focus it, hover or focus an edge for its value." : "");
  $("#diagram-text").textContent = diagramText(view);
}

function diagramText(view) {
  const state = page.state;
  const sizes = [state.network.inputs, ...state.network.layers.map((l) => l.units)].join("-");
  const neurons = Object.entries(view.neurons).map(([n, lines]) => `${n}: ${lines.join(", ")}`).join("; ");
  return `A ${sizes} network. ${view.caption} Neurons — ${neurons}.`;
}

function showTooltip(target, text) {
  const tip = $("#tooltip"), wrap = $("#diagram-wrap").getBoundingClientRect(), box = target.getBoundingClientRect();
  tip.textContent = text;
  tip.hidden = false;
  tip.style.left = `${Math.min(box.left - wrap.left + box.width / 2, wrap.width - 120)}px`;
  tip.style.top = `${box.top - wrap.top + box.height / 2 - 24}px`;
}

// ---- the values table, with the worksheet's blanks --------------------------------------------------------
function renderValues(view) {
  const trace = page.traces[page.current], tbody = $("#values tbody");
  const worksheet = page.worksheet && trace;
  $("#worksheet-row").hidden = !worksheet;
  $("#values-caption").textContent = worksheet ? `Worksheet: step ${trace.step}, sample ${page.sample + 1} — fill in the blanks, then check`
                                               : trace ? `Values of step ${trace.step}, sample ${page.sample + 1}` : "Values now";
  const key = (claim) => `${trace?.step}:${page.sample}:${claim}`;
  tbody.replaceChildren(...view.rows.map(([symbol, value, claim]) => {
    const tr = document.createElement("tr"), a = document.createElement("td"), b = document.createElement("td");
    a.textContent = symbol;
    if (worksheet && claim) {
      const input = document.createElement("input");
      input.id = `ws-${claim}`; input.setAttribute("aria-label", `${symbol}: your number`);
      input.value = page.answers[key(claim)] ?? "";
      input.oninput = () => { page.answers[key(claim)] = input.value; };
      b.append(input);
      const verdict = page.verdicts[key(claim)];
      const c = document.createElement("td");
      c.className = "verdict";
      if (verdict) {
        c.classList.add(verdict.ok ? "right" : "wrong");
        c.textContent = verdict.ok ? `✓ right${verdict.note ? ` (${verdict.note})` : ""}`
                                   : `✗ ${verdict.mistake ? "looks like: " + verdict.mistake : "no mistake in the catalogue reproduces it"}` +
                                     (verdict.correct_line ? ` — ${verdict.correct_line}` : "");
        c.id = `verdict-${claim}`;
      }
      tr.append(a, b, c);
      return tr;
    }
    b.textContent = fmt(value); b.id = `v-${symbol}`;
    tr.append(a, b);
    return tr;
  }));
}

async function checkAnswers() {
  const trace = page.traces[page.current];
  const prefix = `${trace.step}:${page.sample}:`;
  const claims = {};
  for (const [k, v] of Object.entries(page.answers)) if (k.startsWith(prefix) && v.trim()) claims[k.slice(prefix.length)] = v.trim();
  if (!Object.keys(claims).length) throw new Error("Worksheet: expected at least one number filled in, got none");
  const report = await api("POST", session(`/steps/${trace.step}/check`), { claims, sample: page.sample + 1 });
  for (const verdict of report.claims) page.verdicts[prefix + verdict.name] = verdict;
  $("#check-summary").textContent = `${report.claims.length - report.wrong} right, ${report.wrong} wrong`;
  render();
}

// ---- the training side: counters, the loss curve, the output ----------------------------------------------
const REASONS = {
  epochs: () => "its epochs ran out, as the spec says",
  loss_below: (r) => `the loss fell below ${r.stop_below} (stop_below)`,
  loss_change_below: (r) => `the loss changed by less than ${r.stop_change_below} in an epoch (stop_change_below)`,
  validation: (r) => `the validation loss did not improve for ${r.patience} epochs (patience)`,
};

function renderCounters() {
  const state = page.state, run = state.run, trace = page.traces[page.current];
  const planned = run.phases.reduce((sum, p) => sum + p.epochs, 0);
  $("#epochs").textContent = state.epochs.toLocaleString("en");
  $("#epochs-of").textContent = run.finished ? (run.beyond ? ` (${run.beyond} past the spec's end)` : "") : ` of up to ${planned.toLocaleString("en")}`;
  $("#loss").textContent = fmt(state.loss);
  $("#test-loss").textContent = state.test_loss === null ? "–" : fmt(state.test_loss);
  const phases = run.phases.length > 1;
  $("#phase-line").textContent = phases
    ? (run.finished ? `Phases: ${run.phases.map((p, k) => `${k + 1}. ${p.name} — ${plural(p.epochs_run, "epoch")}, stopped: ${p.stopped_because}`).join("; ")}`
                    : `Phase ${run.phase + 1} of ${run.phases.length} — ${run.phases[run.phase].summary}; epoch ${run.phase_epoch} of this phase`)
    : "";
  $("#stop-reason").textContent = run.finished ? `The spec's run has ended after ${plural(state.epochs - run.beyond, "epoch")}: ${(REASONS[run.finished] || (() => run.finished))(run)}.` +
                                                 " Train 100 more goes on past it." : "";
  $("#more").disabled = !run.finished || page.playing;
  $("#play").disabled = page.playing;
  $("#step-label").textContent = trace ? `— step ${trace.step}, ${page.phase}` + (trace.step < state.updates ? ` (the network has gone on to step ${state.updates})` : "")
                                       : `— now: step ${state.updates}`;
  const status = `${state.name} · ${[state.network.inputs, ...state.network.layers.map((l) => l.units)].join("-")} · step ${state.updates} · epoch ${state.epochs}` +
                 (phases ? ` · phase ${run.phase + 1}/${run.phases.length}` : "") + ` · loss now ${short(state.loss)}` + (run.finished ? " · ended" : "");
  $("#status").textContent = status;
  document.querySelectorAll("[data-phase]").forEach((b) => {
    const on = !!trace && b.dataset.phase === page.phase;
    b.classList.toggle("active", on); b.setAttribute("aria-pressed", String(on));
  });
  const samples = trace ? trace.samples.length : state.forward_samples.length;
  const total = trace ? trace.samples_in_step : state.samples;
  const select = $("#sample");
  if (select.options.length !== samples || select.dataset.total !== String(total)) {
    select.replaceChildren(...Array.from({ length: samples }, (_, k) => new Option(`${k + 1} of ${total}`, String(k))));
    select.dataset.total = String(total);
  }
  page.sample = Math.min(page.sample, samples - 1);
  select.value = String(page.sample);
  $("#previous-step").disabled = !page.traces.length || page.current === 0;
  $("#next-step").disabled = page.current === -1;
}

function niceStep(range, count) {
  const raw = range / count, power = 10 ** Math.floor(Math.log10(raw)), f = raw / power;
  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * power;
}

function renderCurve() {
  const svg = $("#curve"), { train, test } = page.curve;
  const W = page.layout ? page.layout.curve : 320, H = 170, m = { l: 46, r: 8, t: 14, b: 24 };
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.replaceChildren();
  const n = train.length;
  const positive = train.concat(test).filter((v) => v > 0 && Number.isFinite(v));
  if (!n || !positive.length) {
    svg.append(el("text", { x: m.l, y: H / 2 }, "The loss of every epoch appears here."));
    svg.setAttribute("aria-label", "loss curve: no epoch trained yet");
    return;
  }
  let lo = Math.floor(Math.log10(Math.min(...positive))), hi = Math.ceil(Math.log10(Math.max(...positive)));
  if (hi === lo) hi = lo + 1;
  const X = (k) => m.l + (W - m.l - m.r) * (n === 1 ? 0.5 : k / (n - 1)), Y = (v) => m.t + (H - m.t - m.b) * (hi - Math.log10(Math.max(v, 10 ** lo))) / (hi - lo);
  const axis = el("g", { class: "axes" });
  axis.append(el("line", { x1: m.l, y1: m.t, x2: m.l, y2: H - m.b, stroke: "#767676" }), el("line", { x1: m.l, y1: H - m.b, x2: W - m.r, y2: H - m.b, stroke: "#767676" }));
  const every = Math.max(1, Math.ceil((hi - lo) / 5));
  for (let e = lo; e <= hi; e += every) {
    axis.append(el("line", { x1: m.l - 3, y1: Y(10 ** e), x2: W - m.r, y2: Y(10 ** e), stroke: "#e6e8eb" }),
                el("text", { x: m.l - 5, y: Y(10 ** e) + 4, "text-anchor": "end" }, `1e${e}`));
  }
  const step = Math.max(1, niceStep(Math.max(n, 1), 5));
  let lastTick = -Infinity;
  for (let e = step === 1 ? 1 : 0; e <= n; e += step) {   // the epoch ticks, apart, leaving room for the axis's name
    const x = X(Math.max(e - 1, 0));
    if (x - lastTick < 36 || x > W - m.r - 64) continue;
    axis.append(el("text", { x, y: H - 8, "text-anchor": "middle" }, e.toLocaleString("en")));
    lastTick = x;
  }
  axis.append(el("text", { x: W - m.r, y: H - 8 + 0, "text-anchor": "end" }, "epoch"), el("text", { x: m.l + 4, y: m.t - 3 }, "loss (log scale)"));
  svg.append(axis);
  page.state.run.phase_starts.slice(1).forEach((start) => {
    svg.append(el("line", { x1: X(start), y1: m.t, x2: X(start), y2: H - m.b, stroke: "#8a9199", "stroke-dasharray": "3 3" }),
               el("text", { x: X(start) + 3, y: m.t + 10 }, "next phase"));
  });
  const line = (values, colour, dash) => {
    const width = W - m.l - m.r, bucket = Math.max(1, Math.floor(values.length / width));
    const points = [];
    for (let k = 0; k < values.length; k += bucket) {
      const slice = values.slice(k, k + bucket).filter((v) => v !== null);
      if (!slice.length) continue;
      points.push(`${X(k).toFixed(1)},${Y(Math.min(...slice)).toFixed(1)}`);
      if (bucket > 1) points.push(`${X(k + bucket - 1).toFixed(1)},${Y(Math.max(...slice)).toFixed(1)}`);
    }
    svg.append(el("polyline", { points: points.join(" "), fill: "none", stroke: colour, "stroke-width": 1.6, "stroke-dasharray": dash || "" }));
  };
  line(train, rgb(POSITIVE));
  if (n === 1) svg.append(el("circle", { cx: X(0), cy: Y(train[0]), r: 3, fill: rgb(POSITIVE) }));
  if (test.length) line(test, "#c35f00", "4 2");
  const legend = `train ${short(train[n - 1])}` + (test.length ? ` · test ${short(test[test.length - 1])}` : "");
  svg.append(el("text", { x: W - m.r, y: m.t - 3, "text-anchor": "end" }, legend));
  svg.setAttribute("aria-label", `loss curve, log scale: ${plural(n, "epoch")}, training loss from ${short(train[0])} to ${short(train[n - 1])}` +
                   (test.length ? `, test loss ${short(test[test.length - 1])}` : ""));
}

function renderOutput() {
  const b = page.view.boundary, canvas = $("#boundary"), figure = $("#output-figure");
  figure.hidden = !b;
  if (!b) return;
  const ctx = canvas.getContext("2d"), size = canvas.width, discrete = $("#discretize").checked;
  ctx.clearRect(0, 0, size, size);
  const xs = b.x, lowX = xs[0], highX = xs[xs.length - 1];
  const sx = (x) => (x - lowX) / (highX - lowX) * size;
  let summary;
  if (b.kind === "curve") {
    const all = b.values.concat(b.labels, b.test_labels).filter((v) => v !== null && Number.isFinite(v));
    const lo = Math.min(...all), hi = Math.max(...all), pad = (hi - lo) * 0.08 || 1;
    const sy = (y) => size - ((y - lo + pad) / (hi - lo + 2 * pad)) * size;
    ctx.strokeStyle = "#e6e8eb"; ctx.beginPath(); ctx.moveTo(0, sy(0)); ctx.lineTo(size, sy(0)); ctx.stroke();
    ctx.strokeStyle = rgb(POSITIVE); ctx.lineWidth = 2; ctx.beginPath();
    b.values.forEach((v, k) => (k ? ctx.lineTo(sx(xs[k]), sy(v)) : ctx.moveTo(sx(xs[k]), sy(v)))); ctx.stroke();
    ctx.fillStyle = "#1f2328";
    b.points.forEach(([x], k) => { ctx.beginPath(); ctx.arc(sx(x), sy(b.labels[k]), 2.6, 0, 7); ctx.fill(); });
    if ($("#show-test").checked) { ctx.strokeStyle = "#c35f00"; ctx.lineWidth = 1.5; b.test_points.forEach(([x], k) => { ctx.beginPath(); ctx.arc(sx(x), sy(b.test_labels[k]), 3, 0, 7); ctx.stroke(); }); }
    $("#boundary-legend").innerHTML = `<span class="swatch" style="background:${rgb(POSITIVE)}"></span>the network's fitted curve` +
      `<span class="swatch" style="background:#1f2328"></span>training data` + (b.test_points.length ? `<span class="swatch test" style="border-color:#c35f00"></span>test data` : "");
    summary = `fitted curve over x from ${short(lowX)} to ${short(highX)}, outputs from ${short(Math.min(...b.values))} to ${short(Math.max(...b.values))}`;
  } else {
    const ys = b.y, lowY = ys[0], highY = ys[ys.length - 1], n = xs.length, cell = size / n;
    const sy = (y) => size - (y - lowY) / (highY - lowY) * size;
    const classes = b.kind === "classes";
    const scale = Math.max(1e-9, ...b.values.flat().filter((v) => v !== null).map(Math.abs));
    let ones = 0;
    b.values.forEach((row, r) => row.forEach((v, c) => {
      let colour;
      if (classes) {
        const t = Math.max(0, Math.min(1, v ?? 0.5)); ones += t >= 0.5;
        colour = discrete ? mix(WHITE, t >= 0.5 ? CLASS1 : CLASS0, 0.45) : mix(WHITE, t >= 0.5 ? CLASS1 : CLASS0, Math.abs(t - 0.5) * 1.3);
      } else {
        const t = discrete ? Math.sign(v ?? 0) : Math.max(-1, Math.min(1, (v ?? 0) / scale));
        colour = mix(WHITE, t >= 0 ? POSITIVE : NEGATIVE, Math.abs(t) * 0.8);
      }
      ctx.fillStyle = rgb(colour);
      ctx.fillRect(Math.floor(c * cell), Math.floor(size - (r + 1) * cell), Math.ceil(cell) + 1, Math.ceil(cell) + 1);
    }));
    const pointColour = (label) => (classes ? rgb(label >= 0.5 ? CLASS1 : CLASS0) : colourOf(label, scale));
    b.points.forEach(([x, y], k) => {
      ctx.beginPath(); ctx.arc(sx(x), sy(y), 3.2, 0, 7); ctx.fillStyle = pointColour(b.labels[k]); ctx.fill();
      ctx.lineWidth = 1; ctx.strokeStyle = "white"; ctx.stroke();
    });
    if ($("#show-test").checked) b.test_points.forEach(([x, y], k) => {
      ctx.lineWidth = 2; ctx.strokeStyle = pointColour(b.test_labels[k]); ctx.strokeRect(sx(x) - 3, sy(y) - 3, 6, 6);
    });
    $("#boundary-legend").innerHTML = classes
      ? `<span class="swatch" style="background:${rgb(CLASS0)}"></span>class 0<span class="swatch" style="background:${rgb(CLASS1)}"></span>class 1` +
        (b.test_points.length ? `<span class="swatch test" style="border-color:#555b62"></span>test points (squares)` : "") + " · background: the network's output"
      : `<span class="swatch" style="background:${rgb(NEGATIVE)}"></span>negative<span class="swatch" style="background:${rgb(POSITIVE)}"></span>positive output; dots: targets`;
    summary = classes ? `decision boundary: ${Math.round(100 * ones / (n * n))}% of the plane is predicted class 1, ${b.points.length} training points` +
                        (b.test_points.length ? ` and ${b.test_points.length} test points` : "")
                      : `fitted surface over the plane, outputs from ${short(-scale)} to ${short(scale)}`;
  }
  canvas.setAttribute("aria-label", summary);
}

async function refreshView() {
  page.view = {};
  const state = page.state;
  if (state.plot) page.view.boundary = await api("GET", session("/boundary?resolution=48"));
  if (state.inputs_2d && heatmapResolution()) page.view.heatmaps = await api("GET", session(`/heatmaps?resolution=${heatmapResolution()}`));
}
function heatmapResolution() { return page.state.inputs_2d ? 14 : 0; }
function viewRequest() {
  const view = {};
  if (page.state.plot) view.boundary = 48;
  if (heatmapResolution()) view.heatmaps = heatmapResolution();
  return view;
}

// ---- the inspector: one parameter's chain rule at the viewed step, and editing it ------------------------------
async function renderInspector() {
  const label = page.selected;
  if (!label) return;
  const trace = page.traces[page.current];
  $("#inspector").hidden = false;
  $("#inspector-title").textContent = trace ? `${label} — its chain rule at step ${trace.step}` : `${label}`;
  if (document.activeElement !== $("#param-value")) $("#param-value").value = fmt(page.state.parameters[label]);
  $("#param-value").setAttribute("aria-label", `${label}'s value now`);
  if (!trace) {
    $("#derivation").innerHTML = `<p>${label} is ${fmt(page.state.parameters[label])} now. Its chain rule belongs to a step: ` +
      `<button id="inspector-step">Take a step from here</button> (or go back to a step taken with ◀).</p>`;
    $("#inspector-step").onclick = () => guarded(takeStep);
    return;
  }
  const key = `${trace.step}:${label}`;
  if (!page.derivations.has(key)) {
    const { html } = await api("GET", session(`/steps/${trace.step}/explain?param=${encodeURIComponent(label)}`));
    page.derivations.set(key, html);
    if (page.derivations.size > 200) page.derivations.delete(page.derivations.keys().next().value);
  }
  if (page.selected === label && page.traces[page.current] === trace) $("#derivation").innerHTML = page.derivations.get(key);
}

async function inspect(label) {
  page.selected = label;
  const ref = page.state.labels[label];
  if (ref) page.focus = `${ref.layer + 1}:${ref.kind === "weights" || ref.index.length ? ref.index[0] : 0}`;
  render();
  await renderInspector();
}

async function setParameter(label, value) {
  const { state } = await api("POST", session("/parameters"), { label, value });
  page.state = state;
  page.current = -1;
  remember(["e", { [label]: value }]);
  await refreshView();
  render();
}

// ---- acting: steps, epochs, play ------------------------------------------------------------------------
let stepping = null;      // the step request in flight: a phase chosen meanwhile waits for it, not for another step

function takeStep() {
  const step = takeStepNow();
  const settled = step.then(() => {}, () => {});      // whoever called takeStep sees its error, not the waiters
  stepping = settled;
  settled.then(() => { if (stepping === settled) stepping = null; });
  return step;
}

async function takeStepNow() {
  const id = page.id;
  const { trace, state } = await api("POST", session("/step"));
  if (page.id !== id) return;          // another set-up was loaded meanwhile: this step was of the one before
  page.traces.push(trace);
  if (page.traces.length > 500) page.traces.shift();
  page.current = page.traces.length - 1; page.state = state;
  if (state.history_length !== page.curve.train.length) await syncState();
  remember(["s"]);
  await refreshView();
  render();
}

function trainRequest(epochs, { more = false, seconds } = {}) {
  const body = { epochs, more, view: viewRequest() };
  if (seconds) body.seconds = seconds;
  return api("POST", session("/train"), body);
}

async function train(epochs, options = {}) {
  return trained(await trainRequest(epochs, options), options.more);
}

/** A train call's answer taken in: the state, the new points of the curves, the link, the drawing. */
async function trained(result, more = false) {
  page.state = result.state;
  page.view = result.view;
  page.curve.train.push(...result.loss_history);
  page.curve.test.push(...result.test_loss_history);
  if (page.curve.train.length !== page.state.history_length) await syncState();
  page.current = -1;
  if (result.epochs) remember([more ? "m" : "t", result.epochs]);
  warnings();
  render();
  return result;
}

function warnings() {
  const losses = page.curve.train, n = losses.length;
  if (n >= 100) {
    const then = losses[n - 100], now = losses[n - 1];
    if (now > then * 1.5) return say("The loss has risen over the last 100 epochs: the run may be diverging — try a smaller learning rate.", "warning");
    if (Math.abs(then - now) < 1e-6 * Math.max(then, 1e-12) && now > 1e-3)
      return say("The loss has not moved in 100 epochs: the run has stalled — try a larger learning rate, another activation, more hidden units or input features.", "warning");
  }
  if ($("#message").className === "warning") say("");
}

function announce(text) { $("#announce").textContent = text; }
const nextFrame = () => new Promise((resolve) => requestAnimationFrame(() => resolve()));

async function play() {
  if (page.state.run.finished) {
    say(`The spec's run has ended (${page.state.run.finished}); “Train 100 more” goes on past it, “Reset” starts again.`, "warning");
    return;
  }
  page.playing = true;
  $("#play").disabled = true; $("#pause").disabled = false; $("#more").disabled = true;
  $("#pause").focus();
  let told = 0;
  const ask = () => trainRequest(+$("#speed").value, { seconds: 0.05 });
  try {
    let pending = ask();
    for (;;) {     // the next call is on its way while this one's answer is drawn
      const result = await pending;
      const goOn = page.playing && !result.stopped;
      pending = goOn ? ask() : null;
      await trained(result);
      if (performance.now() - told > 3000) { announce(`epoch ${page.state.epochs}, loss ${short(page.state.loss)}`); told = performance.now(); }
      if (!goOn) break;
      await nextFrame();
    }
  } catch (e) { say(e.message); }
  const onPause = [$("#pause"), document.body, null].includes(document.activeElement);
  stopPlaying();
  if (onPause) $("#play").focus();          // focus stays on the control in use, never dropped to the page
  announce(`paused at epoch ${page.state.epochs}, loss ${short(page.state.loss)}` +
           (page.state.run.finished ? `; the run has ended: ${page.state.run.finished}` : ""));
  renderCounters();
}

function stopPlaying() {
  page.playing = false;
  $("#play").disabled = false; $("#pause").disabled = true;
  if (page.state) $("#more").disabled = !page.state.run.finished;
}

function render() {
  const started = performance.now(), times = page.times ||= {};
  page.layout = measureLayout();         // every size read before anything is written: one layout a frame
  const timed = (name, fn) => { const t = performance.now(); fn(); times[name] = (times[name] || 0) + performance.now() - t; };
  const view = shown();
  timed("counters", renderCounters);
  timed("diagram", () => renderDiagram(view));
  timed("values", () => renderValues(view));
  timed("curve", renderCurve);
  timed("output", renderOutput);
  times.render = (times.render || 0) + performance.now() - started;
  page.renders += 1;
  renderInspector().catch((e) => say(e.message));
}

// ---- wiring ----------------------------------------------------------------------------------------------
async function guarded(fn) { try { say(""); await fn(); } catch (e) { say(e.message); } }
const options = (select, names, labelOf = (n) => n) => select.replaceChildren(...names.map((name) => new Option(labelOf(name), name)));

function activateFromDiagram(target) {
  const labelled = target.closest("[data-param]"), neuron = target.closest("[data-neuron]");
  if (labelled) return guarded(() => inspect(labelled.dataset.param));
  if (neuron) { page.focus = neuron.dataset.neuron; render(); document.querySelector(`[data-neuron="${page.focus}"]`)?.focus(); }
}

async function main() {
  const { examples } = await api("GET", "/api/examples");
  CHOICES = await api("GET", "/api/choices");     // every activation, loss, optimiser and data set the engine has
  options($("#b-activation"), CHOICES.activations); $("#b-activation").value = "tanh";
  options($("#b-loss"), CHOICES.losses.map((c) => c.name), (name) => {
    const c = CHOICES.losses.find((l) => l.name === name);
    return ["bce", "cross_entropy"].includes(name) ? `${name} (${c.output_activation}${c.units > 1 ? `, ${c.units}` : ""} out)` : name;
  });
  $("#b-loss").value = "bce";
  options($("#b-optimizer"), CHOICES.optimizers);
  options($("#b-schedule"), CHOICES.schedules);
  options($("#b-data"), [...CHOICES.classifications, ...Object.keys(CHOICES.regressions), "csv"],
          (n) => (n === "csv" ? "CSV upload" : n in CHOICES.regressions ? `${n} (regression, ${CHOICES.regressions[n]}-D)` : `${n} (classes)`));
  options($("#example"), examples.map((e) => e.name), (name) => `${name} — ${examples.find((e) => e.name === name).summary}`.slice(0, 70));
  showFeatures();
  if (window.innerWidth <= 760) $("#build").open = false;      // a phone opens on the network, the form a tap away
  $("#b-data").onchange = showFeatures;
  $("#b-noise").oninput = () => { $("#b-noise-out").textContent = $("#b-noise").value; };
  $("#b-test").oninput = () => { $("#b-test-out").textContent = `${Math.round(100 * $("#b-test").value)}%`; };
  $("#regenerate").onclick = () => guarded(async () => { page.dataSeed = (page.dataSeed || 0) + 1; await buildAndStart(); });
  const buildAndStart = async () => {
    const spec = buildSetup();
    if ($("#b-data").value === "csv") {
      const file = $("#b-csv").files[0];
      if (!file) throw new Error("CSV: expected a file chosen, got none");
      if (file.size > 200000) throw new Error(`CSV: expected at most 200000 bytes, got ${file.size}`);
      const text = await file.text();
      spec.data = { csv_text: text };
      const row = text.split("\n").find((l) => /^[-\d.]/.test(l.trim()));
      if (!row) throw new Error(`CSV: expected rows of numbers, got none in ${file.name}`);
      spec.network.inputs = row.split(",").length - spec.network.layers.at(-1).units;
    }
    await start({ spec });
  };
  $("#build-form").onsubmit = (event) => { event.preventDefault(); guarded(buildAndStart); };
  $("#load-example").onclick = () => guarded(async () => {
    if (!$("#example").value) throw new Error("Example: expected one chosen from the list, got none");
    await start({ example: $("#example").value });
  });
  $("#spec-file").onchange = () => guarded(async () => start({ spec_toml: await $("#spec-file").files[0].text() }));
  $("#take-step").onclick = () => guarded(takeStep);
  document.querySelectorAll("[data-phase]").forEach((b) => b.onclick = () => guarded(async () => {
    if (stepping) await stepping;
    if (page.current < 0) await takeStep();
    page.phase = b.dataset.phase; render();
  }));
  $("#previous-step").onclick = () => { if (page.current !== 0 && page.traces.length) { page.current = page.current < 0 ? page.traces.length - 1 : page.current - 1; render(); } };
  $("#next-step").onclick = () => { if (page.current >= 0) { page.current = page.current + 1 < page.traces.length ? page.current + 1 : -1; render(); } };
  $("#sample").onchange = () => { page.sample = +$("#sample").value; render(); };
  $("#worksheet").onchange = () => guarded(async () => {
    page.worksheet = $("#worksheet").checked;
    if (stepping) await stepping;
    if (page.worksheet && page.current < 0) await takeStep();
    render();
  });
  $("#check-answers").onclick = () => guarded(checkAnswers);
  $("#param-set").onclick = () => guarded(async () => {
    const text = $("#param-value").value.trim(), value = Number(text);
    if (!text || !Number.isFinite(value)) throw new Error(`${page.selected}: expected a number, got ${JSON.stringify(text)}`);
    await setParameter(page.selected, value);
  });
  $("#param-value").onkeydown = (event) => { if (event.key === "Enter") $("#param-set").click(); };
  $("#inspector-close").onclick = () => { page.selected = null; $("#inspector").hidden = true; render(); };
  $("#play").onclick = () => play();
  $("#pause").onclick = () => { stopPlaying(); $("#play").focus(); };
  $("#epoch").onclick = () => guarded(async () => {
    if (page.state.run.finished) throw new Error(`The spec's run has ended (${page.state.run.finished}); “Train 100 more” goes on past it`);
    await train(1);
  });
  $("#more").onclick = () => guarded(async () => { const before = page.state.epochs; while (page.state.epochs < before + 100) { if (!(await train(before + 100 - page.state.epochs, { more: true })).epochs) break; } });
  $("#reset").onclick = () => guarded(async () => {
    stopPlaying();
    const { state } = await api("POST", session("/reset"));
    page.state = state; page.curve = { train: [], test: [] }; page.traces = []; page.current = -1; page.derivations = new Map();
    remember(["r"]);
    await refreshView();
    render();
  });
  $("#speed").oninput = () => { $("#speed-label").textContent = `${$("#speed").value} epochs a frame`; };
  $("#discretize").onchange = renderOutput;
  $("#show-test").onchange = renderOutput;
  const svg = $("#diagram");
  svg.addEventListener("click", (event) => activateFromDiagram(event.target));
  svg.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") { event.preventDefault(); activateFromDiagram(event.target); }
  });
  const tip = (event) => {
    const edge = event.target.closest?.(".edge");
    if (edge && page.hidden.has(edge.dataset.param)) showTooltip(edge.querySelector("line.shown"), page.hidden.get(edge.dataset.param));
    else if (edge) showTooltip(edge.querySelector("line.shown"), `${edge.dataset.param} ${page.state.parameters[edge.dataset.param] !== undefined ? "= " + short(page.state.parameters[edge.dataset.param]) : ""}`);
  };
  svg.addEventListener("mouseover", tip);
  svg.addEventListener("focusin", tip);
  svg.addEventListener("mouseout", () => { $("#tooltip").hidden = true; });
  svg.addEventListener("focusout", () => { $("#tooltip").hidden = true; });
  let resizing;
  window.addEventListener("resize", () => { clearTimeout(resizing); resizing = setTimeout(() => page.state && render(), 120); });
  new ResizeObserver(([entry]) => {       // the inspector opened or closed: the diagram redrawn at its new size
    const { width, height } = entry.contentRect, was = page.layout;
    if (page.state && was && (Math.abs(width - was.W) > 2 || Math.abs(height - was.H) > 2)) {
      clearTimeout(resizing); resizing = setTimeout(render, 60);
    }
  }).observe($("#diagram-wrap"));
  const match = location.hash.match(/^#setup=(.*)$/);
  let { setup } = await api("GET", "/api/initial"), log = [];     // what `chainrule serve SPEC` opened with
  if (match) {
    try {
      ({ log = [], ...setup } = JSON.parse(decodeURIComponent(match[1])));
      if (setup.edits) { log = [["e", setup.edits], ...log]; delete setup.edits; }
    } catch { say("The link's set-up could not be read; showing the mazur example."); setup = { example: "mazur" }; log = []; }
  }
  await guarded(() => start(setup, log));
  document.body.dataset.ready = "true";
}

main();
