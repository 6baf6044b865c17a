// EdgeInference fleet dashboard: plain JS over the fleet's REST API (/api/v1) and its Server-Sent Events.
"use strict";

const state = { token: null, role: null, refreshTimer: null, charts: [], model: null, renders: 0 };
// For tests and curious operators: how often views were drawn in this page load (a reload resets it).
window.__dashboard = state;

const esc = (value) => String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
const ago = (iso) => {
  if (!iso) return "never";
  const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  return s < 60 ? `${s.toFixed(0)} s ago` : s < 3600 ? `${(s / 60).toFixed(0)} min ago` : `${(s / 3600).toFixed(1)} h ago`;
};
const pill = (text, kind) => `<span class="pill ${kind ?? ""}">${esc(text)}</span>`;
const stateKind = (s) => ({ completed: "ok", installed: "ok", running: "", online: "ok", paused: "warn", waiting_approval: "warn", pending: "", installing: "",
  rolled_back: "bad", rolling_back: "bad", failed: "bad", aborted: "bad", offline: "warn" }[s] ?? "");

class Unauthorized extends Error {}

async function api(path, options = {}) {
  const response = await fetch(`/api/v1/${path}`, { ...options, headers: { Authorization: `Bearer ${state.token}`, ...(options.headers ?? {}) } });
  if (response.status === 401) throw new Unauthorized("the token is not accepted");
  const text = await response.text();
  const body = text ? JSON.parse(text) : null;
  if (!response.ok) throw new Error(body?.error ?? `${response.status} ${response.statusText}`);
  return body;
}

function showLogin(message) {
  sessionStorage.removeItem("edgefleet.token");
  state.token = null;
  const main = document.getElementById("main");
  main.replaceChildren(document.getElementById("login").content.cloneNode(true));
  document.getElementById("login-error").textContent = message ?? "";
  document.getElementById("login-form").addEventListener("submit", (e) => {
    e.preventDefault();
    start(document.getElementById("token").value.trim());
  });
}

async function start(token) {
  state.token = token;
  try {
    const me = await api("whoami");
    state.role = me.role;
  } catch (e) {
    showLogin(e.message);
    return;
  }
  sessionStorage.setItem("edgefleet.token", token);
  document.getElementById("who").textContent = `${state.role}`;
  listen();
  render();
}

// Server-Sent Events over fetch (EventSource cannot send the bearer token): any change schedules a redraw.
async function listen() {
  const live = document.getElementById("live");
  for (;;) {
    try {
      const response = await fetch("/api/v1/events", { headers: { Authorization: `Bearer ${state.token}` } });
      if (!response.ok) throw new Error(`${response.status}`);
      live.textContent = "live"; live.classList.add("on");
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (block.split("\n").some((line) => line.startsWith("event:"))) scheduleRender();
        }
      }
    } catch { /* reconnect below */ }
    live.textContent = "reconnecting…"; live.classList.remove("on");
    await new Promise((r) => setTimeout(r, 2000));
  }
}

function scheduleRender() {
  if (state.refreshTimer) return;
  state.refreshTimer = setTimeout(() => { state.refreshTimer = null; render(); }, 250);
}

async function render() {
  if (!state.token) return;
  const route = location.hash.replace(/^#\/?/, "").split("/");
  try {
    if (route[0] === "rollouts" && route[1]) await renderRollout(decodeURIComponent(route[1]));
    else if (route[0] === "devices" && route[1]) await renderDevice(decodeURIComponent(route[1]));
    else await renderOverview();
    state.renders++;
  } catch (e) {
    if (e instanceof Unauthorized) showLogin(e.message);
    else document.getElementById("main").innerHTML = `<div class="card error">${esc(e.message)}</div>`;
  }
}

async function renderOverview() {
  const [devices, rollouts] = await Promise.all([api("devices"), api("rollouts")]);
  const online = devices.filter((d) => d.online).length;
  const versions = new Map(), providers = new Map();
  for (const d of devices) for (const m of d.models ?? []) {
    if (m.state !== "READY") continue;
    const key = `${m.model}@${m.package_version ?? "v" + m.version}`;
    versions.set(key, (versions.get(key) ?? 0) + 1);
    providers.set(m.execution_provider, (providers.get(m.execution_provider) ?? 0) + 1);
  }
  const troubled = devices.filter((d) => Object.values(d.drift ?? {}).some((x) => x.drifted) || (d.latest_telemetry?.models ?? []).some((m) => m.errors > 0));
  document.getElementById("main").innerHTML = `
    <h1>Fleet overview</h1>
    <div class="grid">
      <div class="card"><h2>Devices</h2><div class="big"><span id="devices-online">${online}</span> <span class="muted">online</span></div>
        <div><span id="devices-offline">${devices.length - online}</span> offline, <span id="devices-total">${devices.length}</span> in all</div></div>
      <div class="card"><h2>Model versions</h2><table id="versions"><tr><th>Model</th><th>Version</th><th>Devices</th></tr>
        ${[...versions].sort().map(([k, n]) => { const [model, version] = k.split("@"); return `<tr data-version="${esc(k)}"><td>${esc(model)}</td><td>${esc(version)}</td><td class="count">${n}</td></tr>`; }).join("")}</table></div>
      <div class="card"><h2>Execution providers</h2><table id="providers">${[...providers].map(([p, n]) => `<tr><td>${esc(p)}</td><td>${n} model${n === 1 ? "" : "s"}</td></tr>`).join("") || "<tr><td class=muted>none yet</td></tr>"}</table></div>
      <div class="card"><h2>Drift flags or errors</h2><table id="troubled">${troubled.map((d) => `<tr><td><a href="#/devices/${encodeURIComponent(d.id)}">${esc(d.id)}</a></td><td>${
        Object.entries(d.drift ?? {}).filter(([, x]) => x.drifted).map(([k, x]) => pill(`drift ${k}: ${(x.features ?? []).join(", ")}`, "warn")).join(" ")} ${
        (d.latest_telemetry?.models ?? []).filter((m) => m.errors > 0).map((m) => pill(`${m.errors} errors ${m.model}`, "bad")).join(" ")}</td></tr>`).join("") || "<tr><td class=muted>none</td></tr>"}</table></div>
    </div>
    <div class="card"><h2>Rollouts</h2><table id="rollouts"><tr><th>Rollout</th><th>Model</th><th>State</th><th>Stage</th><th>Devices</th><th>Updated</th></tr>
      ${rollouts.map((v) => `<tr data-rollout="${esc(v.rollout.id)}"><td><a href="#/rollouts/${encodeURIComponent(v.rollout.id)}">${esc(v.rollout.id)}</a></td>
        <td>${esc(v.rollout.model)} ${esc(v.rollout.version)}</td><td>${pill(v.rollout.state, stateKind(v.rollout.state))}</td>
        <td>${v.rollout.stage + 1} of ${v.rollout.stages.length}</td><td>${Object.entries(v.counts ?? {}).map(([s, n]) => `${esc(s)} ${n}`).join(", ")} of ${v.targeted}</td>
        <td>${ago(v.rollout.updated_at)}</td></tr>`).join("") || "<tr><td class=muted colspan=6>no rollouts yet</td></tr>"}</table></div>
    <div class="card"><h2>Devices</h2><table id="devices"><tr><th>Device</th><th>State</th><th>Last seen</th><th>Tags</th><th>Models</th></tr>
      ${devices.map((d) => `<tr data-device="${esc(d.id)}"><td><a href="#/devices/${encodeURIComponent(d.id)}">${esc(d.id)}</a></td><td>${pill(d.online ? "online" : "offline", d.online ? "ok" : "warn")}</td>
        <td>${ago(d.last_seen)}</td><td>${Object.entries(d.tags ?? {}).map(([k, v]) => pill(`${k}=${v}`)).join(" ")}</td>
        <td>${(d.models ?? []).map((m) => `${esc(m.model)} ${esc(m.package_version ?? "v" + m.version)} <span class=muted>${esc(m.execution_provider)}</span>`).join("<br>")}</td></tr>`).join("")}</table></div>`;
}

function stageText(stage) { return stage.count != null ? `${stage.count} device${stage.count === 1 ? "" : "s"}` : `${stage.percent}%`; }

async function renderRollout(id) {
  const view = await api(`rollouts/${encodeURIComponent(id)}`);
  const r = view.rollout;
  // The package's on-device benchmarks, the newest per device (edgefleet models benchmark).
  const benchmarks = [];
  for (const b of await api(`packages/${encodeURIComponent(r.model)}/${encodeURIComponent(r.version)}/benchmarks`).catch(() => [])) {
    if (!benchmarks.some((x) => x.device_id === b.device_id)) benchmarks.push(b);
  }
  const ms = (v) => (v == null ? "" : v.toFixed(3));
  const canAct = state.role === "operator";
  const results = new Map((r.last_gate_results ?? []).map((g) => [g.gate, g]));
  const gateRows = r.gates.map((g) => {
    const name = `${g.metric}${g.operator}${g.threshold}`;
    const result = results.get(name);
    return `<tr data-gate="${esc(g.metric)}"><td>${esc(g.metric)}</td><td>${esc(g.operator)} ${g.threshold}</td><td class="value">${result?.value ?? "no data"}</td>
      <td>${result?.samples ?? 0}</td><td>${result ? pill(result.passed ? "passes" : "fails", result.passed ? "ok" : "bad") : pill("not measured")}</td></tr>`;
  }).join("");
  document.getElementById("main").innerHTML = `
    <h1>Rollout ${esc(r.id)}: ${esc(r.model)} ${esc(r.version)}</h1>
    <div class="card">
      <div>State <span id="rollout-state">${pill(r.state, stateKind(r.state))}</span> · stage <span id="rollout-stage">${r.stage + 1}</span> of ${r.stages.length}
        · ${view.targeted} targeted${r.target ? ` (${esc(r.target)})` : ""} · soak ${esc(r.soak)} · on failure ${esc(r.on_failure)}${r.require_approval ? " · approval per stage" : ""}</div>
      ${r.reason ? `<div class="muted" id="rollout-reason">${esc(r.reason)}</div>` : ""}
      <div class="actions">${["pause", "resume", "promote", "abort", "rollback"].map((a) => `<button data-action="${a}" ${canAct ? "" : "disabled title=\"operators only\""}>${a}</button>`).join("")}</div>
      <div id="action-result" class="muted"></div>
    </div>
    <div class="card"><h2>Stages</h2><div class="stages" id="stages">${r.stages.map((s, i) => {
      const devices = view.devices.filter((d) => d.stage === i);
      return `<div class="stage ${i === r.stage ? "current" : ""}" data-stage="${i}"><b>Stage ${i + 1}</b> <span class="muted">${stageText(s)}</span>
        <table>${devices.map((d) => `<tr data-device="${esc(d.device_id)}"><td><a href="#/devices/${encodeURIComponent(d.device_id)}">${esc(d.device_id)}</a></td>
          <td>${pill(d.state, stateKind(d.state))}</td><td class="muted">${esc(d.reason ?? "")}</td></tr>`).join("") || "<tr><td class=muted>no devices yet</td></tr>"}</table></div>`;
    }).join("")}</div></div>
    <div class="card"><h2>Benchmarks on devices</h2><table id="benchmarks"><tr><th>Device</th><th>State</th><th>Provider</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>Load ms</th><th>Memory</th><th>When</th></tr>
      ${benchmarks.sort((a, b) => a.device_id.localeCompare(b.device_id)).map((b) => `<tr data-device="${esc(b.device_id)}"><td>${esc(b.device_id)}</td>
        <td>${pill(b.state, stateKind(b.state))}${b.result ? "" : ` <span class="muted">${esc(b.message ?? "")}</span>`}</td><td>${esc(b.result?.provider ?? "")}</td>
        <td>${ms(b.result?.p50_ms)}</td><td>${ms(b.result?.p95_ms)}</td><td>${ms(b.result?.p99_ms)}</td><td>${ms(b.result?.load_ms)}</td>
        <td>${b.result ? `+${(b.result.rss_increase_bytes / 1048576).toFixed(1)} MiB` : ""}</td><td>${ago(b.created_at)}</td></tr>`).join("")
        || `<tr><td class=muted colspan=9>none yet: edgefleet models benchmark ${esc(r.model)}@${esc(r.version)} --target …</td></tr>`}</table></div>
    <div class="card"><h2>Gates</h2><table id="gates"><tr><th>Gate</th><th>Threshold</th><th>Value</th><th>Samples</th><th></th></tr>${gateRows}</table></div>
    <div class="card"><h2>History</h2><table id="events"><tr><th>When</th><th>What</th><th>Stage</th><th>Why</th><th>By</th></tr>
      ${view.events.slice().reverse().map((e) => `<tr data-kind="${esc(e.kind)}"><td>${new Date(e.at).toLocaleTimeString()}</td><td>${pill(e.kind, stateKind(e.kind))}</td><td>${e.stage + 1}</td><td>${esc(e.message)}</td><td>${esc(e.by ?? "")}</td></tr>`).join("")}</table></div>`;
  for (const button of document.querySelectorAll("button[data-action]")) {
    button.addEventListener("click", async () => {
      const out = document.getElementById("action-result");
      try {
        await api(`rollouts/${encodeURIComponent(id)}/${button.dataset.action}`, { method: "POST" });
        out.textContent = `${button.dataset.action}: done`;
        scheduleRender();
      } catch (e) {
        out.textContent = `${button.dataset.action}: ${e.message}`;
      }
    });
  }
}

function chart(element, title, series, data, extraSeries = []) {
  const width = Math.max(320, element.clientWidth - 20);
  const plot = new uPlot({ title, width, height: 220, series: [{}, ...series, ...extraSeries], axes: [{}, { size: 60 }] }, data, element);
  state.charts.push(plot);
}

async function renderDevice(id) {
  const [device, history, commands] = await Promise.all([api(`devices/${encodeURIComponent(id)}`), api(`devices/${encodeURIComponent(id)}/history`), api(`devices/${encodeURIComponent(id)}/commands`)]);
  state.charts.forEach((c) => c.destroy()); state.charts = [];
  const models = [...new Set(history.telemetry.flatMap((t) => t.models.map((m) => m.model)))].sort();
  if (!models.includes(state.model)) state.model = models[0] ?? null;
  const deploys = commands.filter((c) => ["deploy", "rollback", "configure"].includes(c.message.command)).reverse();
  document.getElementById("main").innerHTML = `
    <h1>Device ${esc(device.id)}</h1>
    <div class="grid">
      <div class="card"><h2>State</h2>${pill(device.online ? "online" : "offline", device.online ? "ok" : "warn")} last seen ${ago(device.last_seen)}<br>
        agent ${esc(device.agent_version ?? "?")}<br>${Object.entries(device.tags ?? {}).map(([k, v]) => pill(`${k}=${v}`)).join(" ")}
        ${device.desired_configuration ? `<br>configuration ${pill(device.configuration_pending ? "pending" : "applied", device.configuration_pending ? "warn" : "ok")}` : ""}</div>
      <div class="card"><h2>Models</h2><table id="device-models"><tr><th>Model</th><th>Version</th><th>State</th><th>Provider</th></tr>
        ${(device.models ?? []).map((m) => `<tr><td>${esc(m.model)}</td><td>${esc(m.package_version ?? "v" + m.version)}</td><td>${esc(m.state)}</td><td>${esc(m.execution_provider)}</td></tr>`).join("")}</table></div>
    </div>
    <div class="card"><h2>Update history</h2><table id="updates"><tr><th>When</th><th>Command</th><th>Version</th><th>State</th><th>Why</th></tr>
      ${deploys.map((c) => { const last = c.replies?.[c.replies.length - 1]; return `<tr><td>${new Date(c.created_at).toLocaleString()}</td><td>${esc(c.message.command)}</td>
        <td>${esc(last?.version ?? c.message.to_version ?? "")}</td><td>${pill(last?.state ?? c.state, stateKind(last?.state))} ${esc(last?.step ?? "")}</td><td>${esc(last?.reason ?? last?.message ?? c.message.reason ?? "")}</td></tr>`; }).join("") || "<tr><td class=muted colspan=5>none</td></tr>"}</table></div>
    <div class="card">Model <select id="model">${models.map((m) => `<option ${m === state.model ? "selected" : ""}>${esc(m)}</option>`).join("")}</select>
      <span class="muted">${history.telemetry.length} telemetry windows, ${history.drift.length} drift windows kept</span></div>
    <div class="charts" id="charts">${["latency", "throughput", "errors", "process", "outbox", "drift"].map((c) => `<div class="card chart" id="chart-${c}"></div>`).join("")}</div>`;
  document.getElementById("model")?.addEventListener("change", (e) => { state.model = e.target.value; render(); });

  const t = history.telemetry;
  const x = t.map((w) => Date.parse(w.timestamp) / 1000);
  const of = (w) => w.models.find((m) => m.model === state.model);
  chart(document.getElementById("chart-latency"), `Latency of ${state.model ?? "—"} (ms)`, [{ label: "p50", stroke: "#2f6fdf" }, { label: "p95", stroke: "#b7791f" }, { label: "p99", stroke: "#c0392b" }],
    [x, t.map((w) => of(w)?.latency_ms?.p50 ?? null), t.map((w) => of(w)?.latency_ms?.p95 ?? null), t.map((w) => of(w)?.latency_ms?.p99 ?? null)]);
  chart(document.getElementById("chart-throughput"), "Throughput (requests/s)", models.map((m, i) => ({ label: m, stroke: ["#2f6fdf", "#178a4c", "#8e44ad", "#b7791f"][i % 4] })),
    [x, ...models.map((m) => t.map((w) => w.models.find((v) => v.model === m)?.throughput ?? null))]);
  chart(document.getElementById("chart-errors"), "Errors per window", models.map((m, i) => ({ label: m, stroke: ["#c0392b", "#e67e22", "#8e44ad", "#7f8c8d"][i % 4] })),
    [x, ...models.map((m) => t.map((w) => w.models.find((v) => v.model === m)?.errors ?? null))]);
  chart(document.getElementById("chart-process"), "CPU (%) and RSS (MiB)", [{ label: "CPU %", stroke: "#2f6fdf" }, { label: "RSS MiB", stroke: "#178a4c" }],
    [x, t.map((w) => w.process.cpu_percent), t.map((w) => w.process.rss_bytes / 1048576)]);
  chart(document.getElementById("chart-outbox"), "Outbox depth (messages waiting for the broker)", [{ label: "depth", stroke: "#8e44ad" }], [x, t.map((w) => w.outbox.depth)]);

  const drift = history.drift.filter((d) => d.model === state.model);
  const features = [...new Set(drift.flatMap((d) => d.features.map((f) => f.name)))].slice(0, 8);
  const threshold = drift[drift.length - 1]?.thresholds?.psi ?? 0.25;
  const dx = drift.map((d) => Date.parse(d.window_end) / 1000);
  chart(document.getElementById("chart-drift"), `Drift of ${state.model ?? "—"} per feature (PSI; threshold ${threshold})`,
    features.map((f, i) => ({ label: f, stroke: ["#2f6fdf", "#178a4c", "#8e44ad", "#b7791f", "#16a085", "#d35400", "#2c3e50", "#7f8c8d"][i % 8] })),
    [dx, ...features.map((f) => drift.map((d) => d.features.find((v) => v.name === f)?.psi ?? null)), dx.map(() => threshold)],
    [{ label: "threshold", stroke: "#c0392b", dash: [6, 4] }]);
}

window.addEventListener("hashchange", () => render());
{
  const fromLink = /[#&]token=([^&]+)/.exec(location.hash);
  if (fromLink) { history.replaceState(null, "", location.pathname + "#/"); }
  const token = fromLink ? decodeURIComponent(fromLink[1]) : sessionStorage.getItem("edgefleet.token");
  if (token) start(token); else showLogin();
}
