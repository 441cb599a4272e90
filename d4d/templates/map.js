/* d4d map: filters, search, overlays, grouping and the side panel.
 *
 * Data comes only from the application/json blocks of the page. Nothing from the data is ever
 * parsed as HTML: text goes in with textContent / Node.append(string), links only for http(s)
 * URLs, and vis-network is given no "title" (tooltips are ours, built from text). */
(function () {
  "use strict";

  function readJson(id) { return JSON.parse(document.getElementById(id).textContent); }
  const NODES = readJson("d4d-nodes");
  const EDGES = readJson("d4d-edges");
  const META = readJson("d4d-meta");
  // pyvis hands its template the options already serialised; tojson wrapped that string once more.
  const OPTIONS = JSON.parse(readJson("d4d-options"));
  const DETAILS = META.details;
  const FACTS = META.facts;
  const GROUPS = META.groups;
  const PHYSICS = Boolean(OPTIONS.physics && OPTIONS.physics.enabled);

  const DIM_NODE = "#e4e7eb";
  const DIM_FONT = "#b8bec5";
  const DIM_GROUP = "rgba(228, 231, 235, 0.35)";
  const DIM_EDGE = "#eceef1";
  const FONT = "#1f2328";
  const BROKER_BORDER = "#111111";
  const AGG_EDGE = "#9aa3ad";
  const REC_EDGE = "#8250df";

  const sectorLabel = new Map(META.legend.sectors.map((s) => [s.key, s.label]));
  const kindLabel = new Map(META.legend.kinds.map((k) => [k.key, k.label]));
  const typeStyle = new Map(META.legend.edgeTypes.map((t) => [t.key, t]));

  // --- small DOM helpers (text only) ----------------------------------------------------------
  function el(tag, props, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (key === "text") node.textContent = value;
      else if (key === "className") node.className = value;
      else node.setAttribute(key, value);
    }
    for (const child of children || []) if (child !== null && child !== undefined) node.append(child);
    return node;
  }
  function webUrl(value) {
    if (typeof value !== "string") return null;
    try {
      const url = new URL(value);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (error) {
      return null;
    }
  }
  function link(url, text) {
    const safe = webUrl(url);
    if (!safe) return document.createTextNode(text || "");
    return el("a", { href: safe, target: "_blank", rel: "noopener noreferrer nofollow", text: text || safe });
  }
  function fmt(number) {
    if (number === null || number === undefined) return "";
    if (Number.isInteger(number)) return number.toLocaleString("en");
    return Math.abs(number) >= 100 ? Math.round(number).toLocaleString("en") : number.toPrecision(3);
  }

  // --- indexes ---------------------------------------------------------------------------------
  const incident = NODES.map(() => []);
  for (const edge of EDGES) {
    incident[edge.from].push(edge.id);
    if (edge.to !== edge.from) incident[edge.to].push(edge.id);
  }
  // Ties between collapsed groups are drawn in the groups' scale: a log step of count per unit.
  const radii = GROUPS.map((g) => g.radius).sort((a, b) => a - b);
  const AGG_WIDTH = Math.max(1, (radii.length ? radii[radii.length >> 1] : 0) * 0.012);
  const groupTotal = GROUPS.map(() => 0);
  for (const node of NODES) groupTotal[node.group] += 1;
  const searchIndex = NODES.map((node) => node.label.toLowerCase());

  // --- state ---------------------------------------------------------------------------------
  const state = {
    hiddenTypes: new Set(), hiddenSectors: new Set(), hiddenKinds: new Set(),
    year: META.years ? META.years[1] : null,
    expanded: new Set(),
    overlays: { communities: false, brokers: false, recommended: false },
    selected: null, // {type: "node" | "edge", id}
  };

  function nodeVisible(i) {
    const node = NODES[i];
    if (state.hiddenKinds.has(node.kind)) return false;
    if (!node.sectors.some((s) => !state.hiddenSectors.has(s))) return false;
    if (state.year !== null && node.founded !== null && node.founded > state.year) return false;
    return true;
  }
  function edgePasses(edge) {
    return !state.hiddenTypes.has(edge.type) && (state.year === null || edge.year === null || edge.year <= state.year);
  }
  function collapsed(i) { return META.aggregated && !state.expanded.has(NODES[i].group); }
  function displayId(i) { return collapsed(i) ? "g" + NODES[i].group : i; }

  // --- what is drawn -------------------------------------------------------------------------
  function communityColour(i) {
    const c = DETAILS[i].community;
    return c === null || c === undefined ? "#9e9e9e" : META.communityColours[c % META.communityColours.length];
  }

  function compute() {
    const visible = new Uint8Array(NODES.length);
    const shownNodes = [];
    const groupCounts = new Map();
    for (let i = 0; i < NODES.length; i++) {
      if (!nodeVisible(i)) continue;
      visible[i] = 1;
      if (collapsed(i)) groupCounts.set(NODES[i].group, (groupCounts.get(NODES[i].group) || 0) + 1);
      else shownNodes.push(i);
    }
    const shownEdges = [];
    const aggregate = new Map();
    for (const edge of EDGES) {
      if (!visible[edge.from] || !visible[edge.to] || !edgePasses(edge)) continue;
      const a = displayId(edge.from);
      const b = displayId(edge.to);
      if (typeof a === "number" && typeof b === "number") shownEdges.push(edge.id);
      else if (a !== b) {
        const key = String(a) < String(b) ? a + "|" + b : b + "|" + a;
        const entry = aggregate.get(key) || { from: a, to: b, count: 0 };
        entry.count += 1;
        aggregate.set(key, entry);
      }
    }
    const recommended = [];
    if (state.overlays.recommended) {
      META.recommendations.forEach((rec, k) => {
        if (visible[rec.from] && visible[rec.to] && !collapsed(rec.from) && !collapsed(rec.to)) recommended.push(k);
      });
    }
    return { visible, shownNodes, groupCounts, shownEdges, aggregate, recommended };
  }

  function neighbourhood(view) {
    const sel = state.selected;
    if (!sel) return null;
    const near = new Set();
    const edges = new Set();
    if (sel.type === "node") {
      near.add(sel.id);
      for (const id of incident[sel.id]) {
        const edge = EDGES[id];
        if (!view.visible[edge.from] || !view.visible[edge.to] || !edgePasses(edge)) continue;
        edges.add(id);
        near.add(displayId(edge.from));
        near.add(displayId(edge.to));
      }
    } else if (sel.type === "edge") {
      const edge = EDGES[sel.id];
      edges.add(sel.id);
      near.add(edge.from);
      near.add(edge.to);
    }
    return { near, edges };
  }

  function nodeColour(background, border) {
    return { background, border, highlight: { background, border: "#0969da" }, hover: { background, border } };
  }

  function nodeRecord(i, focus) {
    const node = NODES[i];
    let background = state.overlays.communities ? communityColour(i) : node.color;
    let border = "#ffffff";
    let borderWidth = 1;
    let fontColour = FONT;
    if (state.overlays.brokers && DETAILS[i].broker) { border = BROKER_BORDER; borderWidth = 5; }
    if (focus && !focus.near.has(i)) { background = DIM_NODE; border = DIM_NODE; fontColour = DIM_FONT; borderWidth = 1; }
    if (i === META.focus) { border = BROKER_BORDER; borderWidth = Math.max(borderWidth, 3); }
    const record = {
      id: i, label: node.label, size: node.size, shape: node.shape,
      color: nodeColour(background, border), borderWidth, font: { color: fontColour },
    };
    record.x = node.x; record.y = node.y;
    return record;
  }

  // A collapsed group is drawn as the disc its actors occupy when shown (its area shrinks
  // with the share of them that the filters leave), labelled large enough to read at "fit".
  function groupRecord(g, count, focus) {
    const group = GROUPS[g];
    const dim = focus && !focus.near.has("g" + g);
    const colour = dim ? DIM_GROUP : group.color;
    return {
      id: "g" + g, label: group.label + " (" + count.toLocaleString("en") + ")",
      x: group.x, y: group.y, shape: "dot",
      size: Math.round(Math.max(20, group.radius * Math.sqrt(count / groupTotal[g]))),
      color: nodeColour(colour, dim ? DIM_GROUP : "#ffffff"), borderWidth: 2,
      font: { color: dim ? DIM_FONT : FONT, size: Math.round(Math.max(18, group.radius * 0.18)) },
    };
  }

  function edgeRecord(id, focus) {
    const edge = EDGES[id];
    const colour = focus && !focus.edges.has(id) ? DIM_EDGE : edge.color;
    return {
      id, from: edge.from, to: edge.to, arrows: edge.arrows, dashes: edge.dashes, width: edge.width,
      smooth: edge.smooth, color: { color: colour, highlight: edge.color, hover: edge.color, opacity: 1 },
    };
  }

  const nodes = new vis.DataSet();
  const edges = new vis.DataSet();
  const shown = { nodes: new Map(), edges: new Map() };

  function syncSet(dataset, memo, records) {
    const wanted = new Set();
    const changed = [];
    for (const record of records) {
      wanted.add(record.id);
      const signature = JSON.stringify(record);
      if (memo.get(record.id) !== signature) {
        const update = Object.assign({}, record);
        // With physics on, keep the positions the simulation found for nodes already drawn.
        if (PHYSICS && memo.has(record.id)) { delete update.x; delete update.y; }
        changed.push(update);
        memo.set(record.id, signature);
      }
    }
    const gone = [];
    for (const id of memo.keys()) if (!wanted.has(id)) gone.push(id);
    for (const id of gone) memo.delete(id);
    if (gone.length) dataset.remove(gone);
    if (changed.length) dataset.update(changed);
  }

  let lastView = null;
  function render() {
    const view = compute();
    const focus = neighbourhood(view);
    const nodeRecords = view.shownNodes.map((i) => nodeRecord(i, focus));
    for (const [g, count] of [...view.groupCounts.entries()].sort((a, b) => a[0] - b[0])) {
      nodeRecords.push(groupRecord(g, count, focus));
    }
    const edgeRecords = view.shownEdges.map((id) => edgeRecord(id, focus));
    for (const [key, entry] of view.aggregate) {
      const dim = focus && !(state.selected.type === "node" && (entry.from === state.selected.id || entry.to === state.selected.id));
      // Between two groups: as wide as the groups are big; from an actor to a group: a thin line.
      const unit = typeof entry.from === "string" && typeof entry.to === "string" ? AGG_WIDTH : 1;
      edgeRecords.push({
        id: "a" + key, from: entry.from, to: entry.to, arrows: "", dashes: false,
        width: Math.round(unit * (1 + Math.log2(entry.count)) * 10) / 10, smooth: false,
        color: { color: dim ? DIM_EDGE : AGG_EDGE, highlight: AGG_EDGE, hover: AGG_EDGE, opacity: 0.8 },
      });
    }
    for (const k of view.recommended) {
      const rec = META.recommendations[k];
      const dim = focus && !(state.selected.type === "node" && (rec.from === state.selected.id || rec.to === state.selected.id));
      const colour = dim ? DIM_EDGE : REC_EDGE;
      edgeRecords.push({
        id: "r" + k, from: rec.from, to: rec.to, arrows: "", dashes: [8, 6], width: 2.5,
        smooth: { enabled: true, type: "curvedCW", roundness: 0.25 },
        color: { color: colour, highlight: REC_EDGE, hover: REC_EDGE, opacity: 1 },
      });
    }
    syncSet(nodes, shown.nodes, nodeRecords);
    syncSet(edges, shown.edges, edgeRecords);
    lastView = view;
    document.getElementById("d4d-collapse").hidden = !(META.aggregated && state.expanded.size > 0);
  }

  // --- tooltip -------------------------------------------------------------------------------
  const tooltip = document.getElementById("d4d-tooltip");
  const container = document.getElementById("mynetwork");
  function tooltipLines(kind, id) {
    if (kind === "node") {
      if (typeof id === "string" && id[0] === "g") {
        const g = Number(id.slice(1));
        return [GROUPS[g].label, (lastView.groupCounts.get(g) || 0).toLocaleString("en") + " actors. Click to show them."];
      }
      const node = NODES[id];
      return [node.label, [kindLabel.get(node.kind) || node.kind, ...node.sectors.map((s) => sectorLabel.get(s) || s)].join(" · ")];
    }
    if (typeof id === "string" && id[0] === "a") {
      const entry = lastView.aggregate.get(id.slice(1));
      const end = (x) => (typeof x === "string" ? GROUPS[Number(x.slice(1))].label : NODES[x].label);
      return [entry.count.toLocaleString("en") + (entry.count === 1 ? " tie" : " ties"), end(entry.from) + " — " + end(entry.to)];
    }
    if (typeof id === "string" && id[0] === "r") {
      const rec = META.recommendations[Number(id.slice(1))];
      return ["Recommended tie: " + NODES[rec.from].label + " — " + NODES[rec.to].label, rec.reason];
    }
    const edge = EDGES[id];
    const style = typeStyle.get(edge.type);
    const parts = [edge.year !== null ? String(edge.year) : "", edge.amount !== null ? fmt(edge.amount) + (edge.currency ? " " + edge.currency : "") : ""];
    return [(style ? style.label : edge.type) + ": " + NODES[edge.from].label + (edge.arrows ? " → " : " — ") + NODES[edge.to].label,
      parts.filter(Boolean).join(" · ")];
  }
  function showTooltip(kind, params) {
    const [head, sub] = tooltipLines(kind, kind === "node" ? params.node : params.edge);
    tooltip.replaceChildren(el("strong", { text: head }), sub ? el("small", { text: sub }) : null);
    const box = container.getBoundingClientRect();
    const x = Math.min(box.left + params.pointer.DOM.x + 14, window.innerWidth - 330);
    tooltip.style.left = Math.max(0, x) + "px";
    tooltip.style.top = box.top + params.pointer.DOM.y + 14 + "px";
    tooltip.hidden = false;
  }
  function hideTooltip() { tooltip.hidden = true; }

  // --- side panel ----------------------------------------------------------------------------
  const panelBody = document.getElementById("d4d-panel-body");
  const panelEmpty = document.getElementById("d4d-panel-empty");

  function factBlock(index) {
    const fact = FACTS[index];
    const block = el("div", { className: "d4d-fact" });
    if (fact.type) block.append(el("span", { className: "d4d-badge", text: (typeStyle.get(fact.type) || {}).label || fact.type }));
    if (fact.text) block.append(el("p", { text: fact.text }));
    if (fact.quote) block.append(el("blockquote", { text: fact.quote }));
    if (fact.source_title || fact.source_url) {
      block.append(el("p", { className: "d4d-source" }, ["Source: ", link(fact.source_url, fact.source_title)]));
    }
    return block;
  }

  function nodeButton(i) {
    const button = el("button", { type: "button", text: NODES[i].label });
    button.addEventListener("click", () => pick(i));
    return button;
  }

  function showNode(i) {
    const node = NODES[i];
    const detail = DETAILS[i];
    const body = [el("h2", { text: node.label })];
    body.push(el("p", { className: "d4d-sub", text: [kindLabel.get(node.kind) || node.kind,
      ...node.sectors.map((s) => sectorLabel.get(s) || s)].join(" · ") }));
    const badges = el("p");
    if (detail.broker) badges.append(el("span", { className: "d4d-badge", text: "Broker" }));
    if (detail.role) badges.append(el("span", { className: "d4d-badge", text: detail.role.replace(/_/g, " ") }));
    if (detail.community !== null && detail.community !== undefined) badges.append(el("span", { className: "d4d-badge", text: "Community " + detail.community }));
    if (badges.childNodes.length) body.push(badges);
    if (detail.description) body.push(el("p", { text: detail.description }));
    const facts = el("dl");
    const row = (term, value) => facts.append(el("dt", { text: term }), el("dd", {}, [value]));
    if (node.founded !== null) row("Founded", String(node.founded));
    if (detail.url) row("Website", link(detail.url, detail.url));
    row("Ties", String(incident[i].length));
    for (const [name, value] of Object.entries(detail.metrics)) row(name.replace(/_/g, " "), fmt(value));
    body.push(facts);
    body.push(el("p", { className: "d4d-iri", text: detail.iri }));
    if (incident[i].length) {
      body.push(el("h3", { text: "Ties (" + incident[i].length + ")" }));
      const list = el("ul", { className: "d4d-ties" });
      for (const id of incident[i].slice(0, 300)) {
        const edge = EDGES[id];
        const other = edge.from === i ? edge.to : edge.from;
        const style = typeStyle.get(edge.type);
        const arrow = edge.arrows ? (edge.from === i ? " → " : " ← ") : " — ";
        const years = edge.year !== null ? " (" + edge.year + ")" : "";
        list.append(el("li", {}, [(style ? style.label : edge.type) + arrow, nodeButton(other), years]));
      }
      if (incident[i].length > 300) list.append(el("li", { text: "… and " + (incident[i].length - 300) + " more" }));
      body.push(list);
    }
    const recommended = META.recommendations.filter((rec) => rec.from === i || rec.to === i);
    if (recommended.length) {
      body.push(el("h3", { text: "Recommended ties (" + recommended.length + ")" }));
      body.push(el("ul", { className: "d4d-ties" }, recommended.map((rec) =>
        el("li", {}, [nodeButton(rec.from === i ? rec.to : rec.from), rec.reason ? ": " + rec.reason : ""]))));
    }
    if (detail.facts.length) {
      body.push(el("h3", { text: "Facts and sources (" + detail.facts.length + ")" }));
      for (const index of detail.facts) body.push(factBlock(index));
    }
    panelBody.replaceChildren(...body);
    panelEmpty.hidden = true;
  }

  function showEdge(id) {
    const edge = EDGES[id];
    const style = typeStyle.get(edge.type);
    const body = [el("h2", { text: style ? style.label : edge.type })];
    body.push(el("p", { className: "d4d-sub" }, [nodeButton(edge.from), edge.arrows ? " → " : " — ", nodeButton(edge.to)]));
    if (edge.text) body.push(el("p", { text: edge.text }));
    const facts = el("dl");
    const row = (term, value) => facts.append(el("dt", { text: term }), el("dd", { text: value }));
    if (edge.year !== null) row(edge.end_year !== null ? "Years" : "Year", edge.end_year !== null ? edge.year + "–" + edge.end_year : String(edge.year));
    if (edge.amount !== null) row("Amount", fmt(edge.amount) + (edge.currency ? " " + edge.currency : ""));
    body.push(facts);
    if (edge.facts.length) {
      body.push(el("h3", { text: edge.facts.length > 1 ? "Fact and sources (" + edge.facts.length + ")" : "Fact and source" }));
      for (const index of edge.facts) body.push(factBlock(index));
      if (FACTS[edge.facts[0]].fact) body.push(el("p", { className: "d4d-iri", text: FACTS[edge.facts[0]].fact }));
    }
    if (edge.sources.length) {
      body.push(el("h3", { text: "Sources" }));
      body.push(el("ul", { className: "d4d-ties" }, edge.sources.map((s) => el("li", { className: "d4d-iri", text: s }))));
    }
    panelBody.replaceChildren(...body);
    panelEmpty.hidden = true;
  }

  function clearPanel() {
    panelBody.replaceChildren();
    panelEmpty.hidden = false;
  }

  // --- network -------------------------------------------------------------------------------
  render();
  const network = new vis.Network(container, { nodes, edges }, OPTIONS);
  window.d4dTimings = { created: performance.now() };
  // vis-network fits node shapes, not the labels under them: leave a margin so none is cut.
  function fit() {
    network.fit({ animation: false });
    network.moveTo({ scale: network.getScale() * 0.9, animation: false });
  }
  fit();
  network.once("afterDrawing", () => {
    window.d4dTimings.firstDrawing = performance.now();
    window.d4dReady = true;
  });

  function expand(g) {
    state.expanded.add(g);
    render();
  }

  function selectNode(i) {
    state.selected = { type: "node", id: i };
    render();
    network.selectNodes([i], false);
    showNode(i);
  }

  function clearSelection() {
    state.selected = null;
    render();
    network.unselectAll();
    clearPanel();
  }

  /** Show actor i whatever hides it (filters, a collapsed group), select it and centre on it. */
  function pick(i) {
    const node = NODES[i];
    state.hiddenKinds.delete(node.kind);
    if (!node.sectors.some((s) => !state.hiddenSectors.has(s))) for (const s of node.sectors) state.hiddenSectors.delete(s);
    if (state.year !== null && node.founded !== null && node.founded > state.year) state.year = node.founded;
    if (META.aggregated) state.expanded.add(node.group);
    syncControls();
    selectNode(i);
    network.focus(i, { scale: Math.max(network.getScale(), 0.9), animation: false });
  }

  network.on("click", (params) => {
    hideTooltip();
    if (params.nodes.length) {
      const id = params.nodes[0];
      if (typeof id === "string" && id[0] === "g") {
        expand(Number(id.slice(1)));
        network.unselectAll();
      } else {
        selectNode(id);
      }
    } else if (params.edges.length && typeof params.edges[0] === "number") {
      state.selected = { type: "edge", id: params.edges[0] };
      render();
      showEdge(params.edges[0]);
    } else if (state.selected) {
      clearSelection();
    }
  });
  network.on("hoverNode", (params) => showTooltip("node", params));
  network.on("hoverEdge", (params) => showTooltip("edge", params));
  network.on("blurNode", hideTooltip);
  network.on("blurEdge", hideTooltip);
  network.on("dragStart", hideTooltip);
  network.on("zoom", hideTooltip);

  // --- controls ------------------------------------------------------------------------------
  const controls = [];
  function counts(values) {
    const map = new Map();
    for (const value of values) map.set(value, (map.get(value) || 0) + 1);
    return map;
  }
  function legendList(listId, entries, hiddenSet, makeKey, countOf) {
    const list = document.getElementById(listId);
    for (const entry of entries) {
      const box = el("input", { type: "checkbox" });
      box.checked = true;
      box.dataset.key = entry.key;
      box.addEventListener("change", () => {
        if (box.checked) hiddenSet.delete(entry.key); else hiddenSet.add(entry.key);
        render();
      });
      controls.push(() => { box.checked = !hiddenSet.has(entry.key); });
      const count = countOf.get(entry.key) || 0;
      list.append(el("li", {}, [el("label", {}, [box, makeKey(entry), el("span", { text: entry.label }),
        el("span", { className: "d4d-count", text: count.toLocaleString("en") })])]));
    }
  }
  legendList("d4d-sectors", META.legend.sectors, state.hiddenSectors, (entry) => {
    const key = el("span", { className: "d4d-key dot" });
    key.style.background = entry.color;
    return key;
  }, counts(NODES.flatMap((n) => n.sectors)));
  legendList("d4d-kinds", META.legend.kinds, state.hiddenKinds, (entry) => {
    const key = el("span", { className: "d4d-key " + entry.shape });
    if (entry.shape !== "triangle" && entry.shape !== "triangleDown") key.style.background = "#6e7781";
    return key;
  }, counts(NODES.map((n) => n.kind)));
  legendList("d4d-types", META.legend.edgeTypes, state.hiddenTypes, (entry) => {
    const key = el("span", { className: "d4d-key line" + (entry.dashes ? " dashed" : "") });
    key.style.borderTopColor = entry.color;
    return key;
  }, counts(EDGES.map((e) => e.type)));

  const overlayList = document.getElementById("d4d-overlays");
  function overlay(name, label, available, missing) {
    const box = el("input", { type: "checkbox" });
    box.dataset.key = name;
    box.disabled = !available;
    box.addEventListener("change", () => { state.overlays[name] = box.checked; render(); });
    controls.push(() => { box.checked = state.overlays[name]; });
    const item = el("li", {}, [el("label", {}, [box, el("span", { text: label })])]);
    if (!available) item.append(el("p", { className: "d4d-hint", text: missing }));
    overlayList.append(item);
  }
  overlay("communities", "Colour by community", META.hasCommunities, "Communities not computed for this map.");
  overlay("brokers", "Outline brokers", META.hasBrokers, "Brokers not computed for this map.");
  overlay("recommended", "Recommended ties (dashed)", META.recommendations.length > 0, "No recommended ties for this map.");

  const year = document.getElementById("d4d-year");
  const yearValue = document.getElementById("d4d-year-value");
  if (META.years) {
    year.min = String(META.years[0]);
    year.max = String(META.years[1]);
    year.step = "1";
    let pending = false;
    year.addEventListener("input", () => {
      state.year = Number(year.value);
      yearValue.textContent = year.value;
      if (!pending) {
        pending = true;
        requestAnimationFrame(() => { pending = false; render(); });
      }
    });
    controls.push(() => { year.value = String(state.year); yearValue.textContent = String(state.year); });
  } else {
    year.closest("section").hidden = true;
  }

  function syncControls() { for (const sync of controls) sync(); }
  syncControls();

  if (META.query) {
    document.getElementById("d4d-query").textContent = META.query;
    document.getElementById("d4d-query-section").hidden = false;
  }
  const summary = [META.summary];
  if (META.ego && META.focus !== null) {
    summary.push("Actors within " + META.ego.depth + (META.ego.depth === 1 ? " tie" : " ties") + " of " + NODES[META.focus].label + ".");
  }
  if (META.note) summary.push(META.note);
  document.getElementById("d4d-summary").textContent = summary.join(" ");

  // --- search --------------------------------------------------------------------------------
  const search = document.getElementById("d4d-search");
  const suggestions = document.getElementById("d4d-suggestions");
  let matches = [];
  let active = -1;
  function find(text, limit) {
    const q = text.trim().toLowerCase();
    if (!q) return [];
    const found = [];
    for (let i = 0; i < NODES.length; i++) {
      const at = searchIndex[i].indexOf(q);
      if (at >= 0) found.push([at === 0 ? 0 : 1, searchIndex[i], i]);
    }
    found.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : a[2] - b[2]));
    return found.slice(0, limit || 12).map((f) => f[2]);
  }
  function showSuggestions() {
    suggestions.replaceChildren(...matches.map((i, k) => {
      const item = el("li", { role: "option", "aria-selected": String(k === active) },
        [NODES[i].label, el("small", { text: kindLabel.get(NODES[i].kind) || NODES[i].kind })]);
      item.addEventListener("mousedown", (event) => { event.preventDefault(); choose(i); });
      return item;
    }));
    suggestions.hidden = matches.length === 0;
    search.setAttribute("aria-expanded", String(!suggestions.hidden));
  }
  function choose(i) {
    search.value = NODES[i].label;
    matches = [];
    active = -1;
    showSuggestions();
    pick(i);
  }
  search.addEventListener("input", () => { matches = find(search.value); active = -1; showSuggestions(); });
  search.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!matches.length) return;
      event.preventDefault();
      active = (active + (event.key === "ArrowDown" ? 1 : matches.length - 1)) % matches.length;
      showSuggestions();
    } else if (event.key === "Enter") {
      const list = matches.length ? matches : find(search.value);
      if (list.length) choose(list[Math.max(active, 0)]);
    } else if (event.key === "Escape") {
      matches = [];
      showSuggestions();
    }
  });
  search.addEventListener("blur", () => { matches = []; showSuggestions(); });

  // --- buttons -------------------------------------------------------------------------------
  document.getElementById("d4d-fit").addEventListener("click", fit);
  document.getElementById("d4d-collapse").addEventListener("click", () => {
    state.expanded.clear();
    if (state.selected && state.selected.type === "node") state.selected = null;
    clearPanel();
    render();
    fit();
  });
  document.getElementById("d4d-reset").addEventListener("click", () => {
    state.hiddenTypes.clear(); state.hiddenSectors.clear(); state.hiddenKinds.clear();
    state.year = META.years ? META.years[1] : null;
    for (const key of Object.keys(state.overlays)) state.overlays[key] = false;
    state.expanded.clear();
    state.selected = null;
    syncControls();
    render();
    network.unselectAll();
    clearPanel();
    fit();
  });

  if (META.focus !== null) selectNode(META.focus);

  window.d4dMap = {
    network, nodes, edges, state, meta: META, data: { nodes: NODES, edges: EDGES },
    render, find, pick, select: selectNode, expand, clearSelection, syncControls,
  };
})();
