// Live updates of a portal page: one WebSocket per page, small JSON events from the server.
// Badges marked data-live-connector / data-live-station change in place; regions that list
// sessions declare hx-trigger="live-session from:body" and htmx fetches them again.
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

  function apply(event) {
    if (event.kind === "status") {
      const selector = event.connector
        ? '[data-live-connector="' + event.connector + '"]'
        : '[data-live-station-status="' + event.station + '"]';
      document.querySelectorAll(selector).forEach(function (el) {
        setBadge(el, "status", event.status, "status-");
      });
      body.dispatchEvent(new CustomEvent("live-status", { detail: event }));
    } else if (event.kind === "connection") {
      document.querySelectorAll('[data-live-station="' + event.station + '"]').forEach(function (el) {
        setBadge(el, "state", event.state, "conn-");
      });
      body.dispatchEvent(new CustomEvent("live-connection", { detail: event }));
    } else if (event.kind === "session") {
      body.dispatchEvent(new CustomEvent("live-session", { detail: event }));
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
