// MoeMesh dashboard. Plain JavaScript, no libraries: the page subscribes to /api/live (server-sent
// events) and redraws the cluster map, the expert table, the charts and the decision feed as events
// arrive. Every piece of text from the mesh is inserted with textContent, never as HTML.
(() => {
  "use strict";

  const MAX_FEED = 60;
  const state = {
    mesh: null,
    decisions: new Map(), // queryId -> record
    order: [],            // queryIds, newest first
    info: null,
    source: null,
    retry: null,
  };

  // ---------- small helpers ----------
  const { $, el, svg, formatBytes, setLive, fetchSignedIn } = window.MoeMeshDom;

  const fmt = {
    ms(v) {
      if (v === null || v === undefined || !isFinite(v)) return "–";
      if (v >= 10000) return (v / 1000).toFixed(1) + " s";
      if (v >= 1000) return (v / 1000).toFixed(2) + " s";
      return (v >= 100 ? v.toFixed(0) : v.toFixed(1)) + " ms";
    },
    j(v) {
      if (v === null || v === undefined || !isFinite(v)) return "–";
      if (v >= 1000) return (v / 1000).toFixed(2) + " kJ";
      if (v >= 100) return v.toFixed(0) + " J";
      if (v >= 1) return v.toFixed(2) + " J";
      if (v >= 0.001) return (v * 1000).toFixed(1) + " mJ";
      return v === 0 ? "0 J" : v.toExponential(1) + " J";
    },
    w(v) { return v === null || v === undefined || !isFinite(v) ? "–" : (v >= 100 ? v.toFixed(0) : v.toFixed(1)) + " W"; },
    bytes: formatBytes,
    num(v, digits) { return v === null || v === undefined || !isFinite(v) ? "–" : Number(v).toFixed(digits); },
    params(v) {
      if (!v) return "";
      if (v >= 1e9) return (v / 1e9).toFixed(v >= 1e10 ? 0 : 1) + "B params";
      if (v >= 1e6) return (v / 1e6).toFixed(0) + "M params";
      return v + " params";
    },
    time(iso) {
      const d = new Date(iso);
      return isNaN(d) ? "" : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
    },
    strategy(s) { return s ? String(s).toLowerCase() : "auto"; },
  };

  const kindLabel = { jetson: "Jetson", desktopGpu: "desktop GPU", cpu: "CPU", cloud: "cloud", server: "server" };

  // ---------- live connection ----------
  function connect() {
    if (state.source) state.source.close();
    setLive("connecting", "connecting");
    const source = new EventSource("/api/live");
    state.source = source;
    source.addEventListener("mesh", (e) => { state.mesh = JSON.parse(e.data); renderMesh(); });
    source.addEventListener("decisions", (e) => { for (const d of JSON.parse(e.data)) addDecision(d, false); renderFeed(); renderErrors(); });
    source.addEventListener("decision", (e) => { addDecision(JSON.parse(e.data), true); renderFeed(); renderErrors(); });
    source.addEventListener("status", (e) => {
      const status = JSON.parse(e.data);
      if (status.connected) setLive("live", "live");
      else setLive("down", "mesh not answering");
      showBanner(status.connected ? null : status.message, "bad");
    });
    source.onopen = () => setLive("live", "live");
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) {
        // A refused or broken stream: check whether the session ended, then try again.
        setLive("down", "reconnecting");
        fetchSignedIn("/api/info", "/").catch(() => {});
        clearTimeout(state.retry);
        state.retry = setTimeout(connect, 3000);
      } else {
        setLive("connecting", "reconnecting");
      }
    };
  }

  let bannerNote = null;
  function showBanner(message, kind) {
    const banner = $("banner");
    const text = message || bannerNote;
    banner.hidden = !text;
    banner.className = "banner" + (message && kind === "bad" ? " bad" : "");
    banner.textContent = text || "";
  }

  // ---------- mesh: KPIs, cluster map, experts, charts ----------
  function renderMesh() {
    const mesh = state.mesh;
    if (!mesh) return;
    renderKpis(mesh);
    renderSilos(mesh.silos || []);
    renderExperts(mesh.experts || []);
    renderCharts(mesh.samples || []);
  }

  function renderKpis(mesh) {
    const silos = mesh.silos || [];
    const active = silos.filter((s) => s.state === "active").length;
    const dead = silos.filter((s) => s.state === "dead").length;
    $("kpi-silos").textContent = `${active} / ${silos.length}`;
    $("kpi-silos-note").textContent = dead ? `${dead} dead` : "all reachable";

    const experts = mesh.experts || [];
    const resident = experts.filter((e) => (e.residentOn || []).length > 0).length;
    $("kpi-experts").textContent = `${resident} / ${experts.length}`;
    $("kpi-experts-note").textContent = `${experts.reduce((n, e) => n + (e.replicas || []).length, 0)} replicas placed`;

    const power = silos.filter((s) => s.state !== "dead").reduce((w, s) => w + (s.powerWatts || 0), 0);
    const meters = [...new Set(silos.map((s) => s.meterKind))].join(", ");
    $("kpi-power").textContent = fmt.w(power);
    $("kpi-power-note").textContent = meters ? `meter: ${meters}` : "";

    const samples = mesh.samples || [];
    const queries = samples.reduce((n, s) => n + (s.queries || 0), 0);
    const violations = samples.reduce((n, s) => n + (s.budgetViolations || 0), 0);
    const weighted = (key) => queries ? samples.reduce((t, s) => t + (s[key] || 0) * (s.queries || 0), 0) / queries : null;
    $("kpi-queries").textContent = String(queries);
    $("kpi-queries-note").textContent = violations ? `${violations} over budget` : "all within budget";
    $("kpi-queries-note").style.color = violations ? "var(--bad)" : "";
    $("kpi-latency").textContent = fmt.ms(weighted("meanLatencyMs"));
    $("kpi-latency-note").textContent = queries ? "weighted by queries" : "no queries yet";
    $("kpi-energy").textContent = fmt.j(weighted("meanEnergyJoules"));
    $("kpi-energy-note").textContent = queries ? "all experts of a query" : "no queries yet";
  }

  function bar(fraction, extra) {
    const fill = el("span");
    fill.style.width = Math.max(0, Math.min(100, fraction * 100)).toFixed(1) + "%";
    return el("div", { class: "bar" + (extra ? " " + extra : "") }, fill);
  }

  function renderSilos(silos) {
    const host = $("silos");
    host.replaceChildren();
    if (!silos.length) {
      host.append(el("p", { class: "empty", text: "No silo has registered yet." }));
      return;
    }
    const sites = new Set(silos.map((s) => s.device.site));
    $("cluster-note").textContent = `${silos.length} silo${silos.length === 1 ? "" : "s"} · ${sites.size} site${sites.size === 1 ? "" : "s"}`;
    for (const s of silos) {
      const dead = s.state === "dead";
      const d = s.device;
      const stateBadge = el("span", {
        class: "badge " + (s.state === "active" ? "good" : dead ? "bad" : "warn"),
        "data-testid": "silo-state",
        text: s.state === "shuttingDown" ? "shutting down" : s.state,
      });
      const powerFraction = s.powerWatts && d.maxPowerWatts ? s.powerWatts / d.maxPowerWatts : 0;
      const memFraction = s.memoryBudgetBytes ? s.memoryUsedBytes / s.memoryBudgetBytes : 0;
      const resident = (s.residentExperts || []).length
        ? el("div", { class: "chips" }, s.residentExperts.map((r) => el("span", { class: "chip", text: r })))
        : el("div", { class: "chips" }, el("span", { class: "chip muted", text: dead ? "nothing (silo is dead)" : "no expert loaded" }));
      host.append(el("article", { class: "silo " + s.state, "data-testid": "silo-card", "data-silo": s.silo },
        el("div", { class: "silo-head" },
          el("div", null,
            el("div", { class: "silo-name", text: d.name }),
            el("div", { class: "silo-meta", title: s.silo, text: `${kindLabel[d.kind] || d.kind} · site ${d.site} · ${s.silo.split("@")[0]}` })),
          stateBadge),
        el("div", { class: "metric" },
          el("span", { class: "metric-label", text: "Power" }),
          bar(powerFraction, "power " + (powerFraction >= 0.8 ? "hot" : powerFraction >= 0.5 ? "warm" : "cool")),
          el("span", { class: "metric-value", text: dead ? "–" : `${fmt.w(s.powerWatts)} / ${fmt.w(d.maxPowerWatts)}` })),
        el("div", { class: "metric" },
          el("span", { class: "metric-label", text: "Memory" }),
          bar(memFraction),
          el("span", { class: "metric-value", text: `${fmt.bytes(s.memoryUsedBytes)} / ${fmt.bytes(s.memoryBudgetBytes)}` })),
        el("div", { class: "metric" },
          el("span", { class: "metric-label", text: "Resident" }),
          resident),
        el("div", { class: "silo-foot" },
          el("span", { text: `meter: ${s.meterKind}${s.meterKind === "model" ? " (estimated)" : ""}`, title: s.meterSource || "" }),
          el("span", { text: `generating: ${s.activeGenerations}` }),
          el("span", {
            class: s.cancelledGenerationsRunning > 0 ? "leak" : null,
            "data-testid": "cancelled-running",
            title: "generations still running although their query was cancelled",
            text: `cancelled, still running: ${s.cancelledGenerationsRunning}`,
          }),
          el("span", { text: `loads ${s.loads} · evictions ${s.evictions}` }))));
    }
  }

  function renderExperts(experts) {
    const body = $("experts");
    body.replaceChildren();
    if (!experts.length) {
      body.append(el("tr", null, el("td", { colspan: 8, class: "empty", text: "No expert is declared by any silo." })));
      return;
    }
    const runs = experts.reduce((n, e) => n + (e.runs || 0), 0);
    $("experts-note").textContent = `${experts.length} experts · ${runs} runs in the monitor's window`;
    for (const e of experts) {
      const replicas = (e.replicas || []).length
        ? e.replicas.map((r) => el("div", { class: "replica", title: r.error || "" },
            el("span", { class: "state-dot " + r.state }),
            el("span", { text: `#${r.replica} ${r.device || r.silo}` }),
            el("span", { class: "expert-id", text: r.state })))
        : [el("span", { class: "expert-id", text: `not placed (wants ${e.replicasWanted || 1})` })];
      body.append(el("tr", { "data-testid": "expert-row", "data-expert": e.id },
        el("td", null,
          el("div", { class: "expert-name", text: e.title }),
          el("div", { class: "expert-id", text: [e.id, e.quantization, fmt.params(e.parameterCount), e.pinned ? "pinned" : ""].filter(Boolean).join(" · ") }),
          (e.skills || []).length ? el("div", { class: "chips expert-skills" }, e.skills.slice(0, 6).map((s) => el("span", { class: "chip skill", text: s }))) : null),
        el("td", null, replicas),
        el("td", { class: "num" }, el("span", { class: "load" + (e.load > 0 ? " busy" : ""), text: String(e.load || 0) })),
        el("td", { class: "num", text: e.failures ? `${e.runs} (${e.failures} failed)` : String(e.runs || 0) }),
        el("td", { class: "num", text: e.runs ? fmt.ms(e.p50LatencyMs) : "–" }),
        el("td", { class: "num", text: e.runs ? fmt.ms(e.p99LatencyMs) : "–" }),
        el("td", { class: "num", text: e.tokensPerSecond ? fmt.num(e.tokensPerSecond, 1) : "–" }),
        el("td", { class: "num", text: e.joulesPerToken ? fmt.j(e.joulesPerToken) : "–" })));
    }
  }

  // ---------- charts (inline SVG) ----------
  function renderCharts(all) {
    // A young mesh has a short history: show from shortly before the first query, at least two minutes.
    const first = all.findIndex((s) => s.queries > 0);
    const start = first < 0 ? Math.max(0, all.length - 24) : Math.max(0, Math.min(first - 2, all.length - 24));
    const samples = all.slice(start);
    const seconds = samples.length * 5;
    const span = seconds >= 120 ? `${Math.round(seconds / 60)} min` : `${seconds} s`;
    $("charts-note").textContent = `last ${span} · 5-second buckets`;
    const options = { span };
    chart("chart-qps", samples.map((s) => s.queriesPerSecond || 0), { ...options, color: "#38bdf8", format: (v) => fmt.num(v, 2) + "/s" });
    chart("chart-latency", samples.map((s) => (s.queries ? s.meanLatencyMs : null)), { ...options, color: "#a78bfa", format: fmt.ms });
    chart("chart-energy", samples.map((s) => (s.queries ? s.meanEnergyJoules : null)), { ...options, color: "#34d399", format: fmt.j });
    chart("chart-violations", samples.map((s) => s.budgetViolations || 0), { ...options, color: "#f87171", format: (v) => String(Math.round(v)), bars: true, zero: "0" });
  }

  function chart(id, values, options) {
    const figure = $(id);
    const W = 300, H = 92, top = 8, bottom = 14, left = 2, right = 2;
    const n = values.length;
    const present = values.filter((v) => v !== null && isFinite(v));
    const max = Math.max(...present, 0) || 1;
    const x = (i) => left + (n <= 1 ? 0 : (i / (n - 1)) * (W - left - right));
    const y = (v) => top + (1 - v / max) * (H - top - bottom);
    const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none", role: "img" });
    for (const f of [0, 0.5, 1]) root.append(svg("line", { class: "grid", x1: 0, x2: W, y1: y(max * f), y2: y(max * f) }));

    if (options.bars) {
      const w = Math.max(1, (W - left - right) / Math.max(n, 1) - 0.6);
      values.forEach((v, i) => {
        if (!v) return;
        root.append(svg("rect", { x: x(i) - w / 2, y: y(v), width: w, height: H - bottom - y(v), fill: options.color, rx: 1 }));
      });
    } else {
      // Segments between missing points are left open rather than drawn through zero.
      let line = "", area = "", open = false, startX = 0, lastX = 0;
      values.forEach((v, i) => {
        if (v === null || !isFinite(v)) {
          if (open) { area += `L${lastX},${H - bottom} L${startX},${H - bottom} Z `; open = false; }
          return;
        }
        const px = x(i), py = y(v);
        if (!open) { line += `M${px},${py} `; area += `M${px},${H - bottom} L${px},${py} `; startX = px; open = true; }
        else { line += `L${px},${py} `; area += `L${px},${py} `; }
        lastX = px;
      });
      if (open) area += `L${lastX},${H - bottom} L${startX},${H - bottom} Z`;
      if (area) root.append(svg("path", { d: area, fill: options.color, "fill-opacity": 0.14, stroke: "none" }));
      if (line) root.append(svg("path", { d: line, fill: "none", stroke: options.color, "stroke-width": 1.6, "vector-effect": "non-scaling-stroke", "stroke-linejoin": "round" }));
      // A lone point would be invisible as a line.
      values.forEach((v, i) => {
        const prev = values[i - 1], next = values[i + 1];
        if (v !== null && isFinite(v) && (prev === null || prev === undefined) && (next === null || next === undefined)) {
          root.append(svg("circle", { cx: x(i), cy: y(v), r: 2.2, fill: options.color }));
        }
      });
    }

    root.append(
      svg("text", { class: "axis", x: W - 2, y: 9, "text-anchor": "end" }, present.length ? options.format(max) : ""),
      svg("text", { class: "axis", x: 2, y: H - 2 }, "−" + options.span),
      svg("text", { class: "axis", x: W - 2, y: H - 2, "text-anchor": "end" }, "now"));

    figure.querySelector(".chart-body").replaceChildren(root);
    const latest = [...values].reverse().find((v) => v !== null && isFinite(v) && v !== 0);
    figure.querySelector(".chart-now").textContent = latest === undefined ? (options.zero || "–") : options.format(latest);
  }

  // ---------- decision feed ----------
  function addDecision(decision, fresh) {
    if (state.decisions.has(decision.queryId)) return;
    decision._fresh = fresh;
    state.decisions.set(decision.queryId, decision);
    state.order.unshift(decision.queryId);
    state.order.sort((a, b) => new Date(state.decisions.get(b).at) - new Date(state.decisions.get(a).at));
    while (state.order.length > MAX_FEED) state.decisions.delete(state.order.pop());
  }

  function versus(predicted, measured, format, budget) {
    const over = budget !== null && budget !== undefined && measured > budget;
    return el("span", { class: "versus", title: "predicted → measured" },
      el("span", { class: "pred", text: format(predicted) }), " → ",
      el("span", { class: over ? "over" : "", text: format(measured) }));
  }

  function renderFeed() {
    const feed = $("feed");
    const existing = new Map([...feed.querySelectorAll(".decision")].map((n) => [n.dataset.queryId, n]));
    const nodes = state.order.map((id) => existing.get(id) || decisionNode(state.decisions.get(id)));
    feed.replaceChildren(...nodes);
    if (!nodes.length) feed.append(el("p", { class: "empty", text: "No queries yet. Send one to /v1/chat/completions or ask above." }));
    $("feed-note").textContent = nodes.length ? `${nodes.length} shown · live` : "live";
  }

  // Prediction error per query, oldest first, as the median of a short window so one outlier does not hide the trend.
  function renderErrors() {
    const done = [...state.order].reverse().map((id) => state.decisions.get(id)).filter((d) => !d.error);
    const error = (p, m) => (m > 0 ? Math.abs(p - m) / m : null);
    const smooth = (values) => values.map((_, i) => {
      const w = values.slice(Math.max(0, i - 4), i + 1).filter((v) => v !== null).sort((a, b) => a - b);
      return w.length ? w[Math.floor((w.length - 1) / 2)] : null;
    });
    const options = { span: `${done.length} queries`, format: (v) => fmt.num(v * 100, 0) + "%" };
    chart("chart-latency-error", smooth(done.map((d) => error(d.predictedLatencyMs, d.measuredLatencyMs))), { ...options, color: "#fbbf24" });
    chart("chart-energy-error", smooth(done.map((d) => error(d.predictedEnergyJoules, d.measuredEnergyJoules))), { ...options, color: "#fb923c" });
  }

  // The model meter estimates energy from the device profile; say so wherever its figures appear.
  const estimated = (runs) => (runs || []).some((r) => !r.energyMeter || r.energyMeter === "model");

  function decisionNode(d) {
    const failed = !!d.error;
    const budgetBadge = failed
      ? el("span", { class: "badge bad", text: "failed" })
      : d.budgetMet
        ? el("span", { class: "badge good", "data-testid": "budget", text: "budget met" })
        : el("span", { class: "badge bad", "data-testid": "budget", text: d.feasible ? "over budget" : "no feasible plan" });
    const runs = (d.runs || []).map((r) => el("tr", null,
      el("td", null, el("span", { class: "expert", text: r.expertId }), r.role === "aggregator" ? el("span", { class: "expert-id", text: " (aggregator)" }) : null),
      el("td", { class: "where", text: r.deviceName || r.silo || "" }),
      el("td", null, versus(r.predictedLatencyMs, r.latencyMs, fmt.ms, null)),
      el("td", { title: estimated([r]) ? "estimated by the device-profile model meter" : `measured by ${r.energyMeter}` }, versus(r.predictedEnergyJoules, r.energyJoules, fmt.j, null), estimated([r]) ? el("span", { class: "expert-id", text: " est." }) : null),
      el("td", { class: "where", text: r.outcome === "completed" ? "" : r.outcome })));
    const budgets = [];
    if (d.latencyBudgetMs) budgets.push(`latency ≤ ${fmt.ms(d.latencyBudgetMs)}`);
    if (d.energyBudgetJoules) budgets.push(`energy ≤ ${fmt.j(d.energyBudgetJoules)}`);
    const node = el("article", { class: "decision" + (d._fresh ? " fresh" : "") + (failed ? " failed" : ""), "data-testid": "decision", "data-query-id": d.queryId, title: d.rationale || "" },
      el("div", { class: "decision-head" },
        el("span", { class: "decision-time", text: fmt.time(d.at) }),
        el("span", { class: "badge info", text: fmt.strategy(d.strategy) }),
        d.combination && !failed ? el("span", { class: "badge violet", text: d.combination }) : null,
        budgetBadge),
      el("div", { class: "decision-excerpt", "data-testid": "decision-excerpt", text: d.excerpt || "(no text)" }),
      (d.skills || []).length ? el("div", { class: "chips" }, d.skills.map((s) => el("span", { class: "chip skill", text: s }))) : null,
      runs.length ? el("table", { class: "runs" },
        el("thead", null, el("tr", null, el("th", { text: "expert" }), el("th", { text: "silo" }), el("th", { text: "latency" }), el("th", { text: "energy" }), el("th"))),
        el("tbody", null, runs)) : null,
      failed ? el("div", { class: "decision-error", text: d.error }) : null,
      el("div", { class: "decision-foot" },
        el("span", null, "latency ", el("b", null, versus(d.predictedLatencyMs, d.measuredLatencyMs, fmt.ms, d.latencyBudgetMs))),
        el("span", null, estimated(d.runs) ? "energy (estimated) " : "energy ", el("b", null, versus(d.predictedEnergyJoules, d.measuredEnergyJoules, fmt.j, d.energyBudgetJoules))),
        budgets.length ? el("span", { text: budgets.join(" · ") }) : el("span", { text: "no budget" })));
    d._fresh = false;
    return node;
  }

  // ---------- ask box ----------
  async function loadModels() {
    try {
      const response = await fetch("/v1/models", { credentials: "same-origin" });
      if (!response.ok) return;
      const list = await response.json();
      const select = $("ask-model");
      select.replaceChildren(...list.data.map((m) => el("option", { value: m.id, text: m.owned_by === "moemesh" ? m.id : `${m.id} (expert)` })));
    } catch { /* the select keeps its default */ }
  }

  async function ask(event) {
    event.preventDefault();
    const prompt = $("ask-prompt").value.trim();
    if (!prompt) return;
    const body = { model: $("ask-model").value, messages: [{ role: "user", content: prompt }], stream: true };
    const k = $("ask-k").value, ms = $("ask-budget-ms").value, j = $("ask-budget-j").value;
    if (k) body.k = Number(k);
    if (ms) body.budget_ms = Number(ms);
    if (j) body.budget_j = Number(j);

    const answer = $("ask-answer"), summary = $("ask-summary"), button = $("ask-send");
    $("ask-output").hidden = false;
    answer.textContent = "";
    summary.textContent = "asking…";
    summary.className = "ask-summary";
    button.disabled = true;
    try {
      const response = await fetch("/v1/chat/completions", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
        body: JSON.stringify(body),
      });
      if (!response.ok) {
        const error = await response.json().catch(() => null);
        throw new Error(error && error.error ? error.error.message : `HTTP ${response.status}`);
      }
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const frame = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          for (const line of frame.split("\n")) {
            if (!line.startsWith("data: ")) continue;
            const data = line.slice(6);
            if (data === "[DONE]") continue;
            const chunk = JSON.parse(data);
            if (chunk.error) throw new Error(chunk.error.message);
            const delta = chunk.choices && chunk.choices[0] && chunk.choices[0].delta;
            if (delta && delta.content) answer.textContent += delta.content;
            if (chunk.moemesh && chunk.moemesh.plan) {
              summary.textContent = `plan: ${chunk.moemesh.plan.steps.map((s) => `${s.expert} on ${s.device || s.silo}`).join(", ")}`;
            }
            if (chunk.moemesh && chunk.moemesh.runs) {
              const m = chunk.moemesh;
              summary.textContent = `${m.strategy} · ${m.runs.map((r) => r.expert).join(", ")} · ${fmt.ms(m.latency_ms)} · ${fmt.j(m.energy_j)} · ${m.budget_met ? "budget met" : "over budget"}`;
            }
          }
        }
      }
    } catch (error) {
      summary.textContent = error.message;
      summary.className = "ask-summary bad";
    } finally {
      button.disabled = false;
    }
  }

  // ---------- start ----------
  async function start() {
    $("ask").addEventListener("submit", ask);
    try {
      const response = await fetchSignedIn("/api/info", "/");
      if (!response) return;
      const info = await response.json();
      state.info = info;
      $("version").textContent = info.version;
      $("listen").textContent = "listening on " + info.listen.join(", ");
      $("orleans-link").hidden = !info.orleansDashboard;
      $("logout-link").hidden = !info.keyRequired;
      const security = $("security");
      if (info.keyRequired) {
        security.className = "badge good";
        security.textContent = "API key required";
      } else {
        security.className = "badge warn";
        security.textContent = "no API key · loopback only";
        bannerNote = "No API key is configured (MoeMesh:Dashboard:ApiKeys), so the dashboard and API listen on 127.0.0.1 only. Set a key to open them to the network.";
        showBanner(null);
      }
    } catch { /* the live stream reports the state */ }
    connect();
    loadModels();
  }

  start();
})();
