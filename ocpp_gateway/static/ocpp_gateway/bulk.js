// The station list's "select every station on this page" box: shown only with JavaScript (the
// boxes themselves work without it), it ticks or clears every station box of its form.
(function () {
  "use strict";
  document.querySelectorAll("[data-bulk-select-all]").forEach(function (all) {
    const form = all.closest("form");
    const boxes = function () { return form.querySelectorAll('input[type="checkbox"][name="station"]'); };
    all.hidden = false;
    all.addEventListener("change", function () {
      boxes().forEach(function (box) { box.checked = all.checked; });
    });
    form.addEventListener("change", function (event) {
      if (event.target === all) return;
      const list = Array.prototype.slice.call(boxes());
      all.checked = list.length > 0 && list.every(function (box) { return box.checked; });
    });
  });
})();
