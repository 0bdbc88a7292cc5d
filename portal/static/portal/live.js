// Live updates of a portal page: one WebSocket per page, small JSON events from the server.
// Badges marked data-live-connector / data-live-station change in place; regions that list
// sessions declare hx-trigger="live-session from:body" and htmx fetches them again.
// Counts marked data-live-count="alerts" / "faults" take the numbers of an "alerts" event
// (hidden at zero when marked data-hide-zero); regions that list alerts refresh on
// "live-alert", the dashboard's open faults on "live-fault" too.
// Status badges rendered by the `connector_status` / `station_status` tags (class "live-status")
// follow stations.selectors.shown_status: while their station (data-live-of) is offline they
// read Not available, with the last reported status as a detail; online, the reported status.
// Regions showing figures (counts, energy) refresh on "live-figures": one event per burst of
// status, connection, session and alert events, so a batch of 500 costs one request.
(function () {
  "use strict";
  const body = document.body;
  const url = body.dataset.liveUrl;
  if (!url) return;
  const labels = JSON.parse(document.getElementById("live-labels").textContent);
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  let delay = 1000;

  function setBadge(el, kind, value, cssPrefix) {
    const badge = el.querySelector(".badge") || el;
    badge.className = "badge " + cssPrefix + value.toLowerCase();
    badge.dataset[kind] = value;
    badge.textContent = (labels[kind === "status" ? "status" : "connection"][value]) || value;
  }

  // The rule of stations.selectors.shown_status, applied to a "live-status" element.
  function showStatus(el) {
    const reported = el.dataset.reported || "Unknown";
    const online = el.dataset.online !== "0";
    const shown = online ? reported : "Unavailable";
    setBadge(el, "status", shown, "status-");
    let detail = el.querySelector(".status-detail");
    const text = online || reported === shown || reported === "Unknown"
      ? "" : "(" + lastReported(reported, el.dataset.reportedAt) + ")";
    if (text && !detail) {
      detail = document.createElement("span");
      detail.className = "status-detail";
      el.append(" ", detail);
    }
    if (detail) {
      detail.textContent = text;
      detail.hidden = !text;
    }
  }

  function lastReported(status, at) {
    const label = labels.status[status] || status;
    const moment = at ? new Date(at) : null;
    let time = "";
    if (moment && !isNaN(moment)) {
      const zone = { timeZone: labels.timeZone || undefined };
      const day = function (d) { return d.toLocaleDateString(undefined, zone); };
      time = day(moment) === day(new Date())
        ? moment.toLocaleTimeString(undefined, Object.assign({ hour: "2-digit", minute: "2-digit", hourCycle: "h23" }, zone))
        : moment.toLocaleString(undefined, Object.assign({ dateStyle: "short", timeStyle: "short" }, zone));
    }
    const text = labels.lastReported.replace("%(status)s", label);
    return time ? text.replace("%(time)s", time) : text.replace(/,?\s*%\(time\)s/, "");
  }

  let figuresTimer = null;
  let figuresStations = new Set();

  // Coalesced: every event of a burst (one message, or many close together) makes one
  // "live-figures" half a second after the first, naming the stations it touched.
  function figuresChanged(event) {
    if (event.station) figuresStations.add(event.station);
    if (figuresTimer !== null) return;
    figuresTimer = setTimeout(function () {
      const stations = Array.from(figuresStations);
      figuresStations = new Set();
      figuresTimer = null;
      body.dispatchEvent(new CustomEvent("live-figures", { detail: { stations: stations } }));
    }, 500);
  }

  // Changes of what the page shows are read out through base.html's live region (a11y.js):
  // "<row or page name>: <new label>", at most three per message, so a burst stays short.
  let heard = [];
  function tell(el, label) {
    const row = el.closest("tr");
    const cell = row && row.querySelector("th, td");
    const heading = document.querySelector("h1");
    const name = ((cell && cell !== el && !cell.contains(el) ? cell : heading) || {}).textContent;
    const text = (name ? name.trim() + ": " : "") + label;
    if (heard.indexOf(text) === -1) heard.push(text);
  }
  function announceHeard() {
    if (heard.length && window.portalAnnounce) window.portalAnnounce(heard.slice(0, 3).join("; "));
    heard = [];
  }

  function setCount(name, value) {
    if (typeof value !== "number") return;
    document.querySelectorAll('[data-live-count="' + name + '"]').forEach(function (el) {
      el.textContent = String(value);
      if (el.hasAttribute("data-hide-zero")) el.hidden = value === 0;
    });
  }

  function apply(event) {
    if (["status", "connection", "session", "alerts"].indexOf(event.kind) !== -1) figuresChanged(event);
    if (event.kind === "status") {
      const selector = event.connector
        ? '[data-live-connector="' + event.connector + '"]'
        : '[data-live-station-status="' + event.station + '"]';
      document.querySelectorAll(selector).forEach(function (el) {
        if (el.classList.contains("live-status")) {
          el.dataset.reported = event.status;
          // Heard now: the page's clock dates the detail "last reported: …, 12:03".
          el.dataset.reportedAt = new Date().toISOString();
          showStatus(el);
        } else {
          setBadge(el, "status", event.status, "status-");
        }
        // What the badge shows now (Not available while the station is offline).
        tell(el, (el.querySelector(".badge") || el).textContent);
      });
      body.dispatchEvent(new CustomEvent("live-status", { detail: event }));
      // A connector that faults, or one listed as faulted that reports anything else.
      if (event.status === "Faulted" ||
          (event.connector && document.querySelector('[data-fault-connector="' + event.connector + '"]'))) {
        body.dispatchEvent(new CustomEvent("live-fault", { detail: event }));
      }
    } else if (event.kind === "alerts") {
      setCount("alerts", event.open);
      setCount("faults", event.faults);
      body.dispatchEvent(new CustomEvent("live-alert", { detail: event }));
    } else if (event.kind === "connection") {
      document.querySelectorAll('[data-live-station="' + event.station + '"]').forEach(function (el) {
        setBadge(el, "state", event.state, "conn-");
        tell(el, labels.connection[event.state] || event.state);
      });
      document.querySelectorAll('.live-status[data-live-of="' + event.station + '"]').forEach(function (el) {
        el.dataset.online = event.state === "online" ? "1" : "0";
        showStatus(el);
      });
      body.dispatchEvent(new CustomEvent("live-connection", { detail: event }));
    } else if (event.kind === "session") {
      body.dispatchEvent(new CustomEvent("live-session", { detail: event }));
    } else if (typeof event.kind === "string") {
      // Any other kind reaches the page as "live-<kind>" (e.g. "live-command"), for its own script.
      body.dispatchEvent(new CustomEvent("live-" + event.kind, { detail: event }));
    }
  }

  function connect() {
    const socket = new WebSocket(scheme + location.host + url);
    socket.onopen = function () {
      delay = 1000;
      body.dataset.live = "connected";
    };
    socket.onmessage = function (message) {
      JSON.parse(message.data).events.forEach(apply);
      announceHeard();
    };
    socket.onclose = function () {
      body.dataset.live = "disconnected";
      // Back off, so a restarting server is not hammered by every open page at once.
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
})();
