/* Sightline tracker (SPEC section 8): page views, History API navigation, custom events,
   optional outbound-link clicks (data-outbound) and web vitals (data-vitals). No cookies.
   <script defer data-site="SITE_ID" src="https://HOST/js/sightline.js"></script>
   window.sightline("Signup", {props: {plan: "pro"}, revenue: 12.5}) */
(function () {
  "use strict";
  var script = document.currentScript;
  var site = script && script.getAttribute("data-site");
  if (!site || window.sightline && window.sightline.loaded) return;
  var endpoint = new URL(script.getAttribute("data-api") || "/api/v1/collect", script.src).href;
  var lastPath = null;

  function pageUrl() {
    return location.protocol + "//" + location.host + location.pathname + location.search;
  }

  function send(name, options) {
    options = options || {};
    var body = {site_id: site, name: name, url: options.url || pageUrl(),
                referrer: document.referrer || null};
    if (options.props) body.props = options.props;
    if (options.revenue != null) body.revenue = options.revenue;
    var data = JSON.stringify(body);
    // a text/plain body is a simple request: no CORS preflight, and it survives page unload
    if (navigator.sendBeacon && navigator.sendBeacon(endpoint, data)) return;
    if (window.fetch) {
      fetch(endpoint, {method: "POST", body: data, keepalive: true, mode: "no-cors",
                       credentials: "omit", headers: {"Content-Type": "text/plain"}})
        .catch(function () {});
    }
  }

  function pageview() {
    if (location.pathname === lastPath) return;  // query or hash changes are the same page
    lastPath = location.pathname;
    send("pageview");
  }

  function watchHistory(method) {
    var original = history[method];
    if (!original) return;
    history[method] = function () {
      var result = original.apply(this, arguments);
      pageview();
      return result;
    };
  }

  function watchOutboundLinks() {
    document.addEventListener("click", function (event) {
      var link = event.target && event.target.closest && event.target.closest("a[href]");
      if (link && link.host && link.host !== location.host && /^https?:$/.test(link.protocol)) {
        send("Outbound Link: Click", {props: {url: link.href}});
      }
    }, true);
  }

  function observe(type, onEntry, options) {
    try {
      new PerformanceObserver(function (list) { list.getEntries().forEach(onEntry); })
        .observe(Object.assign({type: type, buffered: true}, options || {}));
    } catch (e) { /* entry type not supported by this browser */ }
  }

  // One web_vitals event per page load, sent when the page is hidden or left.
  function watchVitals() {
    if (!window.PerformanceObserver) return;
    var url = pageUrl();
    var vitals = {cls: 0};
    var sent = false;
    var nav = performance.getEntriesByType && performance.getEntriesByType("navigation")[0];
    if (nav) vitals.ttfb = Math.max(0, nav.responseStart - (nav.activationStart || 0));
    observe("largest-contentful-paint", function (entry) { vitals.lcp = entry.startTime; });
    var windowValue = 0, windowStart = 0, previous = 0;
    observe("layout-shift", function (entry) {  // CLS: the largest session window of shifts
      if (entry.hadRecentInput) return;
      if (windowValue && entry.startTime - previous < 1000 && entry.startTime - windowStart < 5000) {
        windowValue += entry.value;
      } else {
        windowValue = entry.value;
        windowStart = entry.startTime;
      }
      previous = entry.startTime;
      vitals.cls = Math.max(vitals.cls, windowValue);
    });
    function interaction(entry) {  // INP: the slowest interaction of the page
      if (entry.interactionId || entry.entryType === "first-input") {
        vitals.inp = Math.max(vitals.inp || 0, entry.duration);
      }
    }
    observe("event", interaction, {durationThreshold: 16});
    observe("first-input", interaction);

    function report() {
      if (sent) return;
      sent = true;
      var props = {};
      for (var name in vitals) {
        props[name] = name === "cls" ? Math.round(vitals[name] * 10000) / 10000
                                     : Math.round(vitals[name]);
      }
      send("web_vitals", {props: props, url: url});
    }
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") report();
    });
    window.addEventListener("pagehide", report);
  }

  var queued = (window.sightline && window.sightline.q) || [];
  window.sightline = function (name, options) { send(name, options); };
  window.sightline.loaded = true;
  watchHistory("pushState");
  watchHistory("replaceState");
  window.addEventListener("popstate", pageview);
  if (script.hasAttribute("data-outbound")) watchOutboundLinks();
  if (script.hasAttribute("data-vitals")) watchVitals();
  pageview();
  for (var i = 0; i < queued.length; i++) send(queued[i][0], queued[i][1]);
})();
