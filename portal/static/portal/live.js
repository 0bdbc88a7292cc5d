// Live updates of a portal page: one WebSocket per page, small JSON events from the server.
// Badges marked data-live-connector / data-live-station change in place; regions that list
// sessions declare hx-trigger="live-session from:body" and htmx fetches them again.
// Counts marked data-live-count="alerts" / "faults" take the numbers of an "alerts" event
// (hidden at zero when marked data-hide-zero); regions that list alerts refresh on
// "live-alert", the dashboard's open faults on "live-fault" too.
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

  function setCount(name, value) {
    if (typeof value !== "number") return;
    document.querySelectorAll('[data-live-count="' + name + '"]').forEach(function (el) {
      el.textContent = String(value);
      if (el.hasAttribute("data-hide-zero")) el.hidden = value === 0;
    });
  }

  function apply(event) {
    if (event.kind === "status") {
      const selector = event.connector
        ? '[data-live-connector="' + event.connector + '"]'
        : '[data-live-station-status="' + event.station + '"]';
      document.querySelectorAll(selector).forEach(function (el) {
        setBadge(el, "status", event.status, "status-");
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
