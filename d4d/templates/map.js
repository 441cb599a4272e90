/* d4d map: filters, search, overlays, grouping, labels, paths, links to views, pictures and the
 * side panel.
 *
 * Data comes only from the application/json blocks of the page. Nothing from the data is ever
 * parsed as HTML: text goes in with textContent / Node.append(string), links only for http(s)
 * URLs, the SVG picture escapes every string, and vis-network is given no "title" and no
 * "label" (tooltips and labels are ours, drawn from text). */
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

  const VEIL = "rgba(255, 255, 255, 0.82)";
  const FONT = "#1f2328";
  const DIM_FONT = "#9aa1a9";
  const BROKER_BORDER = "#111111";
  const AGG_EDGE = "#9aa3ad";
  const PATH_EDGE = "#0969da";
  // Recommended ties are not facts: black dots, drawn like no relationship type of the ontology.
  const REC_EDGE = "#000000";
  const REC_DASHES = [1, 7];
  const LABEL_FONT = 12;
  const LABEL_FACE = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif";
  const LABEL_GAP = 5; // px kept free around every label

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
    for (const child of children || []) if (child !== null && child !== undefined && child !== "") node.append(child);
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
    return Math.abs(number) >= 100 ? Math.round(number).toLocaleString("en") : Number(number.toPrecision(3)).toString();
  }
  function plural(n, one, many) { return n.toLocaleString("en") + " " + (n === 1 ? one : many); }
  function typeLabel(type) { const s = typeStyle.get(type); return s ? s.label : type; }
  function capital(text) { return text ? text[0].toUpperCase() + text.slice(1) : text; }

  // --- indexes ---------------------------------------------------------------------------------
  const incident = NODES.map(() => []);
  for (const edge of EDGES) {
    incident[edge.from].push(edge.id);
    if (edge.to !== edge.from) incident[edge.to].push(edge.id);
  }
  const radii = GROUPS.map((g) => g.radius).sort((a, b) => a - b);
  const AGG_WIDTH = Math.max(1, (radii.length ? radii[radii.length >> 1] : 0) * 0.012);
  const groupTotal = GROUPS.map(() => 0);
  for (const node of NODES) if (node.group >= 0) groupTotal[node.group] += 1;
  const searchIndex = NODES.map((node) => node.label.toLowerCase());
  const byRank = NODES.map((n) => n.id).sort((a, b) => NODES[a].rank - NODES[b].rank);
  const isolates = byRank.filter((i) => NODES[i].isolate);
  function slugOf(iri) {
    return iri.startsWith(META.idNamespace) ? iri.slice(META.idNamespace.length) : iri;
  }
  const actorBySlug = new Map(DETAILS.map((d, i) => [slugOf(d.iri), i]));
  const tieBySlug = new Map(EDGES.filter((e) => e.fact).map((e) => [slugOf(e.fact), e.id]));

  // --- state ---------------------------------------------------------------------------------
  function freshState() {
    return {
      hiddenTypes: new Set(), hiddenSectors: new Set(), hiddenKinds: new Set(),
      year: null, // null: every year; else the field as it stood in that year
      expanded: new Set(),
      overlays: { communities: false, brokers: false, recommended: false },
      allTies: !META.thinned,
      selected: null, // {type: "node" | "edge", id}
      path: null, // {from, to, nodes: [..], edges: [..]} (nodes empty: no chain)
    };
  }
  const state = freshState();

  // The field's one time rule (d4d/field.py, written on each actor and tie as since/until):
  // a thing is on the map in year Y when it has started by Y and not ended before Y.
  function standing(item, year) {
    return year === null || ((item.since === null || item.since <= year) && (item.until === null || item.until >= year));
  }
  function nodeVisible(i) {
    const node = NODES[i];
    if (state.hiddenKinds.has(node.kind)) return false;
    if (!node.sectors.some((s) => !state.hiddenSectors.has(s))) return false;
    return standing(node, state.year);
  }
  function edgePasses(edge) {
    return !state.hiddenTypes.has(edge.type) && standing(edge, state.year);
  }
  function collapsed(i) { return META.aggregated && !state.expanded.has(NODES[i].group); }
  function displayId(i) { return collapsed(i) ? "g" + NODES[i].group : i; }

  // --- what is drawn -------------------------------------------------------------------------
  function communityColour(i) {
    const c = DETAILS[i].community;
    return c === null || c === undefined ? "#9e9e9e" : META.communityColours[c % META.communityColours.length];
  }

  /** A maximum spanning forest of the ties that pass: pairs weighted by their number of ties. */
  function backbone(passing) {
    const pairs = new Map();
    for (const id of passing) {
      const edge = EDGES[id];
      if (edge.from === edge.to) continue;
      const a = Math.min(edge.from, edge.to), b = Math.max(edge.from, edge.to);
      const key = a * NODES.length + b;
      const entry = pairs.get(key);
      if (entry) entry.count += 1; else pairs.set(key, { a, b, count: 1, first: id });
    }
    const order = [...pairs.values()].sort((p, q) => q.count - p.count || p.a - q.a || p.b - q.b);
    const parent = new Int32Array(NODES.length).map((_, i) => i);
    const root = (i) => { while (parent[i] !== i) { parent[i] = parent[parent[i]]; i = parent[i]; } return i; };
    const kept = new Set();
    for (const p of order) {
      const ra = root(p.a), rb = root(p.b);
      if (ra === rb) continue;
      parent[Math.max(ra, rb)] = Math.min(ra, rb);
      kept.add(p.first);
    }
    return kept;
  }

  function compute() {
    const visible = new Uint8Array(NODES.length);
    const shownNodes = [];
    const listed = [];
    const groupCounts = new Map();
    for (const i of byRank) {
      if (!nodeVisible(i)) continue;
      visible[i] = 1;
      if (NODES[i].isolate) listed.push(i);
      else if (collapsed(i)) groupCounts.set(NODES[i].group, (groupCounts.get(NODES[i].group) || 0) + 1);
      else shownNodes.push(i);
    }
    const passing = [];
    for (const edge of EDGES) {
      if (visible[edge.from] && visible[edge.to] && edgePasses(edge)) passing.push(edge.id);
    }
    // Thinned: inside each group a maximum spanning forest; between groups one bundle per pair
    // of groups, drawn under the map as wide as the ties it stands for are many.
    const group = (i) => NODES[i].group;
    const kept = state.allTies ? null : backbone(passing.filter((id) => group(EDGES[id].from) === group(EDGES[id].to)));
    // A selection's or a chain's ties that the thinning leaves out are drawn by drawFocus, not
    // added here: a click then changes no record of vis-network's (which costs it O(N) each time).
    const shownEdges = [];
    const aggregate = new Map();
    const bundles = new Map();
    for (const id of passing) {
      const edge = EDGES[id];
      const a = displayId(edge.from);
      const b = displayId(edge.to);
      if (kept && !kept.has(id) && typeof a === "number" && typeof b === "number") {
        const ga = group(edge.from), gb = group(edge.to);
        if (ga !== gb) {
          const key = Math.min(ga, gb) + "|" + Math.max(ga, gb);
          const entry = bundles.get(key) || { a: Math.min(ga, gb), b: Math.max(ga, gb), count: 0 };
          entry.count += 1;
          bundles.set(key, entry);
        }
        continue;
      }
      if (typeof a === "number" && typeof b === "number") shownEdges.push(id);
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
    return { visible, shownNodes, listed, groupCounts, passing, shownEdges, aggregate, bundles, recommended };
  }

  function neighbourhood(view) {
    const near = new Set();
    const edges = new Set();
    if (state.path && state.path.nodes.length) {
      for (const i of state.path.nodes) near.add(displayId(i));
      for (const id of state.path.edges) edges.add(id);
      return { near, edges };
    }
    const sel = state.selected;
    if (!sel) return null;
    if (sel.type === "node") {
      near.add(sel.id);
      for (const id of incident[sel.id]) {
        const edge = EDGES[id];
        if (!view.visible[edge.from] || !view.visible[edge.to] || !edgePasses(edge)) continue;
        edges.add(id);
        near.add(displayId(edge.from));
        near.add(displayId(edge.to));
      }
      for (const k of view.recommended) {
        const rec = META.recommendations[k];
        if (rec.from === sel.id || rec.to === sel.id) { edges.add("r" + k); near.add(rec.from); near.add(rec.to); }
      }
      for (const key of view.aggregate.keys()) {
        const entry = view.aggregate.get(key);
        if (entry.from === sel.id || entry.to === sel.id) { edges.add("a" + key); near.add(entry.from); near.add(entry.to); }
      }
    } else {
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
    if (state.overlays.brokers && DETAILS[i].broker) { border = BROKER_BORDER; borderWidth = 5; }
    if (i === META.focus) { border = BROKER_BORDER; borderWidth = Math.max(borderWidth, 3); }
    return { id: i, size: node.size, shape: node.shape, color: nodeColour(background, border), borderWidth,
             x: node.x, y: node.y };
  }

  // A collapsed group is drawn as the disc its actors occupy when shown (its area shrinks
  // with the share of them that the filters leave).
  function groupRecord(g, count) {
    const group = GROUPS[g];
    return {
      id: "g" + g, x: group.x, y: group.y, shape: "dot",
      size: Math.round(Math.max(20, group.radius * Math.sqrt(count / groupTotal[g]))),
      color: nodeColour(group.color, "#ffffff"), borderWidth: 2,
    };
  }

  function edgeRecord(id) {
    const edge = EDGES[id];
    const onPath = state.path && state.path.edges.includes(id);
    const colour = onPath ? PATH_EDGE : edge.color;
    return {
      id, from: edge.from, to: edge.to, arrows: edge.arrows, dashes: edge.dashes,
      width: onPath ? Math.max(edge.width, 4) : edge.width,
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
  let lastFocus = null;
  // What the view and the records given to vis-network follow: a click that only selects leaves
  // it as it was, and then neither is built again (at 5,000 actors that is tens of ms a click).
  function drawnKey() {
    const sorted = (set) => [...set].sort();
    return JSON.stringify([sorted(state.hiddenTypes), sorted(state.hiddenSectors), sorted(state.hiddenKinds), state.year,
      [...state.expanded].sort((a, b) => a - b), state.overlays, state.allTies, state.path ? state.path.edges : null]);
  }
  let lastKey = null;
  function render() {
    const key = drawnKey();
    const view = key === lastKey ? lastView : compute();
    const focus = neighbourhood(view);
    if (key !== lastKey) { syncRecords(view); lastKey = key; }
    lastView = view;
    lastFocus = focus;
    document.getElementById("d4d-collapse").hidden = !(META.aggregated && state.expanded.size > 0);
    if (typeof afterRender === "function") afterRender(view);
  }
  let afterRender = null;

  function syncRecords(view) {
    // What is out of focus is not recoloured here (updating thousands of records costs vis-network
    // seconds): a veil is drawn over the map and the focus drawn again on it (afterDrawing).
    const nodeRecords = view.shownNodes.map((i) => nodeRecord(i));
    for (const [g, count] of [...view.groupCounts.entries()].sort((a, b) => a[0] - b[0])) {
      nodeRecords.push(groupRecord(g, count));
    }
    const edgeRecords = view.shownEdges.map((id) => edgeRecord(id));
    for (const [key, entry] of view.aggregate) {
      // Between two groups: as wide as the groups are big; from an actor to a group: a thin line.
      const unit = typeof entry.from === "string" && typeof entry.to === "string" ? AGG_WIDTH : 1;
      edgeRecords.push({
        id: "a" + key, from: entry.from, to: entry.to, arrows: "", dashes: false,
        width: Math.round(unit * (1 + Math.log2(entry.count)) * 10) / 10, smooth: false,
        color: { color: AGG_EDGE, highlight: AGG_EDGE, hover: AGG_EDGE, opacity: 0.8 },
      });
    }
    for (const k of view.recommended) {
      const rec = META.recommendations[k];
      edgeRecords.push({
        id: "r" + k, from: rec.from, to: rec.to, arrows: "", dashes: REC_DASHES, width: 3,
        smooth: { enabled: true, type: "curvedCW", roundness: 0.25 },
        color: { color: REC_EDGE, highlight: REC_EDGE, hover: REC_EDGE, opacity: 1 },
      });
    }
    syncSet(nodes, shown.nodes, nodeRecords);
    syncSet(edges, shown.edges, edgeRecords);
  }

  /** On-screen width of a bundle of ties between two groups: one more pixel per doubling. */
  function bundleWidth(count) { return 1 + 1.5 * Math.log2(count); }

  // --- labels: the most central first, never two overlapping, never cut at the edge -----------
  const widthCache = new Map();
  let labelBoxes = [];
  function labelText(id) {
    if (typeof id === "string") {
      const g = Number(id.slice(1));
      return GROUPS[g].label + " (" + (lastView.groupCounts.get(g) || 0).toLocaleString("en") + ")";
    }
    return NODES[id].label;
  }
  /** A tie that is not among the lines drawn (a thinned map): a straight line in its colour. */
  function drawTie(ctx, id) {
    const edge = EDGES[id];
    const a = network.body.nodes[displayId(edge.from)], b = network.body.nodes[displayId(edge.to)];
    if (!a || !b) return;
    const onPath = state.path && state.path.edges.includes(id);
    ctx.save();
    ctx.strokeStyle = onPath ? PATH_EDGE : edge.color;
    ctx.lineWidth = onPath ? Math.max(edge.width, 4) : edge.width;
    ctx.setLineDash(edge.dashes ? [5 / network.getScale(), 5 / network.getScale()] : []);
    ctx.beginPath();
    ctx.moveTo(a.x, a.y);
    ctx.lineTo(b.x, b.y);
    ctx.stroke();
    ctx.restore();
  }

  /** With a selection or a chain: a white veil over the map, then the focus drawn again on it. */
  function drawFocus(ctx) {
    if (!lastFocus) return;
    ctx.save();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = VEIL;
    ctx.fillRect(0, 0, ctx.canvas.width, ctx.canvas.height);
    ctx.restore();
    // vis-network's own drawing of each edge and node (the same look, on top of the veil).
    for (const id of lastFocus.edges) {
      const edge = network.body.edges[id];
      if (edge && shown.edges.has(id)) edge.draw(ctx);
      else if (typeof id === "number") drawTie(ctx, id);
    }
    for (const id of lastFocus.near) { const node = network.body.nodes[id]; if (node && shown.nodes.has(id)) node.draw(ctx); }
  }

  /** An actor of several sectors gets a pie of their colours (equal shares) inside its shape. */
  const sectorColour = new Map(META.legend.sectors.map((s) => [s.key, s.color]));
  function drawPies(ctx) {
    if (!lastView || state.overlays.communities) return;
    for (const i of lastView.shownNodes) {
      const node = NODES[i];
      if (node.sectors.length < 2 || (lastFocus && !lastFocus.near.has(i))) continue;
      const r = node.size * 0.62;
      const step = 2 * Math.PI / node.sectors.length;
      node.sectors.forEach((s, k) => {
        ctx.beginPath();
        ctx.moveTo(node.x, node.y);
        ctx.arc(node.x, node.y, r, -Math.PI / 2 + k * step, -Math.PI / 2 + (k + 1) * step);
        ctx.closePath();
        ctx.fillStyle = sectorColour.get(s) || "#9e9e9e";
        ctx.fill();
      });
    }
  }

  function drawLabels(ctx) {
    if (!lastView) return;
    const canvas = ctx.canvas;
    const ratio = canvas.width / canvas.clientWidth || 1;
    const W = canvas.clientWidth, H = canvas.clientHeight;
    const scale = network.getScale();
    ctx.save();
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.textBaseline = "top";
    ctx.lineJoin = "round";
    // Candidates: the path and the selection first, then their neighbours, then by centrality.
    const first = [];
    if (state.path) for (const i of state.path.nodes) first.push(displayId(i));
    if (state.selected && state.selected.type === "node") first.push(displayId(state.selected.id));
    if (state.selected && state.selected.type === "edge") {
      first.push(displayId(EDGES[state.selected.id].from), displayId(EDGES[state.selected.id].to));
    }
    const groups = [...lastView.groupCounts.keys()].sort((a, b) => lastView.groupCounts.get(b) - lastView.groupCounts.get(a));
    const near = lastFocus ? [...lastFocus.near] : [];
    const candidates = [...first, ...near, ...groups.map((g) => "g" + g), ...lastView.shownNodes];
    const seen = new Set();
    const cell = 48;
    const grid = new Map();
    const boxes = [];
    const fits = (box) => {
      for (let gx = Math.floor(box.x / cell); gx <= Math.floor((box.x + box.w) / cell); gx++) {
        for (let gy = Math.floor(box.y / cell); gy <= Math.floor((box.y + box.h) / cell); gy++) {
          for (const other of grid.get(gx + "," + gy) || []) {
            if (box.x < other.x + other.w + LABEL_GAP && other.x < box.x + box.w + LABEL_GAP &&
                box.y < other.y + other.h + LABEL_GAP && other.y < box.y + box.h + LABEL_GAP) return false;
          }
        }
      }
      return true;
    };
    const place = (box) => {
      boxes.push(box);
      for (let gx = Math.floor(box.x / cell); gx <= Math.floor((box.x + box.w) / cell); gx++) {
        for (let gy = Math.floor(box.y / cell); gy <= Math.floor((box.y + box.h) / cell); gy++) {
          const key = gx + "," + gy;
          if (!grid.has(key)) grid.set(key, []);
          grid.get(key).push(box);
        }
      }
    };
    for (const id of candidates) {
      if (seen.has(id)) continue;
      seen.add(id);
      const isGroup = typeof id === "string";
      const record = shown.nodes.has(id) ? nodes.get(id) : null;
      if (!record) continue;
      const size = isGroup ? 15 : LABEL_FONT;
      const p = network.canvasToDOM({ x: record.x, y: record.y });
      if (p.x < 0 || p.x > W || p.y < 0 || p.y > H) continue;
      const r = isGroup ? 0 : record.size * scale;
      const h = size + 2;
      // Below the actor, else above, right, left, then the four corners: the first place free of
      // other labels and inside the map. A spot is [x, y, share]: its box of width w starts at
      // x - share * w (centred: 0.5; starting there: 0; ending there: 1).
      const d = r * 0.7 + 2;
      const spots = isGroup ? [[p.x, p.y - h / 2, 0.5]]
        : [[p.x, p.y + r + 2, 0.5], [p.x, p.y - r - 2 - h, 0.5], [p.x + r + 4, p.y - h / 2, 0], [p.x - r - 4, p.y - h / 2, 1],
          [p.x + d, p.y + d, 0], [p.x - d, p.y + d, 1], [p.x + d, p.y - d - h, 0], [p.x - d, p.y - d - h, 1]];
      // Measuring a text costs ~10 us, and on a map of thousands of actors most find no place:
      // whatever its width, a label's box at a spot covers the spot's point x (inside the map's
      // margins), so where a box of no width there meets another label, no box fits there.
      const open = spots.some(([sx, sy]) => sy >= 2 && sy + h <= H - 2 &&
        (sx < 2 || sx > W - 2 || fits({ x: sx, y: sy, w: 0, h })));
      if (!open) continue;
      const bold = isGroup || first.includes(id);
      const font = (bold ? "600 " : "") + size + "px " + LABEL_FACE;
      const text = labelText(id);
      const key = font + "|" + text;
      let w = widthCache.get(key);
      if (w === undefined) { ctx.font = font; w = ctx.measureText(text).width; widthCache.set(key, w); }
      let box = null;
      for (const [sx, sy, share] of spots) {
        const x = Math.min(Math.max(2, sx - share * w), W - w - 2);
        if (x < 0 || sy < 2 || sy + h > H - 2) continue;
        const trial = { id, text, x, y: sy, w, h, font };
        if (fits(trial)) { box = trial; break; }
      }
      if (!box) continue;
      const x = box.x, y = box.y;
      place(box);
      ctx.font = font;
      ctx.lineWidth = 3;
      ctx.strokeStyle = "rgba(255,255,255,0.9)";
      ctx.strokeText(text, x, y + 1);
      const dim = lastFocus && !lastFocus.near.has(id);
      ctx.fillStyle = dim ? DIM_FONT : FONT;
      ctx.fillText(text, x, y + 1);
    }
    ctx.restore();
    labelBoxes = boxes;
  }

  // --- tooltip -------------------------------------------------------------------------------
  const tooltip = document.getElementById("d4d-tooltip");
  const container = document.getElementById("mynetwork");
  /** A tie's own label is shown unless it only restates the tie (its type, or both actors' names). */
  function saysMore(edge) {
    const text = edge.text || "";
    if (!text || text.toLowerCase() === typeLabel(edge.type).toLowerCase()) return false;
    return !(text.includes(NODES[edge.from].label) && text.includes(NODES[edge.to].label));
  }
  function tieDetails(edge) {
    const parts = [];
    if (edge.role) parts.push(edge.role);
    if (edge.year !== null) parts.push(edge.end_year !== null && edge.end_year !== edge.year ? edge.year + "–" + edge.end_year : String(edge.year));
    if (edge.amount !== null) parts.push(fmt(edge.amount) + (edge.currency ? " " + edge.currency : ""));
    return parts;
  }
  function tooltipLines(kind, id) {
    if (kind === "node") {
      if (typeof id === "string" && id[0] === "g") {
        const g = Number(id.slice(1));
        return [GROUPS[g].label, plural(lastView.groupCounts.get(g) || 0, "actor", "actors") + ". Click to show them."];
      }
      const node = NODES[id];
      return [node.label, [kindLabel.get(node.kind) || node.kind, ...node.sectors.map((s) => sectorLabel.get(s) || s)].join(" · ")];
    }
    if (typeof id === "string" && id[0] === "a") {
      const entry = lastView.aggregate.get(id.slice(1));
      const end = (x) => (typeof x === "string" ? GROUPS[Number(x.slice(1))].label : NODES[x].label);
      return [plural(entry.count, "tie", "ties"), end(entry.from) + " — " + end(entry.to)];
    }
    if (typeof id === "string" && id[0] === "r") {
      const rec = META.recommendations[Number(id.slice(1))];
      return ["Recommended tie (not a fact): " + NODES[rec.from].label + " — " + NODES[rec.to].label, rec.reason];
    }
    const edge = EDGES[id];
    return [capital(typeLabel(edge.type)) + ": " + NODES[edge.from].label + (edge.arrows ? " → " : " — ") + NODES[edge.to].label,
      tieDetails(edge).join(" · ")];
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

  // --- side panel: sentences, one line per fact -----------------------------------------------
  const panelBody = document.getElementById("d4d-panel-body");
  const panelEmpty = document.getElementById("d4d-panel-empty");

  /** One citation on one line: the source's title (a link where it has a web address), the quote. */
  function citation(index) {
    const fact = FACTS[index];
    const line = el("p", { className: "d4d-cite" });
    if (fact.source_title || fact.source_url) line.append("Source: ", link(fact.source_url, fact.source_title || fact.source_url));
    if (fact.quote) line.append(el("q", { text: fact.quote }));
    return line;
  }

  /** Whether the sources state the fact or a curator read it into them (and how), if known. */
  function basisNote(indices) {
    const fact = indices.length ? FACTS[indices[0]] : null;
    if (!fact || !fact.basis) return null;
    if (fact.basis === "stated") return el("span", { className: "d4d-basis", text: "stated", title: "The quoted source states this." });
    return el("span", { className: "d4d-basis d4d-read", text: "read" + (fact.note ? ": " + fact.note : ""),
      title: "A curator read this into the quoted source; the source does not state it in so many words." });
  }

  function nodeButton(i) {
    const button = el("button", { type: "button", className: "d4d-actor", text: NODES[i].label });
    button.addEventListener("click", () => pick(i));
    return button;
  }

  function tieItem(id, from) {
    const edge = EDGES[id];
    const other = edge.from === from ? edge.to : edge.from;
    const arrow = edge.arrows ? (edge.from === from ? "→ " : "← ") : "— ";
    const head = el("p", { className: "d4d-tie-head" }, [arrow, nodeButton(other)]);
    const details = tieDetails(edge);
    if (saysMore(edge)) details.unshift(edge.text);
    if (details.length) head.append(" · " + details.join(" · "));
    const basis = basisNote(edge.facts);
    if (basis) head.append(" ", basis);
    const open = el("button", { type: "button", className: "d4d-more", text: "tie", title: "Show this tie on its own" });
    open.addEventListener("click", () => selectEdge(id));
    head.append(" ", open);
    const item = el("li", { className: "d4d-fact" }, [head]);
    for (const index of edge.facts) if (FACTS[index].quote || FACTS[index].source_title) item.append(citation(index));
    return item;
  }

  function showNode(i) {
    const node = NODES[i];
    const detail = DETAILS[i];
    const body = [el("h2", { text: node.label })];
    body.push(el("p", { className: "d4d-sub", text: [kindLabel.get(node.kind) || node.kind,
      ...node.sectors.map((s) => sectorLabel.get(s) || s)].join(" · ") }));
    const badges = el("p");
    if (detail.broker) badges.append(el("span", { className: "d4d-badge", text: "Broker" }));
    if (detail.role) badges.append(el("span", { className: "d4d-badge", text: "Brokerage role: " + detail.role.replace(/_/g, " ") }));
    if (detail.community !== null && detail.community !== undefined) badges.append(el("span", { className: "d4d-badge", text: "Community " + detail.community }));
    if (node.isolate) badges.append(el("span", { className: "d4d-badge", text: "No tie to another actor" }));
    if (badges.childNodes.length) body.push(badges);
    if (detail.description) body.push(el("p", { text: detail.description }));
    const about = [];
    if (node.founded !== null) about.push("Founded in " + node.founded + ".");
    const sites = detail.urls.flatMap((url, i) => (i ? [", ", link(url, url)] : [link(url, url)]));
    if (about.length || sites.length) body.push(el("p", {}, [about.join(" "), sites.length ? (detail.urls.length > 1 ? " Websites: " : " Website: ") : "", ...sites]));

    const measures = META.measures.filter((note) => detail.metrics[note.key] !== undefined);
    if (measures.length) {
      body.push(el("h3", { text: "Measures" }));
      body.push(el("ul", { className: "d4d-measures" }, measures.map((note) => el("li", {}, [
        el("strong", { text: note.label + ": " + fmt(detail.metrics[note.key]) }), el("span", { className: "d4d-explain", text: " — " + note.explain })]))));
    }

    const ties = incident[i];
    const tieFacts = new Set();
    if (ties.length) {
      body.push(el("h3", { text: "Relationships (" + ties.length.toLocaleString("en") + ")" }));
      const byType = new Map();
      for (const id of ties) {
        const type = EDGES[id].type;
        if (!byType.has(type)) byType.set(type, []);
        byType.get(type).push(id);
        if (EDGES[id].fact) tieFacts.add(EDGES[id].fact);
      }
      for (const [type, ids] of [...byType.entries()].sort((a, b) => typeLabel(a[0]).localeCompare(typeLabel(b[0])))) {
        const heading = el("h4", { text: capital(typeLabel(type)) + " (" + ids.length + ")" });
        const list = el("ul", { className: "d4d-ties" }, ids.slice(0, 200).map((id) => tieItem(id, i)));
        if (ids.length > 200) list.append(el("li", { text: "… and " + (ids.length - 200) + " more" }));
        body.push(heading, list);
      }
    }
    const own = detail.facts.filter((index) => !tieFacts.has(FACTS[index].fact));
    if (own.length) {
      body.push(el("h3", { text: "About this actor, with sources" }));
      const list = el("ul", { className: "d4d-ties" });
      const byFact = new Map();
      for (const index of own) {
        const key = FACTS[index].fact || "f" + index;
        if (!byFact.has(key)) byFact.set(key, []);
        byFact.get(key).push(index);
      }
      for (const indices of byFact.values()) {
        const fact = FACTS[indices[0]];
        const head = el("p", { className: "d4d-tie-head", text: (fact.type ? capital(typeLabel(fact.type)) + ": " : "") + (fact.text || "") });
        const basis = basisNote(indices);
        if (basis) head.append(" ", basis);
        const item = el("li", { className: "d4d-fact" }, [head]);
        for (const index of indices) if (FACTS[index].quote || FACTS[index].source_title) item.append(citation(index));
        list.append(item);
      }
      body.push(list);
    }
    const recommended = META.recommendations.filter((rec) => rec.from === i || rec.to === i);
    if (recommended.length) {
      body.push(el("h3", { text: "Recommended ties, not facts (" + recommended.length + ")" }));
      body.push(el("ul", { className: "d4d-ties" }, recommended.map((rec) =>
        el("li", {}, [nodeButton(rec.from === i ? rec.to : rec.from), rec.reason ? ": " + rec.reason : ""]))));
    }
    body.push(pathControl(i));
    body.push(el("p", { className: "d4d-iri", text: detail.iri }));
    panelBody.replaceChildren(...body);
    panelEmpty.hidden = true;
  }

  function showEdge(id) {
    const edge = EDGES[id];
    const body = [el("h2", { text: capital(typeLabel(edge.type)) })];
    body.push(el("p", { className: "d4d-sub" }, [nodeButton(edge.from), edge.arrows ? " → " : " — ", nodeButton(edge.to)]));
    const details = tieDetails(edge);
    if (saysMore(edge)) details.unshift(edge.text);
    if (details.length) body.push(el("p", { text: details.join(" · ") }));
    const basis = basisNote(edge.facts);
    if (basis) body.push(el("p", {}, [basis]));
    for (const index of edge.facts) body.push(citation(index));
    if (edge.fact) body.push(el("p", { className: "d4d-iri", text: edge.fact }));
    panelBody.replaceChildren(...body);
    panelEmpty.hidden = true;
  }

  function showPath() {
    const p = state.path;
    const body = [el("h2", { text: "Shortest chain" })];
    body.push(el("p", { className: "d4d-sub" }, [nodeButton(p.from), " to ", nodeButton(p.to)]));
    if (!p.nodes.length) {
      body.push(el("p", { text: "No chain of ties joins them in this view (filters and year as set)." }));
    } else {
      body.push(el("p", { text: plural(p.edges.length, "step", "steps") + ", each a sourced relationship:" }));
      const list = el("ol", { className: "d4d-ties d4d-path" });
      p.edges.forEach((id, k) => {
        const edge = EDGES[id];
        const a = p.nodes[k], b = p.nodes[k + 1];
        const forward = edge.from === a;
        const head = el("p", { className: "d4d-tie-head" }, [nodeButton(a), " " + (edge.arrows ? (forward ? "→" : "←") : "—") + " " + typeLabel(edge.type) + " " + (edge.arrows ? (forward ? "→" : "←") : "—") + " ", nodeButton(b)]);
        const details = tieDetails(edge);
        if (details.length) head.append(" · " + details.join(" · "));
        const item = el("li", { className: "d4d-fact" }, [head]);
        for (const index of edge.facts) if (FACTS[index].quote || FACTS[index].source_title) item.append(citation(index));
        list.append(item);
      });
      body.push(list);
    }
    const clear = el("button", { type: "button", className: "d4d-more", text: "Clear the chain" });
    clear.addEventListener("click", () => { state.path = null; render(); clearPanel(); });
    body.push(clear);
    panelBody.replaceChildren(...body);
    panelEmpty.hidden = true;
  }

  function pathControl(from) {
    const box = el("div", { className: "d4d-path-box" });
    const label = el("label", { for: "d4d-path-to", text: "Shortest chain to another actor:" });
    const input = el("input", { id: "d4d-path-to", type: "search", placeholder: "Type a name…", autocomplete: "off" });
    const list = el("ul", { className: "d4d-path-suggestions" });
    input.addEventListener("input", () => {
      list.replaceChildren(...find(input.value, 8).filter((j) => j !== from).map((j) => {
        const item = el("li", {}, [el("button", { type: "button", className: "d4d-actor", text: NODES[j].label })]);
        item.querySelector("button").addEventListener("click", () => setPath(from, j));
        return item;
      }));
    });
    input.addEventListener("keydown", (event) => {
      if (event.key !== "Enter") return;
      const found = find(input.value, 8).filter((j) => j !== from);
      if (found.length) setPath(from, found[0]);
    });
    box.append(label, input, list);
    return box;
  }

  function clearPanel() {
    panelBody.replaceChildren();
    panelEmpty.hidden = false;
  }

  // --- paths: breadth-first on the ties that pass the filters, either direction ---------------
  function shortestChain(a, b) {
    const view = compute();
    const passing = new Set(view.passing);
    const previous = new Map([[a, null]]);
    const queue = [a];
    for (let head = 0; head < queue.length && !previous.has(b); head++) {
      const u = queue[head];
      // Ties in id order, so the chain found is the same on every run.
      for (const id of incident[u]) {
        if (!passing.has(id)) continue;
        const edge = EDGES[id];
        const v = edge.from === u ? edge.to : edge.from;
        if (previous.has(v)) continue;
        previous.set(v, [u, id]);
        queue.push(v);
      }
    }
    if (!previous.has(b)) return { from: a, to: b, nodes: [], edges: [] };
    const chainNodes = [b];
    const chainEdges = [];
    for (let v = b; previous.get(v) !== null; v = previous.get(v)[0]) {
      chainEdges.unshift(previous.get(v)[1]);
      chainNodes.unshift(previous.get(v)[0]);
    }
    return { from: a, to: b, nodes: chainNodes, edges: chainEdges };
  }

  // --- network -------------------------------------------------------------------------------
  render();
  const network = new vis.Network(container, { nodes, edges }, OPTIONS);
  window.d4dTimings = { created: performance.now() };
  network.on("afterDrawing", (ctx) => { drawFocus(ctx); drawPies(ctx); drawLabels(ctx); });
  // Each group (community, else sector) sits in its own disc: a faint one shows where it lies.
  network.on("beforeDrawing", (ctx) => {
    if (GROUPS.length < 2) return;
    ctx.save();
    ctx.lineCap = "round";
    ctx.fillStyle = "rgba(110, 119, 129, 0.06)";
    ctx.strokeStyle = "rgba(110, 119, 129, 0.18)";
    ctx.lineWidth = 1 / network.getScale();
    for (const group of GROUPS) {
      if (!lastView || (META.aggregated && !state.expanded.has(group.id))) continue;
      ctx.beginPath();
      ctx.arc(group.x, group.y, group.radius, 0, 2 * Math.PI);
      ctx.fill();
      ctx.stroke();
    }
    for (const bundle of lastView ? lastView.bundles.values() : []) {
      const a = GROUPS[bundle.a], b = GROUPS[bundle.b];
      ctx.strokeStyle = "rgba(90, 100, 110, 0.3)";
      ctx.lineWidth = bundleWidth(bundle.count) / network.getScale();
      ctx.beginPath();
      ctx.moveTo(a.x, a.y);
      ctx.lineTo(b.x, b.y);
      ctx.stroke();
    }
    ctx.restore();
  });
  // vis-network fits node shapes, not the labels under them: leave a margin so none is cut.
  function fit() {
    network.fit({ animation: false });
    network.moveTo({ scale: network.getScale() * 0.92, animation: false });
  }
  fit();

  // vis-network's unselectAll() draws the whole map there and then, and a map of thousands of
  // actors takes a hundred ms or more to draw: setSelection() clears the selection and leaves the
  // drawing to the next frame, which every render() asks for (the veil and labels follow state).
  function unselect() {
    if (network.getSelectedNodes().length || network.getSelectedEdges().length) network.setSelection({ nodes: [], edges: [] });
  }
  function requestDraw() { network.body.emitter.emit("_requestRedraw"); }

  function expand(g) {
    state.expanded.add(g);
    render();
  }

  function selectNode(i) {
    state.selected = { type: "node", id: i };
    state.path = null;
    render();
    if (!NODES[i].isolate && !collapsed(i)) network.selectNodes([i], false);
    showNode(i);
  }

  function selectEdge(id) {
    const edge = EDGES[id];
    for (const i of [edge.from, edge.to]) reveal(i);
    syncControls();
    state.selected = { type: "edge", id };
    state.path = null;
    render();
    unselect();
    showEdge(id);
  }

  function setPath(a, b) {
    reveal(a);
    reveal(b);
    syncControls();
    state.selected = null;
    state.path = shortestChain(a, b);
    render();
    unselect();
    showPath();
    if (state.path.nodes.length) {
      network.fit({ nodes: state.path.nodes.filter((i) => shown.nodes.has(i)), animation: false });
      network.moveTo({ scale: Math.min(network.getScale() * 0.8, 1.5), animation: false });
    }
  }

  function clearSelection() {
    state.selected = null;
    state.path = null;
    render();
    unselect();
    clearPanel();
  }

  /** Make actor i visible whatever hides it (filters, a collapsed group). */
  function reveal(i) {
    const node = NODES[i];
    state.hiddenKinds.delete(node.kind);
    if (!node.sectors.some((s) => !state.hiddenSectors.has(s))) for (const s of node.sectors) state.hiddenSectors.delete(s);
    if (!standing(node, state.year)) state.year = node.since !== null && node.since > state.year ? node.since : node.until;
    if (META.aggregated && node.group >= 0) state.expanded.add(node.group);
  }

  /** Show actor i, select it and centre on it. */
  function pick(i) {
    reveal(i);
    syncControls();
    selectNode(i);
    if (!NODES[i].isolate) network.focus(i, { scale: Math.max(network.getScale(), 0.9), animation: false });
  }

  network.on("click", (params) => {
    hideTooltip();
    if (params.nodes.length) {
      const id = params.nodes[0];
      if (typeof id === "string" && id[0] === "g") {
        expand(Number(id.slice(1)));
        unselect();
      } else {
        selectNode(id);
      }
    } else if (params.edges.length && typeof params.edges[0] === "number") {
      selectEdge(params.edges[0]);
    } else if (state.selected || state.path) {
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
  const counters = [];
  function legendList(listId, entries, setName, makeKey, countOf) {
    const list = document.getElementById(listId);
    for (const entry of entries) {
      const box = el("input", { type: "checkbox" });
      box.checked = true;
      box.dataset.key = entry.key;
      box.addEventListener("change", () => {
        if (box.checked) state[setName].delete(entry.key); else state[setName].add(entry.key);
        render();
      });
      controls.push(() => { box.checked = !state[setName].has(entry.key); });
      const count = el("span", { className: "d4d-count" });
      counters.push((view) => { count.textContent = countOf(view, entry.key).toLocaleString("en"); });
      list.append(el("li", {}, [el("label", {}, [box, makeKey(entry), el("span", { text: entry.label }), count])]));
    }
  }
  // Counts follow the view: actors shown (drawn or listed) and ties that pass the filters.
  const shownActors = (view) => view.shownNodes.concat(view.listed, [...view.groupCounts.keys()].flatMap(
    (g) => NODES.filter((n) => n.group === g && view.visible[n.id]).map((n) => n.id)));
  let actorMemo = null;
  function actorsOf(view) {
    if (!actorMemo || actorMemo.view !== view) actorMemo = { view, ids: shownActors(view), tally: null };
    return actorMemo.ids;
  }
  /** The view's actors by sector and by kind, and its ties by type: one pass for every legend. */
  function tallyOf(view) {
    actorsOf(view);
    if (!actorMemo.tally) {
      const tally = { sectors: new Map(), kinds: new Map(), types: new Map() };
      const add = (map, key) => map.set(key, (map.get(key) || 0) + 1);
      for (const i of actorMemo.ids) {
        for (const sector of NODES[i].sectors) add(tally.sectors, sector); // an actor's sectors are distinct
        add(tally.kinds, NODES[i].kind);
      }
      for (const id of view.passing) add(tally.types, EDGES[id].type);
      actorMemo.tally = tally;
    }
    return actorMemo.tally;
  }
  legendList("d4d-sectors", META.legend.sectors, "hiddenSectors", (entry) => {
    const key = el("span", { className: "d4d-key dot d4d-sector-key" });
    key.style.background = entry.color;
    return key;
  }, (view, key) => tallyOf(view).sectors.get(key) || 0);
  legendList("d4d-kinds", META.legend.kinds, "hiddenKinds", (entry) => {
    const key = el("span", { className: "d4d-key " + entry.shape });
    if (entry.shape !== "triangle" && entry.shape !== "triangleDown") key.style.background = "#6e7781";
    return key;
  }, (view, key) => tallyOf(view).kinds.get(key) || 0);
  legendList("d4d-types", META.legend.edgeTypes, "hiddenTypes", (entry) => {
    const key = el("span", { className: "d4d-key line" + (entry.dashes ? " dashed" : "") });
    key.style.borderTopColor = entry.color;
    return key;
  }, (view, key) => tallyOf(view).types.get(key) || 0);

  const communityList = document.getElementById("d4d-communities");
  function communityLegend(view) {
    const section = communityList.closest("section");
    section.hidden = !state.overlays.communities;
    document.getElementById("d4d-sectors").classList.toggle("d4d-no-keys", state.overlays.communities);
    if (!state.overlays.communities) return;
    const sizes = new Map();
    for (const i of actorsOf(view)) {
      const c = DETAILS[i].community;
      if (c !== null && c !== undefined) sizes.set(c, (sizes.get(c) || 0) + 1);
    }
    const ranked = [...sizes.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
    const items = ranked.slice(0, 12).map(([c, n]) => {
      const key = el("span", { className: "d4d-key dot" });
      key.style.background = META.communityColours[c % META.communityColours.length];
      return el("li", {}, [el("label", {}, [key, el("span", { text: "Community " + c }), el("span", { className: "d4d-count", text: n.toLocaleString("en") })])]);
    });
    if (ranked.length > 12) {
      const rest = ranked.slice(12).reduce((sum, [, n]) => sum + n, 0);
      items.push(el("li", { className: "d4d-hint", text: (ranked.length - 12) + " smaller communities, " + plural(rest, "actor", "actors") +
        " (colours repeat after " + META.communityColours.length + ")" }));
    }
    communityList.replaceChildren(...items);
  }

  const overlayList = document.getElementById("d4d-overlays");
  function overlay(name, label, available, missing, key) {
    const box = el("input", { type: "checkbox" });
    box.dataset.key = name;
    box.disabled = !available;
    box.addEventListener("change", () => { state.overlays[name] = box.checked; render(); });
    controls.push(() => { box.checked = state.overlays[name]; });
    const item = el("li", {}, [el("label", {}, [box, key || "", el("span", { text: label })])]);
    if (!available) item.append(el("p", { className: "d4d-hint", text: missing }));
    overlayList.append(item);
  }
  overlay("communities", "Colour by community", META.hasCommunities, "Communities not computed for this map.");
  overlay("brokers", "Outline brokers", META.hasBrokers, "Brokers not computed for this map.");
  overlay("recommended", "Recommended ties (black dots: not facts)", META.recommendations.length > 0,
    "No recommended ties for this map.", el("span", { className: "d4d-key line dotted" }));

  const allTies = document.getElementById("d4d-all-ties");
  allTies.closest("label").hidden = !META.thinned;
  allTies.addEventListener("change", () => { state.allTies = allTies.checked; render(); });
  controls.push(() => { allTies.checked = state.allTies; });

  const year = document.getElementById("d4d-year");
  const yearValue = document.getElementById("d4d-year-value");
  let sliding = false;
  // The slider's last step, one past the last year, is "every year" (no year rule applied).
  if (META.years) {
    const all = META.years[1] + 1;
    year.min = String(META.years[0]);
    year.max = String(all);
    year.step = "1";
    let pending = false;
    year.addEventListener("input", () => {
      const value = Number(year.value);
      state.year = value === all ? null : value;
      yearValue.textContent = state.year === null ? "All" : String(state.year);
      if (!pending) {
        pending = true;
        requestAnimationFrame(() => { pending = false; render(); sliding = true; });
      }
    });
    year.addEventListener("change", () => { sliding = false; });
    controls.push(() => {
      year.value = String(state.year === null ? all : state.year);
      yearValue.textContent = state.year === null ? "All" : String(state.year);
    });
  } else {
    year.closest("section").hidden = true;
  }

  function syncControls() { for (const sync of controls) sync(); }

  if (META.query) {
    document.getElementById("d4d-query").textContent = META.query;
    document.getElementById("d4d-query-section").hidden = false;
  }

  // Actors with no tie: a list, not a grid of dots.
  const isolateList = document.getElementById("d4d-isolates");
  function isolateLegend(view) {
    const section = isolateList.closest("section");
    section.hidden = isolates.length === 0;
    document.getElementById("d4d-isolates-count").textContent = "(" + view.listed.length.toLocaleString("en") + ")";
    isolateList.replaceChildren(...view.listed.map((i) => el("li", {}, [nodeButton(i)])));
  }

  const summaryBox = document.getElementById("d4d-summary");
  function summary(view) {
    const actors = actorsOf(view).length;
    const total = NODES.length;
    const parts = [(actors === total ? plural(total, "actor", "actors") : actors.toLocaleString("en") + " of " + plural(total, "actor", "actors")) +
      ", " + (view.passing.length === EDGES.length ? plural(EDGES.length, "tie", "ties") : view.passing.length.toLocaleString("en") + " of " + plural(EDGES.length, "tie", "ties")) + "."];
    if (state.year !== null) parts.push("As of " + state.year + ": the actors and ties standing then.");
    const hidden = state.hiddenSectors.size + state.hiddenKinds.size + state.hiddenTypes.size;
    if (hidden) parts.push(plural(hidden, "filter", "filters") + " on.");
    if (!state.allTies) {
      const drawn = view.shownEdges.length + view.aggregate.size;
      let between = 0;
      for (const bundle of view.bundles.values()) between += bundle.count;
      parts.push("Lines: " + drawn.toLocaleString("en") + " of the " + view.passing.length.toLocaleString("en") + " ties, enough to join each group's actors" +
        (view.bundles.size ? "; the " + between.toLocaleString("en") + " ties between groups are drawn as " + plural(view.bundles.size, "grey band", "grey bands") + ", wider for more ties" : "") +
        " (tick \u201cShow every tie\u201d for all).");
    }
    if (view.listed.length) parts.push(plural(view.listed.length, "actor has", "actors have") + " no tie: listed on the left.");
    parts.push("Node size: " + META.sizeBy + ". Position: " + (META.groupBy === "community" ? "communities" : "sectors") + " side by side, close when many ties join them.");
    if (META.aggregated) parts.push("Too many actors to draw at once: one circle per " + (META.groupBy === "community" ? "community" : "sector") + "; click a circle to show its actors.");
    if (META.ego && META.focus !== null) {
      parts.push("Actors within " + plural(META.ego.depth, "tie", "ties") + " of " + NODES[META.focus].label + ".");
    }
    if (META.note) parts.push(META.note);
    summaryBox.textContent = parts.join(" ");
  }

  // Counts, legends and the summary follow the view alone: a selection leaves them as they are.
  let countedView = null;
  afterRender = (view) => {
    if (view !== countedView) {
      for (const count of counters) count(view);
      communityLegend(view);
      isolateLegend(view);
      summary(view);
      countedView = view;
    }
    writeFragment();
    requestDraw();
  };

  // --- every view a link: the fragment holds it ------------------------------------------------
  function fragmentOf() {
    const keys = [];
    const enc = encodeURIComponent;
    if (state.selected && state.selected.type === "node") keys.push("actor=" + enc(slugOf(DETAILS[state.selected.id].iri)));
    if (state.selected && state.selected.type === "edge" && EDGES[state.selected.id].fact) keys.push("tie=" + enc(slugOf(EDGES[state.selected.id].fact)));
    if (state.path) keys.push("path=" + [state.path.from, state.path.to].map((i) => enc(slugOf(DETAILS[i].iri))).join(","));
    if (state.year !== null) keys.push("year=" + state.year);
    const on = Object.keys(state.overlays).filter((k) => state.overlays[k]).sort();
    if (on.length) keys.push("overlay=" + on.join(","));
    for (const [name, set] of [["hide-sectors", state.hiddenSectors], ["hide-kinds", state.hiddenKinds], ["hide-types", state.hiddenTypes]]) {
      if (set.size) keys.push(name + "=" + [...set].sort().map(enc).join(","));
    }
    if (META.thinned && state.allTies) keys.push("ties=all");
    return keys.join("&");
  }
  let applying = false;
  let ready = false;
  function writeFragment() {
    if (applying || !ready) return;
    const wanted = fragmentOf();
    const current = location.hash.replace(/^#/, "");
    if (wanted === current) return;
    const url = location.pathname + location.search + (wanted ? "#" + wanted : "");
    // A drag of the year slider is one step of history, not one per year passed.
    if (sliding) history.replaceState(null, "", url); else history.pushState(null, "", url);
  }
  function parseFragment(text) {
    const keys = new Map();
    for (const part of text.replace(/^#/, "").split("&")) {
      if (!part) continue;
      const at = part.indexOf("=");
      const name = at < 0 ? part : part.slice(0, at);
      const value = at < 0 ? "" : part.slice(at + 1);
      keys.set(name, value.split(",").map((v) => { try { return decodeURIComponent(v); } catch (e) { return v; } }));
    }
    return keys;
  }
  function applyFragment() {
    const keys = parseFragment(location.hash);
    applying = true;
    Object.assign(state, freshState());
    const actor = (name, k) => { const v = keys.get(name); return v && v[k] !== undefined ? actorBySlug.get(v[k]) : undefined; };
    if (keys.has("year") && META.years) {
      const y = Number(keys.get("year")[0]);
      if (Number.isInteger(y)) state.year = Math.min(Math.max(y, META.years[0]), META.years[1]);
    }
    for (const name of keys.get("overlay") || []) if (name in state.overlays) state.overlays[name] = true;
    for (const s of keys.get("hide-sectors") || []) state.hiddenSectors.add(s);
    for (const s of keys.get("hide-kinds") || []) state.hiddenKinds.add(s);
    for (const s of keys.get("hide-types") || []) state.hiddenTypes.add(s);
    if (keys.has("ties")) state.allTies = keys.get("ties")[0] === "all" || !META.thinned;
    syncControls();
    render();
    const a = actor("actor", 0), p0 = actor("path", 0), p1 = actor("path", 1);
    const tie = keys.has("tie") ? tieBySlug.get(keys.get("tie")[0]) : undefined;
    if (p0 !== undefined && p1 !== undefined) setPath(p0, p1);
    else if (a !== undefined) pick(a);
    else if (tie !== undefined) selectEdge(tie);
    else { unselect(); clearPanel(); if (META.focus !== null && !location.hash) selectNode(META.focus); }
    applying = false;
  }
  window.addEventListener("popstate", applyFragment);

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

  // --- pictures: the view as PNG (the canvas) and as SVG (drawn from the same positions) --------
  function download(name, url) {
    const anchor = el("a", { href: url, download: name });
    document.body.append(anchor);
    anchor.click();
    anchor.remove();
  }
  function pngOfView() {
    const source = container.querySelector("canvas");
    const copy = document.createElement("canvas");
    copy.width = source.width;
    copy.height = source.height;
    const ctx = copy.getContext("2d");
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, copy.width, copy.height);
    ctx.drawImage(source, 0, 0);
    return copy.toDataURL("image/png");
  }
  function xml(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  }
  function svgOfView() {
    const W = container.clientWidth, H = container.clientHeight;
    const scale = network.getScale();
    const at = (id) => network.canvasToDOM(network.getPosition(id));
    const out = ['<svg xmlns="http://www.w3.org/2000/svg" width="' + W + '" height="' + H + '" viewBox="0 0 ' + W + " " + H + '">',
      '<rect width="100%" height="100%" fill="#ffffff"/>', '<g class="bundles">'];
    for (const bundle of lastView.bundles.values()) {
      const a = network.canvasToDOM({ x: GROUPS[bundle.a].x, y: GROUPS[bundle.a].y });
      const b = network.canvasToDOM({ x: GROUPS[bundle.b].x, y: GROUPS[bundle.b].y });
      out.push('<line x1="' + a.x.toFixed(1) + '" y1="' + a.y.toFixed(1) + '" x2="' + b.x.toFixed(1) + '" y2="' + b.y.toFixed(1) +
        '" stroke="#5a646e" stroke-opacity="0.3" stroke-linecap="round" stroke-width="' + bundleWidth(bundle.count).toFixed(2) + '"/>');
    }
    out.push("</g>", '<g class="ties">');
    for (const record of edges.get()) {
      const a = at(record.from), b = at(record.to);
      const dash = record.dashes === true ? ' stroke-dasharray="5 5"' : Array.isArray(record.dashes) ? ' stroke-dasharray="' + record.dashes.join(" ") + '"' : "";
      const veiled = lastFocus && !lastFocus.edges.has(record.id) ? ' opacity="0.18"' : "";
      out.push('<line x1="' + a.x.toFixed(1) + '" y1="' + a.y.toFixed(1) + '" x2="' + b.x.toFixed(1) + '" y2="' + b.y.toFixed(1) +
        '" stroke="' + xml(record.color.color) + '" stroke-width="' + (record.width * scale).toFixed(2) + '"' + dash + veiled + "/>");
    }
    out.push("</g>", '<g class="actors">');
    for (const record of nodes.get()) {
      const p = at(record.id);
      const r = (record.size * scale).toFixed(1);
      const fill = xml(record.color.background), stroke = xml(record.color.border);
      const veiled = lastFocus && !lastFocus.near.has(record.id) ? ' opacity="0.18"' : "";
      const common = ' fill="' + fill + '" stroke="' + stroke + '" stroke-width="' + record.borderWidth + '"' + veiled;
      if (record.shape === "square") {
        out.push('<rect x="' + (p.x - r).toFixed(1) + '" y="' + (p.y - r).toFixed(1) + '" width="' + (2 * r) + '" height="' + (2 * r) + '"' + common + "/>");
      } else if (record.shape === "diamond" || record.shape === "triangle" || record.shape === "triangleDown") {
        const pts = record.shape === "diamond" ? [[0, -r], [r, 0], [0, r], [-r, 0]]
          : record.shape === "triangle" ? [[0, -r], [r, r], [-r, r]] : [[0, r], [r, -r], [-r, -r]];
        out.push('<polygon points="' + pts.map(([dx, dy]) => (p.x + Number(dx)).toFixed(1) + "," + (p.y + Number(dy)).toFixed(1)).join(" ") + '"' + common + "/>");
      } else {
        out.push('<circle cx="' + p.x.toFixed(1) + '" cy="' + p.y.toFixed(1) + '" r="' + r + '"' + common + "/>");
      }
    }
    if (!state.overlays.communities) {
      for (const record of nodes.get()) {
        const node = typeof record.id === "number" ? NODES[record.id] : null;
        if (!node || node.sectors.length < 2 || (lastFocus && !lastFocus.near.has(record.id))) continue;
        const p = at(record.id);
        const r = node.size * 0.62 * scale;
        const step = 2 * Math.PI / node.sectors.length;
        node.sectors.forEach((sector, k) => {
          const a0 = -Math.PI / 2 + k * step, a1 = a0 + step;
          out.push('<path class="pie" d="M' + p.x.toFixed(1) + " " + p.y.toFixed(1) + " L" + (p.x + r * Math.cos(a0)).toFixed(1) + " " + (p.y + r * Math.sin(a0)).toFixed(1) +
            " A" + r.toFixed(1) + " " + r.toFixed(1) + " 0 " + (step > Math.PI ? 1 : 0) + " 1 " + (p.x + r * Math.cos(a1)).toFixed(1) + " " + (p.y + r * Math.sin(a1)).toFixed(1) +
            ' Z" fill="' + xml(sectorColour.get(sector) || "#9e9e9e") + '"/>');
        });
      }
    }
    out.push("</g>", '<g class="labels" font-family="' + xml(LABEL_FACE) + '" paint-order="stroke" stroke="#ffffff" stroke-width="3">');
    for (const box of labelBoxes) {
      const bold = box.font.startsWith("600") ? ' font-weight="600"' : "";
      out.push('<text x="' + box.x.toFixed(1) + '" y="' + (box.y + 1).toFixed(1) + '" dominant-baseline="hanging" font-size="' + parseInt(box.font.replace(/^600 /, ""), 10) + '"' + bold + ' fill="' + FONT + '">' + xml(box.text) + "</text>");
    }
    out.push("</g>", "</svg>");
    return out.join("\n");
  }
  document.getElementById("d4d-png").addEventListener("click", () => download("d4d-map.png", pngOfView()));
  document.getElementById("d4d-svg").addEventListener("click", () => {
    download("d4d-map.svg", "data:image/svg+xml;charset=utf-8," + encodeURIComponent(svgOfView()));
  });

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
    Object.assign(state, freshState());
    syncControls();
    render();
    unselect();
    clearPanel();
    fit();
  });

  syncControls();
  applyFragment();
  ready = true;
  // vis-network sized its canvas before the summary above the map was written: size it again now,
  // before the first drawing, rather than let its resize observer draw the map a second time.
  network.setSize();
  // Ready once the view the link asks for is drawn (labels included): at the next frame, the one
  // drawing the opening takes (vis-network coalesces the requests made while opening).
  network.once("afterDrawing", () => {
    window.d4dTimings.firstDrawing = performance.now();
    window.d4dReady = true;
  });
  requestDraw();
  if (location.hash && fragmentOf() !== location.hash.replace(/^#/, "")) history.replaceState(null, "", location.pathname + location.search + (fragmentOf() ? "#" + fragmentOf() : ""));

  window.d4dMap = {
    network, nodes, edges, state, meta: META, data: { nodes: NODES, edges: EDGES },
    render, find, pick, select: selectNode, selectEdge, setPath, expand, clearSelection, syncControls,
    labels: () => labelBoxes.map((b) => ({ id: b.id, text: b.text, x: b.x, y: b.y, w: b.w, h: b.h })),
    view: () => lastView, fragment: fragmentOf, svg: svgOfView, png: pngOfView,
  };
})();
