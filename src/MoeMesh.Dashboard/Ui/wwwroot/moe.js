// MoeMesh token-path page. Plain JavaScript, no libraries: polls /api/moe and draws, for each
// Mixture-of-Experts model, its KPIs, a layer × expert routing heat map (SVG) and where its shards
// live. Every piece of text from the mesh is inserted with textContent, never as HTML.
(() => {
  "use strict";

  const state = { intervalMs: 1000, timer: null, failures: 0 };
  const { $, el, svg, formatBytes, setLive, fetchSignedIn } = window.MoeMeshDom;

  const fmt = {
    us(v) {
      if (!v || !isFinite(v)) return "–";
      if (v >= 1000) return (v / 1000).toFixed(v >= 10000 ? 0 : 2) + " ms";
      return (v >= 100 ? v.toFixed(0) : v.toFixed(1)) + " µs";
    },
    bytes: formatBytes,
    count(v) { return Number(v || 0).toLocaleString("en-US"); },
  };

  // Dark panel → accent → violet, the dashboard's own colours.
  const STOPS = [[22, 33, 58], [56, 189, 248], [167, 139, 250]];
  function heat(fraction) {
    const f = Math.max(0, Math.min(1, fraction)) * (STOPS.length - 1);
    const i = Math.min(STOPS.length - 2, Math.floor(f));
    const t = f - i;
    const rgb = STOPS[i].map((c, k) => Math.round(c + (STOPS[i + 1][k] - c) * t));
    return `rgb(${rgb.join(",")})`;
  }

  function showBanner(message) {
    const banner = $("banner");
    banner.hidden = !message;
    banner.className = "banner bad";
    banner.textContent = message || "";
  }

  function kpi(label, value, note, testid) {
    return el("div", { class: "kpi" },
      el("span", { class: "kpi-label", text: label }),
      el("span", { class: "kpi-value", text: value, "data-testid": testid }),
      el("span", { class: "kpi-note", text: note || "" }));
  }

  function kpis(m) {
    const d = m.deviations || {};
    const deviations = (d.skippedExperts || 0) + (d.lowPrecisionExperts || 0);
    return el("section", { class: "kpis", "aria-label": "Token path at a glance" },
      kpi("Generations", fmt.count(m.generations), `${fmt.count(m.tokens)} tokens through the layers`, "moe-generations"),
      kpi("Hop p50", fmt.us(m.hopP50Us), "latest generation", "moe-hop-p50"),
      kpi("Hop p99", fmt.us(m.hopP99Us), "latest generation", "moe-hop-p99"),
      kpi("Bytes per token", fmt.bytes(m.bytesPerToken), `${fmt.bytes(m.frameBytes)} of frames in all`, "moe-bytes-per-token"),
      kpi("Hops", fmt.count(m.hops), "one per (layer, silo) per step", "moe-hops"),
      kpi("Deviations", deviations ? fmt.count(deviations) : "exact",
        deviations ? `${d.skippedExperts || 0} skipped · ${d.lowPrecisionExperts || 0} low precision` : "the gate decided every expert", "moe-deviations"));
  }

  function heatmap(m) {
    const wrap = el("div", { class: "heatmap-wrap" });
    if (!m.layers || !m.experts) {
      wrap.append(el("p", { class: "empty", text: "No generation recorded yet: the heat map fills as tokens pass through the layers." }));
      return wrap;
    }
    const cell = Math.max(10, Math.min(40, Math.floor(760 / m.experts)));
    const left = 58, top = 20;
    const width = left + m.experts * cell + 4, height = top + m.layers * cell + 4;
    const chart = svg("svg", { class: "heatmap", width, height, viewBox: `0 0 ${width} ${height}`, role: "img",
      "aria-label": `Routing counts of ${m.model}: ${m.layers} layers by ${m.experts} experts`, "data-testid": "heatmap" });
    const labelEvery = Math.max(1, Math.ceil(24 / cell));
    for (let e = 0; e < m.experts; e += labelEvery) {
      chart.append(svg("text", { class: "axis", x: left + e * cell + cell / 2, y: top - 6, "text-anchor": "middle" }, String(e)));
    }
    m.routing.forEach((row, layer) => {
      if (layer % labelEvery === 0 || m.layers <= 32) {
        chart.append(svg("text", { class: "axis", x: left - 6, y: top + layer * cell + cell / 2 + 3, "text-anchor": "end" }, `layer ${layer}`));
      }
      const total = row.reduce((a, b) => a + b, 0);
      row.forEach((count, expert) => {
        const rect = svg("rect", {
          class: "cell", x: left + expert * cell, y: top + layer * cell, width: cell, height: cell, rx: 2,
          fill: heat(m.maxCount ? count / m.maxCount : 0),
          "data-testid": "heatmap-cell", "data-layer": layer, "data-expert": expert, "data-count": count,
        });
        const share = total ? ((100 * count) / total).toFixed(1) : "0.0";
        rect.append(svg("title", null, `layer ${layer} · expert ${expert}: ${fmt.count(count)} routed (${share}% of the layer)`));
        chart.append(rect);
      });
    });
    wrap.append(chart, el("div", { class: "legend" },
      el("span", { text: "0" }), el("span", { class: "legend-scale" }), el("span", { text: fmt.count(m.maxCount) + " routed" }),
      el("span", { text: "· columns: experts · rows: layers · hover a cell for its share of the layer" })));
    return wrap;
  }

  function placement(m) {
    const shards = m.shards || [];
    if (!shards.length) {
      return el("p", { class: "empty", text: "No shard is loaded yet: shards load on a silo with the first token that needs them." });
    }
    const body = el("tbody");
    for (const s of shards) {
      const last = s.firstExpert + s.expertCount - 1;
      body.append(el("tr", { "data-testid": "moe-shard-row", "data-silo": s.silo },
        el("td", { class: "num", text: String(s.layer) }),
        el("td", { text: s.expertCount === 1 ? String(s.firstExpert) : `${s.firstExpert}–${last}` }),
        el("td", { class: "num", text: String(s.replica) }),
        el("td", null, el("div", { class: "expert-name", text: s.siloName }), el("div", { class: "expert-id", text: s.silo })),
        el("td", { class: "num", text: fmt.bytes(s.residentBytes) })));
    }
    const silos = new Set(shards.map((s) => s.silo)).size;
    return el("div", null,
      el("p", { class: "moe-sub", text: `${shards.length} shard replicas on ${silos} silo${silos === 1 ? "" : "s"}` }),
      el("div", { class: "table-wrap" }, el("table", { class: "shards" },
        el("thead", null, el("tr", null, el("th", { class: "num", text: "Layer" }), el("th", { text: "Experts" }),
          el("th", { class: "num", text: "Replica" }), el("th", { text: "Silo" }), el("th", { class: "num", text: "Resident" }))),
        body)));
  }

  function renderModel(m) {
    return el("section", { class: "panel moe-model", "data-testid": "moe-model", "data-model": m.model, "aria-label": m.displayName },
      el("div", { class: "panel-head" },
        el("h2", { text: m.displayName }),
        el("span", { class: "panel-note", text: m.layers ? `${m.model} · ${m.layers} MoE layers × ${m.experts} experts` : m.model })),
      kpis(m),
      el("div", { class: "moe-grid" },
        el("div", null, el("p", { class: "moe-sub", text: "Routing counts per layer × expert" }), heatmap(m)),
        el("div", null, el("p", { class: "moe-sub", text: "Where the shards live" }), placement(m))));
  }

  function render(view) {
    const host = $("models");
    host.replaceChildren();
    if (!view.models.length) {
      host.append(el("section", { class: "panel" }, el("p", { class: "empty",
        text: "No Mixture-of-Experts model is in the catalog. Add an expert manifest with engine \"moe\" to a silo." })));
    }
    for (const m of view.models) host.append(renderModel(m));
    showBanner(view.warnings && view.warnings.length ? view.warnings.join(" · ") : null);
  }

  async function poll() {
    clearTimeout(state.timer);
    if (!document.hidden) {
      try {
        const response = await fetchSignedIn("/api/moe", "/moe");
        if (!response) return;
        const body = await response.json();
        if (!response.ok) throw new Error(body && body.error ? body.error.message : `HTTP ${response.status}`);
        render(body);
        state.failures = 0;
        setLive("live", "live");
      } catch (error) {
        state.failures++;
        setLive("down", "mesh not answering");
        showBanner(error.message);
      }
    }
    state.timer = setTimeout(poll, state.failures ? 3000 : state.intervalMs);
  }

  async function start() {
    try {
      const response = await fetchSignedIn("/api/info", "/moe");
      if (!response) return;
      const info = await response.json();
      $("version").textContent = info.version;
      $("logout-link").hidden = !info.keyRequired;
      state.intervalMs = Math.max(500, info.liveIntervalMs * 2);
    } catch { /* poll() reports the state */ }
    document.addEventListener("visibilitychange", () => { if (!document.hidden) poll(); });
    poll();
  }

  start();
})();
