// Sightline dashboard: a thin client of the public stats API (SPEC sections 4, 5 and 9).
// The project id comes from this page's address (`?project=`), the read key from its fragment
// (`#key=`, which browsers never send) or the login form; the key is kept in this tab's
// sessionStorage, removed from the address at once, and sent only in the Authorization header
// of same-origin API requests. On /share/<token> the page shows one shared dashboard, read-only,
// from /api/v1/shared/<token>, without a key.
"use strict";

(() => {
  const PERIODS = ["today", "7d", "30d", "month", "12mo"];
  const INTERVALS = { today: "hour", "7d": "day", "30d": "day", month: "day", "12mo": "month" };
  const REALTIME_EVERY_MS = 10_000;
  const LIST_LIMIT = 10;
  // Above this the previous period had (almost) no data: the page says "new", not "+10,474%".
  const MAX_SHOWN_CHANGE = 1000;
  // funnel, retention, active-users and realtime accept only these (session attribute) filters.
  const SESSION_DIMENSIONS = new Set([
    "entry_page", "exit_page", "source", "referrer", "utm_source", "utm_medium", "utm_campaign",
    "utm_content", "utm_term", "country", "device", "browser", "os",
  ]);
  const DIMENSION_LABELS = {
    page: "Page", entry_page: "Entry page", exit_page: "Exit page", source: "Source",
    referrer: "Referrer", country: "Country", device: "Device", browser: "Browser", os: "OS",
    event: "Event",
  };
  const OPERATOR_LABELS = { "==": "is", "!=": "is not", "=@": "contains", "!@": "does not contain" };

  const numberFormat = new Intl.NumberFormat();
  const compactFormat = new Intl.NumberFormat(undefined,
    { notation: "compact", maximumFractionDigits: 1 });
  const fixed = (digits) => new Intl.NumberFormat(undefined,
    { minimumFractionDigits: digits, maximumFractionDigits: digits });
  const oneDecimal = fixed(1);
  const twoDecimals = fixed(2);
  const regionNames = typeof Intl.DisplayNames === "function"
    ? new Intl.DisplayNames(undefined, { type: "region" }) : null;

  const format = {
    count: (v) => (Math.abs(v) >= 100_000 ? compactFormat.format(v) : numberFormat.format(v)),
    exact: (v) => numberFormat.format(v),
    decimal: (v) => twoDecimals.format(v),
    percent: (v) => `${oneDecimal.format(v)}%`,
    money: (v) => (Math.abs(v) >= 100_000 ? compactFormat.format(v) : twoDecimals.format(v)),
    duration: (seconds) => {
      const s = Math.round(seconds);
      if (s < 60) return `${s}s`;
      const m = Math.floor(s / 60);
      if (m < 60) return `${m}m ${String(s % 60).padStart(2, "0")}s`;
      return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, "0")}m`;
    },
  };

  const KPIS = [
    { metric: "visitors", label: "Unique visitors", format: format.count },
    { metric: "visits", label: "Visits", format: format.count },
    { metric: "pageviews", label: "Pageviews", format: format.count },
    { metric: "views_per_visit", label: "Views per visit", format: format.decimal },
    { metric: "bounce_rate", label: "Bounce rate", format: format.percent, lowerIsBetter: true },
    { metric: "visit_duration", label: "Visit duration", format: format.duration },
    { metric: "events", label: "Events", format: format.count },
    { metric: "revenue", label: "Revenue", format: format.money },
  ];

  const LISTS = [
    { report: "pages", title: "Top pages", dimension: "page",
      columns: [["visitors", "Visitors", format.exact], ["pageviews", "Pageviews", format.exact]] },
    { report: "sources", title: "Top sources", dimension: "source",
      columns: [["visitors", "Visitors", format.exact], ["visits", "Visits", format.exact]] },
    { report: "entry-pages", title: "Entry pages", dimension: "entry_page",
      columns: [["visits", "Visits", format.exact], ["bounce_rate", "Bounce", format.percent]] },
    { report: "countries", title: "Countries", dimension: "country",
      columns: [["visitors", "Visitors", format.exact], ["visits", "Visits", format.exact]] },
    { report: "devices", title: "Devices", dimension: "device",
      columns: [["visitors", "Visitors", format.exact], ["visits", "Visits", format.exact]] },
    { report: "browsers", title: "Browsers", dimension: "browser",
      columns: [["visitors", "Visitors", format.exact], ["visits", "Visits", format.exact]] },
    { report: "events", title: "Custom events", dimension: "event",
      columns: [["events", "Events", format.exact], ["visitors", "Visitors", format.exact]] },
  ];

  const $ = (id) => document.getElementById(id);
  const SVG_NS = "http://www.w3.org/2000/svg";

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) {
      if (name === "class") node.className = value;
      else if (name === "text") node.textContent = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else if (value !== undefined && value !== null && value !== false) node.setAttribute(name, value);
    }
    node.append(...children.filter((c) => c !== null && c !== undefined));
    return node;
  }

  function svg(tag, attrs = {}, text) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // ---- state: the address keeps the view, sessionStorage the key ---------------------------

  const MODE = document.body.dataset.mode || "project"; // project | share | gone
  const address = new URLSearchParams(window.location.search);
  const state = {
    project: (address.get("project") || "").trim(),
    key: "",
    share: MODE === "share" ? decodeURIComponent(window.location.pathname.split("/")[2] || "") : "",
    dashboard: (address.get("dashboard") || "").trim(),
    timezone: undefined,
    period: PERIODS.includes(address.get("period")) ? address.get("period") : "30d",
    filters: parseFilters(address.get("filters") || ""),
  };

  const storageName = (project) => `sightline.key.${project}`;

  function storedKey(project) {
    try { return window.sessionStorage.getItem(storageName(project)) || ""; } catch { return ""; }
  }

  function storeKey(project, key) {
    try { window.sessionStorage.setItem(storageName(project), key); } catch { /* memory only */ }
  }

  // A key in the fragment is stored and removed from the address (and from the history entry);
  // a key in the query string (where servers log it) is never used, only removed.
  function takeKey() {
    const fragment = new URLSearchParams(window.location.hash.slice(1));
    const given = (fragment.get("key") || "").trim();
    if (given && state.project) storeKey(state.project, given);
    if (window.location.hash || address.has("key")) {
      address.delete("key");
      const query = address.toString();
      window.history.replaceState(null, "", `${window.location.pathname}${query ? `?${query}` : ""}`);
    }
    return state.project ? given || storedKey(state.project) : "";
  }

  // Filters use the API's syntax: conditions joined by ";", values escaping "\", "|" and ";".
  // A filter keeps its value as written in that syntax (`raw`), so it round-trips exactly.
  function parseFilters(text) {
    const parts = [];
    let current = "";
    for (let i = 0; i < text.length; i += 1) {
      if (text[i] === "\\" && i + 1 < text.length) { current += text[i] + text[i + 1]; i += 1; }
      else if (text[i] === ";") { parts.push(current); current = ""; }
      else current += text[i];
    }
    parts.push(current);
    return parts.map((part) => part.match(/^([a-z_]+|prop:[^=!]+)(==|!=|=@|!@)(.+)$/))
      .filter(Boolean).map(([, dimension, operator, raw]) => ({ dimension, operator, raw }));
  }

  const escapeValue = (value) => value.replace(/[\\|;]/g, (c) => `\\${c}`);
  const unescapeValue = (raw) => raw.replace(/\\(.)/g, "$1");
  const filterText = (filters) => filters.map((f) => `${f.dimension}${f.operator}${f.raw}`).join(";");

  function saveAddress() {
    const params = new URLSearchParams(window.location.search);
    params.delete("key");
    params.set("period", state.period);
    if (state.filters.length) params.set("filters", filterText(state.filters));
    else params.delete("filters");
    if (state.dashboard) params.set("dashboard", state.dashboard);
    else params.delete("dashboard");
    window.history.replaceState(null, "", `${window.location.pathname}?${params}`);
  }

  // ---- the API ----------------------------------------------------------------------------

  class ApiError extends Error {}

  const projectPath = () => `/api/v1/projects/${encodeURIComponent(state.project)}`;

  async function api(report, query, signal) {
    return (await request(`${projectPath()}/stats/${report}`, query, signal)).results;
  }

  async function request(path, query, signal) {
    const url = new URL(path, window.location.origin);
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined && value !== "") url.searchParams.set(name, value);
    }
    const headers = { Accept: "application/json" };
    if (state.key) headers.Authorization = `Bearer ${state.key}`;
    let response;
    try {
      response = await fetch(url, {
        headers, credentials: "omit", referrerPolicy: "no-referrer", signal,
      });
    } catch (error) {
      if (error.name === "AbortError") throw error;
      throw new ApiError("The Sightline server could not be reached.");
    }
    if (!response.ok) {
      let detail = `${response.status} ${response.statusText}`.trim();
      try {
        const problem = await response.json();
        detail = problem.detail || problem.title || detail;
      } catch { /* not problem+json: keep the status line */ }
      throw new ApiError(detail);
    }
    return response.json();
  }

  // ---- errors -----------------------------------------------------------------------------

  const errors = new Map(); // message -> the parts of the page it concerns

  function renderErrors() {
    const box = $("errors");
    box.replaceChildren(...[...errors].map(([text, places]) => el("p", {},
      el("strong", { text: `${[...places].join(", ")}: ` }), text)));
    box.hidden = errors.size === 0;
  }

  function showError(where, error) {
    if (error.name === "AbortError") return;
    const message = error instanceof ApiError ? error.message : "Unexpected error in the page.";
    if (!(error instanceof ApiError)) console.error(error);
    errors.set(message, (errors.get(message) || new Set()).add(where));
    renderErrors();
  }

  function clearErrors(shouldClear) {
    for (const [message, places] of errors) {
      for (const place of [...places]) if (shouldClear(place)) places.delete(place);
      if (!places.size) errors.delete(message);
    }
    renderErrors();
  }

  // ---- KPI cards --------------------------------------------------------------------------

  function changeBadge(kpi, item) {
    const unknown = item.change === null || item.change === undefined;
    if (unknown || item.change >= MAX_SHOWN_CHANGE) {
      const text = (item.previous === 0 || !unknown) && item.value > 0 ? "new" : "–";
      return el("span", { class: "change flat", text,
        title: "The previous period has no data (or almost none) to compare with" });
    }
    const rounded = Math.round(item.change * 10) / 10;
    const direction = rounded > 0 ? "up" : rounded < 0 ? "down" : "flat";
    const better = (direction === "up") !== Boolean(kpi.lowerIsBetter);
    const good = direction === "flat" ? "" : better ? " good" : " bad";
    const arrow = { up: "▲", down: "▼", flat: "" }[direction];
    const sign = rounded > 0 ? "+" : rounded < 0 ? "−" : "";
    return el("span", { class: `change ${direction}${good}` },
      el("span", { "aria-hidden": "true", text: arrow }),
      `${sign}${oneDecimal.format(Math.abs(rounded))}%`);
  }

  function kpiCard(kpi, item) {
    const compare = item.previous === undefined ? el("span", { class: "kpi-compare", text: "\u00a0" })
      : el("span", { class: "kpi-compare" }, changeBadge(kpi, item),
        el("span", { class: "kpi-previous", text: ` vs ${kpi.format(item.previous ?? 0)}` }));
    return el("li", { class: "kpi" },
      el("span", { class: "kpi-label", text: kpi.label }),
      el("span", { class: "kpi-value", text: kpi.format(item.value), title: String(item.value) }),
      compare);
  }

  function renderKpis(results) {
    $("kpis").replaceChildren(...KPIS.map((kpi) => kpiCard(kpi, results[kpi.metric] || { value: 0 })));
  }

  // Cards without numbers: "…" while the first answer is awaited, "–" when it failed.
  function placeholderKpis(text) {
    $("kpis").replaceChildren(...KPIS.map((kpi) => el("li", { class: "kpi" },
      el("span", { class: "kpi-label", text: kpi.label }), el("span", { class: "kpi-value", text }),
      el("span", { class: "kpi-compare", text: "\u00a0" }))));
  }

  // ---- the timeseries chart (plain SVG) ---------------------------------------------------

  let lastSeries = null;

  // The top of the y axis: four equal steps of 1, 2, 2.5 or 5 times a power of ten.
  function niceMax(value) {
    if (value <= 4) return 4;
    const rough = value / 4;
    const power = 10 ** Math.floor(Math.log10(rough));
    const multiples = power === 1 ? [1, 2, 5, 10] : [1, 2, 2.5, 5, 10]; // whole-number steps
    return multiples.find((m) => m * power >= rough) * power * 4;
  }

  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

  function bucketLabel(date, interval, long = false) {
    if (interval === "hour") return date.slice(11, 16); // local time, as the API labels it
    const [year, month, day] = date.slice(0, 10).split("-").map(Number);
    if (interval === "month") return `${MONTHS[month - 1]}${long || month === 1 ? ` ${year}` : ""}`;
    return `${day} ${MONTHS[month - 1]}${long ? ` ${year}` : ""}`;
  }

  // Buckets that start after now (the rest of today, of this month) are not zeros: leave them out.
  function pastBuckets(series, interval) {
    const now = new Date();
    if (interval === "hour") return series.filter((p) => Date.parse(p.date) <= now.getTime());
    let today;
    try {
      today = new Intl.DateTimeFormat("en-CA", { timeZone: state.timezone, year: "numeric",
        month: "2-digit", day: "2-digit" }).format(now);
    } catch { return series; }
    const size = interval === "month" ? 7 : 10;
    return series.filter((p) => p.date.slice(0, size) <= today.slice(0, size));
  }

  function renderChart(series, interval) {
    lastSeries = { series, interval };
    drawChart($("chart"), pastBuckets(series, interval), interval, ["visitors", "pageviews"]);
  }

  const charts = new Map(); // widget chart boxes and what they show, drawn again on resize
  let chartCount = 0;

  function drawChart(box, series, interval, [first, second]) {
    chartCount += 1;
    const titleId = `chart-svg-title-${chartCount}`;
    const descId = `chart-svg-desc-${chartCount}`;
    const width = Math.max(320, Math.round(box.clientWidth || 900));
    const height = 260;
    const pad = { top: 12, right: 16, bottom: 30, left: 52 };
    const innerW = width - pad.left - pad.right;
    const innerH = height - pad.top - pad.bottom;
    const top = niceMax(Math.max(0, ...series.flatMap((p) => [p[first] || 0, p[second] || 0])));
    const n = series.length;
    const x = (i) => pad.left + (n <= 1 ? innerW / 2 : (i * innerW) / (n - 1));
    const y = (v) => pad.top + innerH - (v / top) * innerH;

    const totalVisitors = series.reduce((s, p) => s + (p[first] || 0), 0);
    const totalPageviews = series.reduce((s, p) => s + (p[second] || 0), 0);
    const firstLabel = n ? bucketLabel(series[0].date, interval, true) : "";
    const lastLabel = n ? bucketLabel(series[n - 1].date, interval, true) : "";
    const chart = svg("svg", {
      viewBox: `0 0 ${width} ${height}`, width, height, role: "img",
      "aria-labelledby": `${titleId} ${descId}`, class: "chart-svg",
    });
    const names = second ? `${first} and ${second}` : first;
    chart.append(svg("title", { id: titleId }, `${names} per ${interval}`));
    chart.append(svg("desc", { id: descId },
      `${n} ${interval}s from ${firstLabel} to ${lastLabel}; the sum of the ${interval}s' ${first} `
      + `is ${format.exact(totalVisitors)}`
      + (second ? ` and of ${second} ${format.exact(totalPageviews)}.` : ".")));

    const grid = svg("g", { class: "grid", "aria-hidden": "true" });
    for (let i = 0; i <= 4; i += 1) {
      const value = (top * i) / 4;
      const gy = y(value);
      grid.append(svg("line", { x1: pad.left, x2: width - pad.right, y1: gy, y2: gy }));
      grid.append(svg("text", { x: pad.left - 8, y: gy + 4, "text-anchor": "end" },
        format.count(value)));
    }
    const every = Math.max(1, Math.ceil((n - 1) / Math.max(1, Math.floor(innerW / 90))));
    for (let i = 0; i < n; i += every) {
      const anchor = i === 0 && n > 1 ? "start" : "middle";
      grid.append(svg("text", { x: x(i), y: height - 8, "text-anchor": anchor },
        bucketLabel(series[i].date, interval, i === 0 && interval === "month")));
    }
    chart.append(grid);

    const point = (i, value) => `${x(i).toFixed(1)},${y(value).toFixed(1)}`;
    const path = (metric) => series.map((p, i) => `${i ? "L" : "M"}${point(i, p[metric] || 0)}`).join("");
    if (n) {
      const area = `${path(first)}L${point(n - 1, 0)}L${point(0, 0)}Z`;
      chart.append(svg("path", { class: "area-visitors", d: area }));
      if (second) chart.append(svg("path", { class: "line-pageviews", d: path(second) }));
      chart.append(svg("path", { class: "line-visitors", d: path(first) }));
      if (n <= 40) {
        for (const [i, p] of series.entries()) {
          chart.append(svg("circle", {
            class: "dot-visitors", cx: x(i), cy: y(p[first] || 0), r: 3 }));
        }
      }
      // One hover target per bucket, with a native tooltip.
      const slot = n <= 1 ? innerW : innerW / (n - 1);
      const hover = svg("g", { class: "hover" });
      for (const [i, p] of series.entries()) {
        const target = svg("rect", {
          x: Math.max(pad.left, x(i) - slot / 2), y: pad.top, width: slot, height: innerH,
        });
        target.append(svg("title", {}, `${bucketLabel(p.date, interval, true)}: `
          + `${format.exact(p[first] || 0)} ${first}`
          + (second ? `, ${format.exact(p[second] || 0)} ${second}` : "")));
        hover.append(target);
      }
      chart.append(hover);
    }
    box.replaceChildren(chart);
    if (!totalVisitors && !totalPageviews) {
      box.append(el("p", { class: "chart-empty", text: "No data in this period" }));
    }
  }

  function failChart() {
    lastSeries = null;
    $("chart").replaceChildren(el("p", { class: "chart-empty", text: "Could not load the chart" }));
  }

  // ---- top lists --------------------------------------------------------------------------

  function displayValue(dimension, value) {
    if (dimension === "country" && regionNames) {
      try { return regionNames.of(value) || value; } catch { return value; }
    }
    return value;
  }

  function listPanels() {
    $("lists").replaceChildren(...LISTS.map((list) => {
      const id = `list-${list.report}`;
      return el("section", { class: "panel list", "aria-labelledby": `${id}-title` },
        el("div", { class: "panel-head" }, el("h2", { id: `${id}-title`, text: list.title })),
        el("table", { id },
          el("thead", {}, el("tr", {},
            el("th", { scope: "col", text: DIMENSION_LABELS[list.dimension] }),
            ...list.columns.map(([, label]) => el("th", { scope: "col", class: "num", text: label })))),
          el("tbody", {}, el("tr", { class: "empty" }, el("td", {
            colspan: list.columns.length + 1, text: "Loading…" })))));
    }));
  }

  function renderList(list, rows) {
    const body = document.querySelector(`#list-${list.report} tbody`);
    if (!rows.length) {
      body.replaceChildren(el("tr", { class: "empty" },
        el("td", { colspan: list.columns.length + 1, text: "No data for this period" })));
      return;
    }
    const [firstMetric] = list.columns[0];
    const top = Math.max(1, ...rows.map((r) => r[firstMetric] || 0));
    body.replaceChildren(...rows.map((row) => {
      const value = String(row[list.dimension]);
      const shown = displayValue(list.dimension, value);
      const add = () => addFilter(list.dimension, value);
      const button = el("button", {
        type: "button", class: "row-filter",
        title: `Filter: ${DIMENSION_LABELS[list.dimension]} is ${value}`,
        onclick: (event) => { event.stopPropagation(); add(); },
      }, shown);
      const bar = el("span", { class: "bar", "aria-hidden": "true" });
      bar.style.setProperty("--share", `${((row[firstMetric] || 0) / top) * 100}%`);
      return el("tr", { class: "row", onclick: add },
        el("td", { class: "label" }, bar, button),
        ...list.columns.map(([metric, , fmt]) => el("td", {
          class: "num", text: fmt(row[metric] ?? 0) })));
    }));
  }

  function failList(list) {
    document.querySelector(`#list-${list.report} tbody`).replaceChildren(el("tr", { class: "empty" },
      el("td", { colspan: list.columns.length + 1, text: "Could not load this list" })));
  }

  // ---- filters ----------------------------------------------------------------------------

  function addFilter(dimension, value) {
    const raw = escapeValue(value);
    state.filters = state.filters.filter((f) => f.dimension !== dimension);
    state.filters.push({ dimension, operator: "==", raw });
    changed();
  }

  function removeFilter(index) {
    state.filters.splice(index, 1);
    changed();
    const chips = $("filter-chips").querySelectorAll("button");
    (chips[Math.min(index, chips.length - 1)] || $("periods").querySelector("input:checked")).focus();
  }

  function renderFilters() {
    $("filter-chips").replaceChildren(...state.filters.map((f, index) => {
      const name = DIMENSION_LABELS[f.dimension] || f.dimension;
      const value = displayValue(f.dimension, unescapeValue(f.raw));
      const text = `${name} ${OPERATOR_LABELS[f.operator]} ${value}`;
      return el("li", { class: "chip" }, el("span", { text }),
        el("button", { type: "button", "aria-label": `Remove filter: ${text}`, title: "Remove filter",
          onclick: () => removeFilter(index) }, "×"));
    }));
    $("filters-hint").hidden = state.filters.length > 0;
  }

  // ---- saved and shared dashboards: any widget, drawn from its results ---------------------

  const isNumber = (v) => typeof v === "number";
  const LABELS = { arpu: "Revenue per visitor", dau: "Daily active", wau: "Weekly active",
    mau: "Monthly active", conversion_rate: "Conversion", dropoff: "Drop-off",
    bounce_rate: "Bounce", visit_duration: "Duration" };
  const titleCase = (name) => LABELS[name]
    || name.replace(/[_-]/g, " ").replace(/^./, (c) => c.toUpperCase());
  const formatOf = (name) => (name.includes("rate") ? format.percent
    : name.includes("duration") ? format.duration
    : ["revenue", "average_order_value", "arpu"].includes(name) ? format.money
    : name === "views_per_visit" || name === "stickiness" ? format.decimal : format.exact);

  function numberWidget(results) {
    const cards = [];
    for (const [name, item] of Object.entries(results)) {
      const kpi = KPIS.find((k) => k.metric === name)
        || { metric: name, label: titleCase(name), format: formatOf(name),
          lowerIsBetter: name === "bounce_rate" };
      if (isNumber(item)) cards.push(kpiCard(kpi, { value: item }));
      else if (item && isNumber(item.value)) cards.push(kpiCard(kpi, item));
    }
    return el("ul", { class: "kpis widget-kpis" }, ...cards);
  }

  function intervalOf(series, query) {
    if (series.length && series[0].date.includes("T")) return "hour";
    return query.interval === "week" || query.interval === "month" ? query.interval : "day";
  }

  function lineWidget(results, query) {
    const series = Array.isArray(results) ? results : results.days || [];
    const metrics = Object.keys(series[0] || {}).filter((k) => k !== "date" && isNumber(series[0][k]));
    const box = el("div", { class: "chart" });
    const interval = intervalOf(series, query);
    const args = [pastBuckets(series, interval), interval, metrics.slice(0, 2)];
    charts.set(box, args);
    window.requestAnimationFrame(() => drawChart(box, ...args));
    return box;
  }

  // Rows of a list (breakdowns, funnels, cohorts): the text column first, then numbers.
  function tableWidget(results) {
    const rows = Array.isArray(results) ? results : [];
    if (!rows.length) {
      return el("p", { class: "widget-empty", text: "No data for this period" });
    }
    const sample = rows[0];
    const label = Object.keys(sample).find((k) => typeof sample[k] === "string") || "";
    const rates = Array.isArray(sample.rates) ? sample.rates.map((_, i) => i) : [];
    const numbers = Object.keys(sample).filter((k) => isNumber(sample[k]) && k !== "step")
      .slice(0, rates.length ? 1 : 3);
    const clickable = DIMENSION_LABELS[label] !== undefined;
    const head = el("tr", {}, el("th", { scope: "col", text: DIMENSION_LABELS[label] || titleCase(label) }),
      ...numbers.map((k) => el("th", { scope: "col", class: "num", text: titleCase(k) })),
      ...rates.map((i) => el("th", { scope: "col", class: "num", text: `+${i}` })));
    const body = rows.map((row) => {
      const value = String(row[label] ?? "");
      const cell = clickable
        ? el("button", { type: "button", class: "row-filter", title: `Filter: ${value}`,
          onclick: () => addFilter(label, value) }, displayValue(label, value))
        : el("span", { class: "row-label", text: value });
      return el("tr", { class: clickable ? "row" : "" }, el("td", { class: "label" }, cell),
        ...numbers.map((k) => el("td", { class: "num", text: formatOf(k)(row[k] ?? 0) })),
        ...rates.map((i) => el("td", { class: "num", text: format.percent(row.rates[i] ?? 0) })));
    });
    return el("table", {}, el("thead", {}, head), el("tbody", {}, ...body));
  }

  function widgetPanel(widget) {
    const data = widget.data || {};
    const results = data.results;
    const query = widget.query || {};
    let content;
    if (widget.visualization === "number" && results && !Array.isArray(results)) {
      content = numberWidget(results);
    } else if (widget.visualization === "line") {
      content = lineWidget(results, query);
    } else if (results && !Array.isArray(results)) {
      content = numberWidget(results);
    } else {
      content = tableWidget(results);
    }
    const wide = widget.visualization === "line" || widget.visualization === "number";
    const kind = wide ? " wide" : widget.visualization === "cohort" ? " cohort" : "";
    return el("section", { class: `panel list widget${kind}`,
      "data-widget": widget.id, "aria-label": widget.title },
      el("div", { class: "panel-head" }, el("h2", { text: widget.title })), content);
  }

  async function loadSaved(query, signal) {
    const path = state.share ? `/api/v1/shared/${encodeURIComponent(state.share)}`
      : `${projectPath()}/dashboards/${encodeURIComponent(state.dashboard)}`;
    try {
      const dashboard = await request(path, query, signal);
      charts.clear();
      $("saved-name").textContent = dashboard.name;
      if (state.share) $("project-name").textContent = dashboard.name;
      $("widgets").replaceChildren(...dashboard.widgets.map(widgetPanel));
    } catch (error) {
      if (!signal.aborted) $("widgets").replaceChildren();
      showError("Dashboard", error);
    }
  }

  // ---- loading ----------------------------------------------------------------------------

  let controller = null;

  function refresh() {
    if (controller) controller.abort();
    controller = new AbortController();
    const { signal } = controller;
    clearErrors((place) => place !== "Realtime");
    if (!$("kpis").children.length) placeholderKpis("…");
    document.body.classList.add("loading");
    const query = { period: state.period, filters: filterText(state.filters) };
    if (state.share || state.dashboard) {
      loadSaved(query, signal).then(() => {
        if (!signal.aborted) document.body.classList.remove("loading");
      });
      return;
    }
    const interval = INTERVALS[state.period];
    const load = (where, request, render, fail) => request.then(render, (error) => {
      if (!signal.aborted) fail();
      showError(where, error);
    });
    const jobs = [
      load("Key figures", api("overview", { ...query, compare: "previous_period" }, signal),
        renderKpis, () => placeholderKpis("–")),
      load("Chart", api("timeseries", { ...query, metrics: "visitors,pageviews", interval }, signal),
        (series) => renderChart(series, interval), failChart),
      ...LISTS.map((list) => load(list.title,
        api(list.report, { ...query, limit: LIST_LIMIT }, signal),
        (rows) => renderList(list, rows), () => failList(list))),
    ];
    Promise.allSettled(jobs).then(() => {
      if (!signal.aborted) document.body.classList.remove("loading");
    });
  }

  let realtimeController = null;

  async function pollRealtime() {
    if (document.hidden || !state.key) return;
    if (realtimeController) realtimeController.abort();
    realtimeController = new AbortController();
    // realtime accepts session-attribute filters only; the others do not apply to it.
    const filters = filterText(state.filters.filter((f) => SESSION_DIMENSIONS.has(f.dimension)));
    try {
      const results = await api("realtime", { filters }, realtimeController.signal);
      $("realtime-count").textContent = format.exact(results.visitors);
      $("realtime-label").textContent = results.visitors === 1 ? "current visitor" : "current visitors";
      $("realtime").title = `Last 5 minutes: ${format.exact(results.visitors)} visitors, `
        + `${format.exact(results.pageviews)} pageviews`;
      clearErrors((place) => place === "Realtime");
    } catch (error) {
      if (error.name === "AbortError") return;
      $("realtime-count").textContent = "–";
      showError("Realtime", error);
    }
  }

  function changed() {
    saveAddress();
    renderFilters();
    refresh();
    pollRealtime();
  }

  function showView() {
    const saved = Boolean(state.share || state.dashboard);
    $("dashboard").hidden = saved;
    $("saved").hidden = !saved;
  }

  // The project's name and zone, and its saved dashboards in the view picker.
  async function loadProject() {
    try {
      const project = await request(projectPath(), {});
      $("project-name").textContent = project.name;
      $("project-name").title = project.id;
      state.timezone = project.timezone;
    } catch (error) {
      showError("Project", error);
    }
    try {
      const dashboards = await request(`${projectPath()}/dashboards`, {});
      const picker = $("view");
      picker.replaceChildren(el("option", { value: "", text: "Overview" }),
        ...dashboards.map((d) => el("option", { value: d.id, text: d.name })));
      picker.value = state.dashboard;
      $("view-picker").hidden = dashboards.length === 0;
      picker.addEventListener("change", () => {
        state.dashboard = picker.value;
        showView();
        changed();
      });
    } catch (error) {
      showError("Dashboards", error);
    }
  }

  function showLogin() {
    $("setup").hidden = false;
    $("realtime").hidden = true;
    $("periods").hidden = true;
    $("login-project").value = state.project;
    $("login").addEventListener("submit", (event) => {
      event.preventDefault();
      const project = $("login-project").value.trim();
      const key = $("login-key").value.trim();
      if (!project || !key) return;
      storeKey(project, key);
      window.location.assign(`/?project=${encodeURIComponent(project)}`);
    });
  }

  async function start() {
    if (MODE === "gone") {
      $("realtime").hidden = true;
      $("periods").hidden = true;
      return;
    }
    if (MODE === "share") {
      $("realtime").hidden = true;
      $("filters-hint").textContent = "A shared dashboard, read-only. Click a row to filter it.";
    } else {
      state.key = takeKey();
      if (!state.project || !state.key) {
        showLogin();
        return;
      }
      await loadProject();
    }
    $("filters").hidden = false;
    showView();
    for (const input of document.querySelectorAll("input[name=period]")) {
      input.checked = input.value === state.period;
      input.addEventListener("change", () => { state.period = input.value; changed(); });
    }
    listPanels();
    renderFilters();
    refresh();
    pollRealtime();
    window.setInterval(pollRealtime, REALTIME_EVERY_MS);
    document.addEventListener("visibilitychange", () => { if (!document.hidden) pollRealtime(); });
    let resizeTimer = 0;
    window.addEventListener("resize", () => {
      window.clearTimeout(resizeTimer);
      resizeTimer = window.setTimeout(() => {
        if (lastSeries) renderChart(lastSeries.series, lastSeries.interval);
        for (const [box, args] of charts) drawChart(box, ...args);
      }, 150);
    });
  }

  start();
})();
