/* Tynys city map. Reads window.TYNYS_SITE (data/site.js, written by `tynys publish`) and
   window.TYNYS_TEXTS (assets/texts.js, from the i18n/*.json files); needs only Leaflet.
   State (index, language, hour, open node) lives in the URL hash so a view can be shared. */
(function () {
  "use strict";
  const S = window.TYNYS_SITE;
  const TEXTS = window.TYNYS_TEXTS;
  const LANGS = ["kk", "ru", "en"];
  const NONE = {i: "#bdbdbd", "-": "#ffffff", x: "#9e9e9e"};  // incomplete, no value, not scorable
  const state = {std: S.default_standard, lang: "en", hour: S.hours.length - 1, node: null};
  const details = {};
  const waiting = {};
  const markers = {};
  let districts = [];

  // --- texts --------------------------------------------------------------------------------
  function t(key, params) {
    let s = (TEXTS[state.lang] || {})[key];
    if (s === undefined) s = TEXTS.en[key];
    if (s === undefined) return key;
    return s.replace(/\{(\w+)\}/g, (m, k) => {
      const v = params ? params[k] : undefined;
      if (v === undefined || v === null) return m;
      return Array.isArray(v) ? v.map(pollutant).join(", ") : String(v);
    });
  }
  function pollutant(p) { return (TEXTS[state.lang] || {})["pol." + p] || TEXTS.en["pol." + p] || p; }
  function standard(id) { return S.standards.find((s) => s.id === (id || state.std)); }
  function stdName(id) { const k = "std." + id; const s = t(k); return s === k ? standard(id).title : s; }
  function catName(code, id) {
    if (code in NONE) return t({i: "status.incomplete", "-": "status.missing", x: "status.invalid"}[code]);
    const k = "cat." + (id || state.std) + "." + code;
    const s = t(k);
    return s === k ? standard(id).categories[+code].name : s;
  }
  function colour(code, id) { return code in NONE ? NONE[code] : standard(id).categories[+code].color; }
  function ink(hex) {  // black or white text, whichever reads better on the category colour
    const v = parseInt(hex.slice(1), 16), r = v >> 16, g = (v >> 8) & 255, b = v & 255;
    return 0.299 * r + 0.587 * g + 0.114 * b > 140 ? "#000" : "#fff";
  }
  function swatch(code, id) { const c = colour(code, id); return "background:" + c + ";color:" + ink(c); }
  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "style") e.style.cssText = v; else if (k.startsWith("data-")) e.setAttribute(k, v); else e[k] = v;
    }
    for (const kid of kids) if (kid !== null && kid !== undefined) e.append(kid);
    return e;
  }
  function localTime(t0, withDate) {
    const d = new Date((t0 + S.utc_offset_s) * 1000).toISOString();
    return (withDate ? d.slice(0, 10) + " " : "") + d.slice(11, 16);
  }
  function zone() {
    const o = S.utc_offset_s, h = Math.floor(Math.abs(o) / 3600), m = Math.floor(Math.abs(o) % 3600 / 60);
    return "UTC" + (o < 0 ? "−" : "+") + String(h).padStart(2, "0") + ":" + String(m).padStart(2, "0");
  }
  function hourSpan(h) {
    const t0 = S.hours[h];
    return localTime(t0, true) + "–" + localTime(t0 + 3600, false) + " (" + zone() + ")";
  }
  function num(v) { return v === null || v === undefined ? "–" : String(v); }

  // --- state in the URL hash ------------------------------------------------------------------
  function readHash() {
    const p = new URLSearchParams(location.hash.slice(1));
    if (S.standards.some((s) => s.id === p.get("index"))) state.std = p.get("index");
    if (LANGS.includes(p.get("lang"))) state.lang = p.get("lang");
    else {
      const nav = (navigator.language || "en").slice(0, 2);
      state.lang = LANGS.includes(nav) ? nav : "en";
    }
    const h = parseInt(p.get("hour"), 10);
    if (h >= 0 && h < S.hours.length) state.hour = h;
    if (S.nodes.some((n) => n.id === p.get("node"))) state.node = p.get("node");
  }
  function writeHash() {
    const p = new URLSearchParams({index: state.std, lang: state.lang, hour: state.hour});
    if (state.node) p.set("node", state.node);
    history.replaceState(null, "", "#" + p.toString());
  }

  // --- map ------------------------------------------------------------------------------------
  const map = L.map("map", {zoomControl: true, attributionControl: true});
  if (S.tiles) {
    let warned = false;
    L.tileLayer(S.tiles.url, {maxZoom: 18, attribution: S.tiles.attribution}).on("tileerror", () => {
      if (warned) return;
      warned = true;
      const p = document.getElementById("offline");
      p.hidden = false;
      p.setAttribute("data-t", "map.offline");
      p.textContent = t("map.offline");
    }).addTo(map);
  }
  for (const d of S.districts) {
    const layer = L.polygon(d.ring, {color: "#555", weight: 1, dashArray: "4 4", fillOpacity: 0.18, className: "tn-district"});
    layer.addTo(map);
    districts.push({name: d.name, layer: layer});
  }
  const located = S.nodes.filter((n) => n.lat !== null && n.lon !== null);
  for (const n of located) {
    const m = L.marker([n.lat, n.lon], {icon: L.divIcon({className: "tn-icon", html: "", iconSize: [34, 34]}),
                                       keyboard: true, title: n.id});
    m.on("click", () => openNode(n.id));
    m.addTo(map);
    markers[n.id] = m;
  }
  const bounds = L.latLngBounds(located.map((n) => [n.lat, n.lon]));
  for (const d of S.districts) for (const p of d.ring) bounds.extend(p);
  if (bounds.isValid()) map.fitBounds(bounds, {padding: [20, 20], maxZoom: 14});
  else if (S.city) map.setView([S.city.lat, S.city.lon], 12);
  else map.setView([0, 0], 2);

  // --- rendering ------------------------------------------------------------------------------
  function nodeCode(n) { return n.index[state.std].c[state.hour]; }
  function nodeValue(n) {  // a banded index (EEA) sends no numbers: its number is the category's
    const x = n.index[state.std];
    if (x.v) return x.v[state.hour];
    return x.c[state.hour] in NONE ? null : standard().categories[+x.c[state.hour]].lo;
  }

  function renderMarkers() {
    for (const n of located) {
      const code = nodeCode(n), v = nodeValue(n);
      const icon = markers[n.id].getElement();
      icon.innerHTML = "";
      icon.append(el("div", {className: "tn-marker" + (code in NONE ? " tn-none" : ""), "data-node": n.id, "data-code": code,
                             style: swatch(code), title: n.id + ": " + catName(code)},
                     code in NONE ? "" : num(v)));
    }
  }

  function areaIndex(a) { return {v: S.area_index[state.std].v[a][state.hour], c: S.area_index[state.std].c[a][state.hour]}; }

  function renderDistricts() {
    for (const d of districts) {
      const a = S.areas.indexOf(d.name);
      let text = d.name, fill = "#ffffff";
      if (a >= 0) {
        const x = areaIndex(a);
        const nodes = S.area_values.nodes[a][state.hour];
        if (S.area_values.basis[a][state.hour] === "too-few-nodes") text += ": " + t("area.too_few", {n: nodes, min: S.rules.min_nodes});
        else { text += ": " + num(x.v) + " " + catName(x.c); fill = colour(x.c); }
      } else text += ": " + t("area.no_nodes");
      d.layer.setStyle({fillColor: fill});
      d.layer.unbindTooltip().bindTooltip(text, {sticky: true});
    }
  }

  function ruleText(a) {
    const s = standard(), h = state.hour;
    const basis = S.area_values.basis[a][h];
    const parts = [stdName(s.id) + " (" + t("ui.table") + " " + s.version + ")"];
    if (s.missing.length) parts.push(t("rule.partial", {measured: s.measured, missing: s.missing}));
    parts.push(t("rule." + S.rules.statistic, {n: S.area_values.nodes[a][h], min: S.rules.min_nodes, trim: Math.round(S.rules.trim * 100)})
               + " (" + t("basis." + basis) + ")");
    if (s.id === "kz") parts.push(t("rule.kz"));
    return parts.join(" · ");
  }

  function renderHeadline() {
    const box = document.getElementById("headline");
    const x = areaIndex(0), main = S.area_index[state.std].main[0][state.hour];
    const place = S.city ? S.city.title : t("ui.network");
    box.innerHTML = "";
    box.append(
      el("div", {className: "hl-place"}, place + " · " + hourSpan(state.hour)),
      el("div", {className: "hl-row"},
         el("span", {className: "hl-value" + (x.c in NONE ? " tn-none" : ""), style: swatch(x.c), "data-code": x.c},
            x.c in NONE ? "–" : num(x.v)),
         el("span", {className: "hl-cat"}, catName(x.c)),
         main ? el("span", {className: "hl-main"}, t(state.std === "kz" ? "hl.by" : "hl.main", {p: main.split(",")})) : null),
      el("div", {className: "hl-rule"}, ruleText(0)));
    if (S.nodes.length === 0 || S.notes.some((n) => n.key === "note.no_data")) {
      box.append(el("div", {className: "hl-missing"}, t(S.nodes.length ? "hl.no_data" : "hl.no_nodes")));
    }
  }

  function renderLegend() {
    const s = standard(), box = document.getElementById("legend");
    box.innerHTML = "";
    const list = el("ul", {});
    s.categories.forEach((c, k) => list.append(
      el("li", {"data-code": String(k)}, el("span", {className: "sw", style: "background:" + c.color}), catName(String(k)))));
    for (const code of ["i", "-"]) list.append(el("li", {"data-code": code}, el("span", {className: "sw", style: "background:" + NONE[code]}), catName(code)));
    box.append(el("h2", {}, stdName(s.id)), list);
    if (S.districts.length) box.append(el("p", {className: "small"}, t("legend.districts")));
  }

  function renderList() {
    const table = document.getElementById("nodes");
    table.innerHTML = "";
    table.append(el("tr", {}, el("th", {}, t("ui.node")), el("th", {}, t("ui.district")), el("th", {}, stdName(state.std)),
                    el("th", {}, t("ui.category")), el("th", {}, t("ui.quality"))));
    for (const n of S.nodes) {
      const code = nodeCode(n);
      const row = el("tr", {"data-node": n.id, className: state.node === n.id ? "sel" : ""},
                     el("td", {}, el("span", {className: "sw", style: "background:" + colour(code)}), n.id),
                     el("td", {}, n.district || ""), el("td", {}, code in NONE ? "–" : num(nodeValue(n))),
                     el("td", {}, catName(code)), el("td", {}, qualityShort(n)));
      row.addEventListener("click", () => openNode(n.id));
      table.append(row);
    }
    const off = S.nodes.filter((n) => n.lat === null || n.lon === null).map((n) => n.id);
    const p = document.getElementById("unlocated");
    p.hidden = !off.length;
    p.textContent = off.length ? t("ui.unlocated", {nodes: off.join(", ")}) : "";
  }

  function profileText(c) { return c ? pollutant(c.p) + ": " + c.profile : ""; }
  function qualityShort(n) { return t("q." + n.quality.state) + (n.quality.stale ? " · " + staleText(n.quality) : "") + (n.quality.flagged ? " · " + t("q.flagged") : ""); }
  function staleText(q) { return q.stale_since ? t("q.stale", {time: localTime(Date.parse(q.stale_since) / 1000, true)}) : t("q.never"); }
  function qualityLines(q) {  // the node's detail file has its full quality
    const out = [];
    const profs = ["pm25", "so2"].filter((p) => q.calibration[p]).map((p) => profileText(Object.assign({p: p}, q.calibration[p])));
    out.push(q.state === "uncalibrated" ? t("q.uncalibrated_long") : t("q.calibrated_with", {profiles: profs.join("; ")})
             + (q.state === "partly-calibrated" ? " " + t("q.partly_long") : ""));
    if (q.stale) out.push(staleText(q));
    else if (q.last) out.push(t("q.last", {time: localTime(Date.parse(q.last) / 1000, true)}));
    for (const f of q.flags) out.push(t(f.key, f.params));
    return out;
  }

  function chart(values, codes, unit, label) {
    const W = 240, H = 64, TOP = 12, n = values.length, bw = W / n;
    const top = Math.max(1, ...values.filter((v) => v !== null));
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", `0 ${-TOP} ${W} ${H + TOP + 14}`);
    svg.setAttribute("class", "tn-chart");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", label);
    values.forEach((v, k) => {
      if (v === null) return;
      const r = document.createElementNS(ns, "rect"), h = Math.max(1, v / top * H);
      r.setAttribute("x", (k * bw + 0.5).toFixed(1));
      r.setAttribute("y", (H - h).toFixed(1));
      r.setAttribute("width", (bw - 1).toFixed(1));
      r.setAttribute("height", h.toFixed(1));
      r.setAttribute("fill", codes ? colour(codes[k]) : "#607d8b");
      if (k === state.hour) r.setAttribute("stroke", "#000");
      svg.append(r);
    });
    const text = (x, y, s, anchor) => {
      const e = document.createElementNS(ns, "text");
      e.setAttribute("x", x); e.setAttribute("y", y); e.setAttribute("text-anchor", anchor || "start");
      e.textContent = s; svg.append(e);
    };
    if (values.every((v) => v === null)) text(W / 2, H / 2, t("ui.no_values"), "middle");
    else text(2, -3, top + " " + unit);
    text(0, H + 12, localTime(S.hours[0]));
    text(W, H + 12, localTime(S.hours[n - 1] + 3600), "end");
    return el("figure", {}, el("figcaption", {}, label), svg);
  }

  function loadNode(id) {  // the details of S.node_chunk nodes share a file
    const k = Math.floor(S.nodes.findIndex((n) => n.id === id) / S.node_chunk);
    if (details[id] || waiting[k]) return;
    waiting[k] = true;
    document.head.append(el("script", {src: "data/nodes/" + k + ".js"}));
  }
  window.TYNYS_NODES = function (part) {
    for (const d of part) details[d.id] = d;
    if (state.node && details[state.node]) renderPanel();
  };

  function renderPanel() {
    const box = document.getElementById("panel");
    const n = S.nodes.find((x) => x.id === state.node);
    box.hidden = !n;
    box.innerHTML = "";
    box.setAttribute("data-node", n ? n.id : "");
    if (!n) return;
    const code = nodeCode(n), d = details[n.id];
    const close = el("button", {className: "close", title: t("ui.close")}, "×");
    close.addEventListener("click", () => { state.node = null; update(); });
    box.append(close, el("h2", {}, n.name ? n.name + " (" + n.id + ")" : n.id),
               el("p", {className: "small"}, [n.district, t("place." + n.placement)].filter(Boolean).join(" · ")),
               el("p", {className: "pn-value"}, el("span", {className: "sw", style: "background:" + colour(code)}),
                  stdName(state.std) + ": " + (code in NONE ? "" : num(nodeValue(n)) + " ") + catName(code)));
    if (!d) { box.append(el("p", {}, t("ui.loading"))); loadNode(n.id); }
    else {
      const h = state.hour, cal = (p) => d.calibrated[p][h] ? t("q.cal_value") : t("q.raw_value");
      box.append(el("p", {className: "pn-last"},
                    pollutant("pm25") + ": " + num(d.pm25[h]) + " µg/m³ (" + cal("pm25") + ")" + " · " +
                    pollutant("so2") + ": " + num(d.so2[h]) + " ppb (" + cal("so2") + ")"),
                 chart(d.pm25, n.index[state.std].c, "µg/m³", pollutant("pm25") + " · " + t("ui.last24")),
                 chart(d.so2, null, "ppb", pollutant("so2") + " · " + t("ui.last24")));
    }
    if (d) {
      const q = el("ul", {className: "pn-quality"});
      for (const line of qualityLines(d.quality)) q.append(el("li", {}, line));
      box.append(el("h3", {}, t("ui.quality")), q);
    }
  }

  function renderNotes() {
    const box = document.getElementById("notes");
    box.innerHTML = "";
    if (!S.notes.length) return;
    const ul = el("ul", {});
    for (const n of S.notes) {
      const params = Object.assign({}, n.params);
      if (params.standard) params.standard = stdName(params.standard);
      ul.append(el("li", {"data-key": n.key}, n.key === "note.text" ? n.text : t(n.key, params)));
    }
    box.append(el("h2", {}, t("ui.notes")), ul);
  }

  function renderStatic() {
    document.documentElement.lang = state.lang;
    document.title = (S.city ? S.city.title + " · " : "") + t("ui.title");
    document.getElementById("title").textContent = (S.city ? S.city.title + " · " : "") + t("ui.title");
    for (const e of document.querySelectorAll("[data-t]")) e.textContent = t(e.getAttribute("data-t"));
    const sel = document.getElementById("standard");
    sel.innerHTML = "";
    for (const s of S.standards) sel.append(el("option", {value: s.id, selected: s.id === state.std}, stdName(s.id)));
    const langs = document.getElementById("langs");
    langs.innerHTML = "";
    for (const l of LANGS) {
      const b = el("button", {className: l === state.lang ? "on" : "", "data-lang": l}, TEXTS[l]["lang.name"]);
      b.addEventListener("click", () => { state.lang = l; update(); });
      langs.append(b);
    }
    document.getElementById("hour-label").textContent = hourSpan(state.hour);
    const f = document.getElementById("footer");
    f.innerHTML = "";
    const od = S.open_data;
    if (od) {
      const links = el("p", {}, t("ui.open_data") + ": ");
      od.files.forEach((x, k) => { if (k) links.append(" · "); links.append(el("a", {href: x.path}, x.name)); });
      f.append(links, el("p", {className: "small"}, t("ui.licence", {licence: od.licence})));
      if (od.bulletin) {
        const b = el("p", {}, t("ui.bulletin") + ": ");
        od.bulletin.forEach((x, k) => { if (k) b.append(" · "); b.append(el("a", {href: x.path}, x.name)); });
        f.append(b);
      }
    }
    f.append(el("p", {className: "small"}, t("ui.generated", {time: localTime(Date.parse(S.generated) / 1000, true) + " (" + zone() + ")"})));
  }

  function update() {
    renderStatic(); renderHeadline(); renderMarkers(); renderDistricts(); renderLegend(); renderList(); renderPanel(); renderNotes();
    writeHash();
  }
  function openNode(id) {
    state.node = id;
    update();
    const n = S.nodes.find((x) => x.id === id);
    if (n && n.lat !== null && n.lon !== null) map.panTo([n.lat, n.lon]);
  }

  readHash();
  const slider = document.getElementById("hour");
  slider.max = String(S.hours.length - 1);
  slider.value = String(state.hour);
  slider.addEventListener("input", () => { state.hour = parseInt(slider.value, 10); update(); });
  document.getElementById("standard").addEventListener("change", (e) => { state.std = e.target.value; update(); });
  update();
  document.body.setAttribute("data-ready", "1");
})();
