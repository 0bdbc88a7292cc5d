// The station page's commands: a command waiting for its station counts the time it waited.
// Elements marked data-elapsed="<seconds at render>" tick every second; the waiting status
// line fetches its outcome itself (htmx, on "live-command" from live.js), and the command log
// refreshes on the same event.
(function () {
  "use strict";
  const lang = document.documentElement.lang || undefined;
  const started = new WeakMap();

  function formatter(unit) {
    try {
      return new Intl.NumberFormat(lang, { style: "unit", unit: unit, unitDisplay: "long" });
    } catch (error) {
      return { format: function (n) { return n + " " + unit + (n === 1 ? "" : "s"); } };
    }
  }
  const seconds = formatter("second");
  const minutes = formatter("minute");

  function text(total) {
    if (total < 60) return seconds.format(total);
    return minutes.format(Math.floor(total / 60)) + " " + seconds.format(total % 60);
  }

  function tick() {
    const now = Date.now();
    document.querySelectorAll("[data-elapsed]").forEach(function (el) {
      if (!started.has(el)) {
        const base = parseInt(el.dataset.elapsed, 10);
        started.set(el, now - (isNaN(base) ? 0 : base) * 1000);
      }
      const total = Math.max(0, Math.floor((now - started.get(el)) / 1000));
      const shown = text(total);
      if (el.textContent !== shown) el.textContent = shown;
    });
  }

  tick();
  setInterval(tick, 1000);
})();
