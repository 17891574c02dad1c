// The page: every number comes from the engine through the JSON API; nothing here computes backprop.

const $ = (selector) => document.querySelector(selector);
const svgNS = "http://www.w3.org/2000/svg";
const page = { id: null, state: null, traces: [], current: -1, phase: "forward", playing: false, setup: null,
               edits: {}, selected: null };

/** v to `digits` significant digits as Python's "g" writes it: no trailing zeros in the mantissa (the exponent keeps its own). */
function digits(v, n) {
  const [mantissa, exponent] = Number(v).toPrecision(n).split("e");
  const trimmed = mantissa.includes(".") ? mantissa.replace(/\.?0+$/, "") : mantissa;
  return exponent === undefined ? trimmed : `${trimmed}e${exponent}`;
}
function fmt(v) { return digits(v, 9); }
function short(v) { return digits(v, 5); }
function say(text) { $("#message").textContent = text || ""; }

async function api(method, path, body) {
  const response = await fetch(path, { method, headers: body ? { "Content-Type": "application/json" } : {},
                                       body: body ? JSON.stringify(body) : undefined });
  const data = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
  if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
  return data;
}

// ---- set-up, kept in the URL -------------------------------------------------------------------------------
const MAX_URL_PARAMETERS = 500;

function writeUrl() {
  // the set-up and the current parameters (trained or edited), so the link gives the same state
  const parameters = page.state ? page.state.parameters : {};
  const edits = Object.keys(parameters).length <= MAX_URL_PARAMETERS ? parameters : page.edits;
  const setup = { ...page.setup, edits };
  const hash = "#setup=" + encodeURIComponent(JSON.stringify(setup));
  history.replaceState(null, "", hash);
  $("#share").href = location.href;
}

/** The example list shows what is loaded: the example's name, or "(your network)" for a built or loaded spec. */
function showSetup(setup) {
  const select = $("#example");
  let yours = select.querySelector("option[value='']");
  if (setup.example) { select.value = setup.example; yours?.remove(); return; }
  if (!yours) { yours = new Option(`(your network: ${page.state.name || "built"})`, ""); yours.disabled = true; select.prepend(yours); }
  yours.textContent = `(your network: ${page.state.name || "built"})`;
  select.value = "";
}

async function start(setup, edits = {}) {
  say("");
  stopPlaying();
  const created = await api("POST", "/api/sessions", setup);
  page.id = created.id; page.state = created.state; page.setup = setup; page.edits = {};
  page.traces = []; page.current = -1; page.phase = "forward"; page.selected = null;
  if (Object.keys(edits).length) {
    const { state } = await api("POST", `/api/sessions/${page.id}/parameters`, { values: edits });
    page.state = state;
  }
  $("#download").href = `/api/sessions/${page.id}/spec.toml`;
  $("#inspector").hidden = true;
  showSetup(setup);
  writeUrl();
  render();
  await refreshTraining();
}

let CHOICES = { activations: [], losses: [], optimizers: [] };

function buildSetup() {
  const hidden = $("#b-layers").value.split(",").map((s) => parseInt(s, 10)).filter((n) => n > 0);
  const loss = $("#b-loss").value;
  const output = CHOICES.losses.find((choice) => choice.name === loss);
  const layers = hidden.map((units) => ({ units, activation: $("#b-activation").value, bias_mode: $("#b-bias").value,
                                          init: { kind: "xavier" } }));
  layers.push({ units: output.units, activation: output.output_activation });
  const batch = $("#b-batch").value;
  const spec = { name: "built", network: { inputs: 2, loss, layers },
                 training: { learning_rate: parseFloat($("#b-rate").value), batch: /^\d+$/.test(batch) ? parseInt(batch, 10) : batch,
                             reduction: "mean", seed: 1 },
                 data: { generator: $("#b-data").value, samples: parseInt($("#b-samples").value, 10),
                         noise: parseFloat($("#b-noise").value), test_fraction: parseFloat($("#b-test").value), seed: 0 } };
  return spec;
}

// ---- the diagram ---------------------------------------------------------------------------------------------
function neuronName(layer, j, layers) {
  // the names the spec gives (seed 004: x, blue, orange, green), else the seeds' i1, h1, h1_2, o1
  const net = page.state && page.state.network;
  const given = net && (layer < 0 ? net.input_names : (net.layers[layer] || {}).names);
  if (given) return given[j];
  if (layer < 0) return `i${j + 1}`;
  if (layer === layers - 1) return `o${j + 1}`;
  return layers === 2 ? `h${j + 1}` : `h${layer + 1}_${j + 1}`;
}

function el(name, attrs, text) {
  const node = document.createElementNS(svgNS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function labelsOf(state) {
  // weight labels per layer [j][i] and bias labels per layer [j], from the state's label table
  const table = state.network.layers.map((layer) => ({ w: [], b: [] }));
  for (const [label, ref] of Object.entries(state.labels)) {
    const entry = table[ref.layer];
    if (ref.kind === "weights") { (entry.w[ref.index[0]] ||= [])[ref.index[1]] = label; }
    else if (ref.index.length === 0) { entry.shared = label; }
    else { entry.b[ref.index[0]] = label; }
  }
  return table;
}

function phaseValues() {
  // what the current phase shows: {neurons: {name: [lines]}, edges: {label: text}, rows: [[symbol, value]]}
  const state = page.state, trace = page.traces[page.current];
  const layers = state.network.layers, L = layers.length;
  const shown = { neurons: {}, edges: {}, rows: [] };
  const labels = labelsOf(state);
  if (!trace) {   // before any step: the forward pass of the first sample with the current parameters
    state.forward.forEach((v, l) => v.out.forEach((out, j) => {
      const n = neuronName(l, j, L);
      shown.neurons[n] = [`net ${short(v.net[j])}`, `out ${short(out)}`];
      shown.rows.push([`net_${n}`, v.net[j]], [`out_${n}`, out]);
    }));
    for (const [label, value] of Object.entries(state.parameters)) { shown.edges[label] = short(value); shown.rows.push([label, value]); }
    return shown;
  }
  const sample = trace.samples[0];
  const before = trace.parameters_before, after = trace.parameters_after, grads = trace.gradients;
  const each = (fn) => layers.forEach((layer, l) => { for (let j = 0; j < layer.units; j++) fn(l, j, neuronName(l, j, L)); });
  const eachParam = (source, fn) => layers.forEach((layer, l) => {
    for (let j = 0; j < layer.units; j++) for (let i = 0; i < labels[l].w[j].length; i++) fn(labels[l].w[j][i], source[l].weights[j][i]);
    if (labels[l].shared) fn(labels[l].shared, source[l].bias);
    labels[l].b.forEach((label, j) => label && fn(label, source[l].bias[j]));
  });
  if (page.phase === "forward" || page.phase === "error") {
    each((l, j, n) => {
      const v = sample.layers[l];
      shown.neurons[n] = [`net ${short(v.net[j])}`, `out ${short(v.out[j])}`];
      shown.rows.push([`net_${n}`, v.net[j]], [`out_${n}`, v.out[j]]);
    });
    eachParam(before, (label, value) => { shown.edges[label] = short(value); shown.rows.push([label, value]); });
  }
  if (page.phase === "error") {
    sample.errors.forEach((e, j) => { const n = neuronName(L - 1, j, L); shown.neurons[n].push(`E ${short(e)}`); shown.rows.push([`E_${n}`, e]); });
    shown.rows.push(["E_total", sample.loss]);
  }
  if (page.phase === "backward") {
    each((l, j, n) => { shown.neurons[n] = [`δ ${short(sample.deltas[l][j])}`]; shown.rows.push([`δ_${n}`, sample.deltas[l][j]]); });
    eachParam(grads, (label, value) => { shown.edges[label] = `∂ ${short(value)}`; shown.rows.push([`dE/d${label}`, value]); });
  }
  if (page.phase === "update") {
    eachParam(after, (label, value) => { shown.edges[label] = `→ ${short(value)}`; shown.rows.push([label, value]); });
    shown.rows.push(["loss before", trace.loss_before], ["loss after", trace.loss_after]);
  }
  return shown;
}

function renderDiagram() {
  const state = page.state, svg = $("#diagram");
  svg.replaceChildren();
  const layers = state.network.layers, L = layers.length;
  const sizes = [state.network.inputs, ...layers.map((l) => l.units)];
  const biggest = Math.max(...sizes), col = 230, row = 115, r = 22;
  const width = col * (sizes.length - 1) + 200, height = row * biggest + 70;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const pos = (c, j) => [90 + c * col, 45 + row / 2 + j * row + (biggest - sizes[c]) * row / 2];
  const shown = phaseValues(), labels = labelsOf(state);
  layers.forEach((layer, l) => {
    for (let j = 0; j < layer.units; j++) for (let i = 0; i < sizes[l]; i++) {
      const [x1, y1] = pos(l, i), [x2, y2] = pos(l + 1, j), label = labels[l].w[j][i];
      const g = el("g", { class: "edge", id: `edge-${label}`, "data-label": label });
      // each label ends near its target, the labels of the edges meeting there at staggered distances
      const stagger = sizes[l] > 1 ? 0.4 * i / (sizes[l] - 1) : 0;
      const f = 1 - (r + 6) / Math.hypot(x2 - x1, y2 - y1) - stagger, tx = x1 + f * (x2 - x1), ty = y1 + f * (y2 - y1);
      const angle = Math.atan2(y2 - y1, x2 - x1) * 180 / Math.PI;
      g.append(el("line", { x1: x1 + r, y1, x2: x2 - r, y2 }), el("line", { x1: x1 + r, y1, x2: x2 - r, y2, stroke: "transparent", "stroke-width": 16 }),
               el("text", { class: "weight", x: tx, y: ty - 4, "text-anchor": "end", transform: `rotate(${angle} ${tx} ${ty})` },
                  `${label} ${shown.edges[label] ?? ""}`));
      g.addEventListener("click", () => inspect(label));
      svg.append(g);
    }
  });
  for (let i = 0; i < sizes[0]; i++) {
    const [x, y] = pos(0, i), n = neuronName(-1, i, L);
    const g = el("g", { class: "neuron input", id: `neuron-${n}` });
    const trace = page.traces[page.current];
    const value = trace ? trace.samples[0].input[i] : state.first_sample.input[i];
    g.append(el("circle", { cx: x, cy: y, r }), el("text", { class: "name", x, y: y + 4, "text-anchor": "middle" }, n),
             el("text", { class: "value", x, y: y + r + 14, "text-anchor": "middle" }, short(value)));
    svg.append(g);
  }
  layers.forEach((layer, l) => {
    for (let j = 0; j < layer.units; j++) {
      const [x, y] = pos(l + 1, j), n = neuronName(l, j, L);
      const g = el("g", { class: "neuron", id: `neuron-${n}` });
      g.append(el("circle", { cx: x, cy: y, r }), el("text", { class: "name", x, y: y + 4, "text-anchor": "middle" }, n));
      (shown.neurons[n] || []).forEach((line, k) =>
        g.append(el("text", { class: line.startsWith("δ") ? "delta" : "value", x, y: y + r + 14 + 13 * k, "text-anchor": "middle" }, line)));
      const bias = labels[l].shared || labels[l].b[j];
      if (bias) {
        // above and to the right, away from the labels of the incoming edges, which end at the left
        const b = el("text", { class: "weight", x: x - 6, y: y - r - 6, "text-anchor": "start", id: `bias-${bias}-${j}` }, `${bias} ${shown.edges[bias] ?? ""}`);
        b.style.cursor = "pointer";
        b.addEventListener("click", () => inspect(bias));
        g.append(b);
      }
      svg.append(g);
    }
  });
  const tbody = $("#values tbody");
  tbody.replaceChildren(...shown.rows.map(([symbol, value]) => {
    const tr = document.createElement("tr");
    const a = document.createElement("td"), b = document.createElement("td");
    a.textContent = symbol; b.textContent = fmt(value); b.id = `v-${symbol}`;
    tr.append(a, b);
    return tr;
  }));
}

function render() {
  const trace = page.traces[page.current];
  $("#step-label").textContent = trace ? `— step ${trace.step} (epoch ${trace.epoch}), ${page.phase}` : "— before the first step";
  document.querySelectorAll("[data-phase]").forEach((b) => b.classList.toggle("active", !!trace && b.dataset.phase === page.phase));
  $("#epochs").textContent = page.state.epochs_trained;
  $("#loss").textContent = fmt(page.state.loss);
  $("#test-loss").textContent = page.state.test_loss === null ? "–" : fmt(page.state.test_loss);
  renderDiagram();
  renderCurve();
}

// ---- a parameter: its chain rule, and editing it -------------------------------------------------------------
async function inspect(label) {
  page.selected = label;
  $("#inspector").hidden = false;
  $("#inspector-title").textContent = label;
  $("#param-value").value = fmt(page.state.parameters[label]);
  const trace = page.traces[page.current];
  if (!trace) { $("#derivation").innerHTML = "<p>Take a step to see this parameter's chain rule.</p>"; return; }
  try {
    const { html } = await api("GET", `/api/sessions/${page.id}/steps/${trace.step}/explain?param=${encodeURIComponent(label)}`);
    $("#derivation").innerHTML = html;
  } catch (e) { say(e.message); }
}

async function setParameter(label, value, rerender = true) {
  const { state } = await api("POST", `/api/sessions/${page.id}/parameters`, { label, value });
  page.state = state;
  page.edits[label] = value;
  page.traces = []; page.current = -1; page.phase = "forward";   // steps from here start anew
  if (rerender) { writeUrl(); render(); }
}

// ---- stepping ------------------------------------------------------------------------------------------------
async function takeStep() {
  const { trace, state } = await api("POST", `/api/sessions/${page.id}/step`);
  page.traces.push(trace); page.current = page.traces.length - 1; page.state = state; page.phase = "forward";
  writeUrl();
  render();
}

// ---- training ------------------------------------------------------------------------------------------------
function renderCurve() {
  const svg = $("#curve"), train = page.state.loss_history, test = page.state.test_loss_history;
  svg.replaceChildren();
  if (!train.length) return;
  const all = train.concat(test).filter((v) => v > 0);
  const top = Math.log10(Math.max(...all)), bottom = Math.log10(Math.min(...all));
  const line = (values, colour) => {
    const points = values.map((v, k) => `${10 + 380 * k / Math.max(values.length - 1, 1)},${150 - 140 * (Math.log10(Math.max(v, 1e-12)) - bottom) / Math.max(top - bottom, 1e-9)}`);
    svg.append(el("polyline", { points: points.join(" "), fill: "none", stroke: colour, "stroke-width": 1.5 }));
  };
  line(train, "#204a87");
  if (test.length) line(test, "#c17d11");
  svg.append(el("text", { x: 12, y: 12, "font-size": 10 }, `loss (log scale): train ${fmt(train[train.length - 1])}` +
                                                            (test.length ? `, test ${fmt(test[test.length - 1])}` : "")));
}

async function refreshTraining() {
  const canvas = $("#boundary");
  canvas.hidden = !page.state.inputs_2d || page.state.samples < 8;
  if (canvas.hidden) return;
  const b = await api("GET", `/api/sessions/${page.id}/boundary?resolution=40`);
  const ctx = canvas.getContext("2d"), n = b.x.length, size = canvas.width / n;
  b.values.forEach((rowValues, r) => rowValues.forEach((v, c) => {
    ctx.fillStyle = `rgb(${Math.round(255 - 120 * v)}, ${Math.round(200 - 60 * Math.abs(v - 0.5))}, ${Math.round(135 + 120 * v)})`;
    ctx.fillRect(c * size, canvas.height - (r + 1) * size, size + 1, size + 1);
  }));
  const sx = (x) => (x - b.x[0]) / (b.x[n - 1] - b.x[0]) * canvas.width;
  const sy = (y) => canvas.height - (y - b.y[0]) / (b.y[n - 1] - b.y[0]) * canvas.height;
  b.points.forEach(([x, y], k) => {
    ctx.beginPath(); ctx.arc(sx(x), sy(y), 2.5, 0, 7);
    ctx.fillStyle = b.labels[k] > 0.5 ? "#204a87" : "#c17d11"; ctx.fill();
  });
}

async function trainOnce() {
  const epochs = parseInt($("#speed").value, 10);
  const result = await api("POST", `/api/sessions/${page.id}/train`, { epochs });
  page.state = result.state;
  page.traces = []; page.current = -1; page.phase = "forward";
  writeUrl();
  render();
  await refreshTraining();
}

async function play() {
  page.playing = true;
  $("#play").disabled = true; $("#pause").disabled = false;
  while (page.playing) {
    try { await trainOnce(); } catch (e) { say(e.message); break; }
  }
  stopPlaying();
}

function stopPlaying() {
  page.playing = false;
  $("#play").disabled = false; $("#pause").disabled = true;
}

// ---- wiring --------------------------------------------------------------------------------------------------
async function guarded(fn) { try { say(""); await fn(); } catch (e) { say(e.message); } }

async function main() {
  const { examples } = await api("GET", "/api/examples");
  CHOICES = await api("GET", "/api/choices");     // every hidden activation and loss the engine has
  $("#b-activation").replaceChildren(...CHOICES.activations.map((name) => {
    const option = document.createElement("option");
    option.value = option.textContent = name;
    return option;
  }));
  $("#b-activation").value = "tanh";
  $("#b-loss").replaceChildren(...CHOICES.losses.map(({ name, output_activation, units }) => {
    const option = document.createElement("option");
    option.value = name;
    option.textContent = `${name} (${output_activation}${units > 1 ? `, ${units}` : ""} out)`;
    return option;
  }));
  $("#b-loss").value = "bce";
  $("#example").replaceChildren(...examples.map(({ name, summary }) => {
    const option = document.createElement("option");
    option.value = name; option.textContent = `${name} — ${summary}`.slice(0, 90);
    return option;
  }));
  $("#load-example").onclick = () => guarded(async () => {
    if (!$("#example").value) throw new Error("Example: choose one from the list first");
    await start({ example: $("#example").value });
  });
  $("#build-network").onclick = () => guarded(async () => {
    const spec = buildSetup();
    if ($("#b-data").value === "csv") {
      const file = $("#b-csv").files[0];
      if (!file) throw new Error("CSV: choose a file first");
      if (file.size > 200000) throw new Error(`CSV: expected at most 200000 bytes, got ${file.size}`);
      spec.data = { csv_text: await file.text() };
      spec.network.inputs = (await file.text()).split("\n").find((l) => /^[-\d.]/.test(l.trim())).split(",").length - spec.network.layers.at(-1).units;
    }
    await start({ spec });
  });
  $("#spec-file").onchange = () => guarded(async () => start({ spec_toml: await $("#spec-file").files[0].text() }));
  $("#take-step").onclick = () => guarded(takeStep);
  document.querySelectorAll("[data-phase]").forEach((b) => b.onclick = () => guarded(async () => {
    if (!page.traces.length) await takeStep();
    page.phase = b.dataset.phase; render();
  }));
  $("#previous-step").onclick = () => { if (page.current > 0) { page.current -= 1; render(); } };
  $("#next-step").onclick = () => { if (page.current < page.traces.length - 1) { page.current += 1; render(); } };
  $("#param-set").onclick = () => guarded(async () => {
    const value = Number($("#param-value").value);
    if (!Number.isFinite(value)) throw new Error(`value: expected a number, got ${$("#param-value").value}`);
    await setParameter(page.selected, value);
    await refreshTraining();
  });
  $("#play").onclick = () => play();
  $("#pause").onclick = () => stopPlaying();
  $("#epoch").onclick = () => guarded(async () => { const v = $("#speed").value; $("#speed").value = 1; try { await trainOnce(); } finally { $("#speed").value = v; } });
  $("#speed").oninput = () => { $("#speed-label").textContent = $("#speed").value; };
  const match = location.hash.match(/^#setup=(.*)$/);
  let { setup } = await api("GET", "/api/initial"), edits = {};     // what `chainrule serve SPEC` opened with
  if (match) {
    try { ({ edits = {}, ...setup } = JSON.parse(decodeURIComponent(match[1]))); }
    catch { say("The link's set-up could not be read; showing the mazur example."); setup = { example: "mazur" }; }
  }
  await guarded(() => start(setup, edits));
  document.body.dataset.ready = "true";
}

main();
