// Accessibility glue for every portal page: one announcer, focus kept across htmx swaps,
// keyboard-reachable scrolling tables and the phone menu's disclosure button.
(function () {
  "use strict";
  const FOCUSABLE =
    'a[href], button:not([disabled]), input:not([type="hidden"]):not([disabled]), ' +
    'select:not([disabled]), textarea:not([disabled]), summary, [tabindex]:not([tabindex="-1"])';

  // The page's one polite live region (base.html), outside every swapped element: a region
  // replaced with its text is not announced by screen readers, a persistent one is.
  let clearTimer = null;
  function announce(text) {
    const region = document.getElementById("portal-announcer");
    text = (text || "").replace(/\s+/g, " ").trim();
    if (!region || !text) return;
    // Emptied first, so the same text twice in a row is announced twice.
    region.textContent = "";
    clearTimeout(clearTimer);
    setTimeout(function () {
      region.textContent = text;
    }, 50);
    clearTimer = setTimeout(function () {
      region.textContent = "";
    }, 10000);
  }
  window.portalAnnounce = announce;

  function visible(el) {
    return !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  }

  function firstFocusable(root) {
    const candidates = root.querySelectorAll(FOCUSABLE);
    for (const el of candidates) if (visible(el)) return el;
    return null;
  }

  // A table wider than its container scrolls inside .table-wrap; a keyboard user can only
  // scroll it once it takes focus, and a screen reader names it after its caption or heading.
  function labelFor(wrap) {
    const caption = wrap.querySelector("caption");
    if (caption && caption.textContent.trim()) return caption.textContent.trim();
    const section = wrap.closest("section, .card, main");
    const heading = section && section.querySelector("h1, h2, h3");
    if (heading && heading.textContent.trim()) return heading.textContent.trim();
    return document.body.dataset.tableLabel || "Table";
  }

  function markScrollableTables(root) {
    (root || document).querySelectorAll(".table-wrap").forEach(function (wrap) {
      const scrolls = wrap.scrollWidth > wrap.clientWidth + 1;
      if (scrolls && !wrap.hasAttribute("tabindex")) {
        wrap.setAttribute("tabindex", "0");
        wrap.setAttribute("role", "region");
        if (!wrap.hasAttribute("aria-label")) wrap.setAttribute("aria-label", labelFor(wrap));
        wrap.dataset.a11yScroll = "";
      } else if (!scrolls && wrap.hasAttribute("data-a11y-scroll")) {
        wrap.removeAttribute("tabindex");
        wrap.removeAttribute("role");
        wrap.removeAttribute("aria-label");
        delete wrap.dataset.a11yScroll;
      }
    });
  }

  // The phone menu: without JavaScript the menu is always shown; with it, narrow screens get
  // a "Menu" disclosure button (aria-expanded) that shows and hides the account and main menus.
  function setupMenu() {
    const toggle = document.getElementById("menu-toggle");
    if (!toggle) return;
    document.documentElement.classList.add("menu-collapsible");
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      const open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", String(open));
      document.documentElement.classList.toggle("menu-open", open);
    });
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape" || toggle.getAttribute("aria-expanded") !== "true") return;
      if (!window.matchMedia("(max-width: 700px)").matches) return;
      toggle.setAttribute("aria-expanded", "false");
      document.documentElement.classList.remove("menu-open");
      toggle.focus();
    });
  }

  // Focus across htmx swaps: when the swap removes the element that had focus, focus goes to
  // the new content's control marked data-focus or autofocus (or the first control inside a
  // container marked data-focus), else the control that took the old one's place, else the
  // new content's first control; then it is scrolled into view.
  let lost = null;
  let lastSwapText = "";
  // Remembered when the request is configured: hx-disabled-elt disables the pressed button
  // (which drops its focus) before the answer arrives.
  function remember(event) {
    const active = document.activeElement;
    const target = event.detail.target;
    if (!active || active === document.body || !target) return;
    if (target !== active && !target.contains(active)) return;
    lost = {
      target: target,
      targetId: target.id,
      id: active.id,
      name: active.getAttribute("name"),
      value: active.getAttribute("value"),
      href: active.getAttribute("href"),
      // A control that leaves with its swap (Confirm) names where focus goes back to.
      returnTo: active.getAttribute("data-focus-return"),
    };
  }
  document.addEventListener("htmx:configRequest", remember);
  document.addEventListener("htmx:beforeSwap", remember);

  function replacement(region, was) {
    // data-focus marks a control, or a container whose first control takes focus.
    const marked = region.querySelector("[data-focus], [autofocus]");
    const chosen = marked && (marked.matches(FOCUSABLE) ? marked : firstFocusable(marked));
    if (chosen && visible(chosen)) return chosen;
    if (was.returnTo) {
      const back = region.querySelector(was.returnTo);
      if (back && back.matches(FOCUSABLE) && visible(back)) return back;
    }
    if (was.id) {
      const same = document.getElementById(was.id);
      if (same && region.contains(same) && visible(same)) return same;
    }
    if (was.name) {
      for (const el of region.querySelectorAll('[name="' + CSS.escape(was.name) + '"]')) {
        if (el.getAttribute("value") === was.value && visible(el)) return el;
      }
    }
    if (was.href) {
      const link = region.querySelector('a[href="' + CSS.escape(was.href) + '"]');
      if (link && visible(link)) return link;
    }
    return firstFocusable(region);
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    let region = event.detail.target;
    if (region && !region.isConnected && region.id) region = document.getElementById(region.id);
    if (region && region.isConnected) {
      markScrollableTables(region.parentNode || region);
      // A region polled again with the same text (a command still waiting) is not repeated.
      region.querySelectorAll("[data-announce]").forEach(function (el) {
        const text = el.textContent.replace(/\s+/g, " ").trim();
        if (text && text !== lastSwapText) announce(text);
        lastSwapText = text;
      });
    }
    const was = lost;
    if (!was || !region || !region.isConnected) return;
    // Another region's swap (a live refresh of the command log while the panel's own request
    // is under way) leaves the focus the panel lost to the panel's swap.
    if (was.target !== event.detail.target && !(was.targetId && was.targetId === region.id)) return;
    lost = null;
    const active = document.activeElement;
    if (active && active !== document.body && active.isConnected) return;
    let next = replacement(region, was);
    if (next) next.focus({ preventScroll: true });
    // No control to take it, or one that cannot (disabled while its command waits): the
    // region itself keeps the focus, so the next Tab continues from here, not from the top.
    if (!next || document.activeElement !== next) {
      region.setAttribute("tabindex", "-1");
      next = region;
      next.focus({ preventScroll: true });
    }
    next.scrollIntoView({ block: "nearest", inline: "nearest" });
  });

  // A filter form reloads the page: without help the keyboard user starts again at the top,
  // 20 Tabs from the rows. Submitting it leaves a note; the page it leads to puts focus on the
  // list's summary ("12 sessions match"), which screen readers then read out.
  const FILTERED = "portal-filtered";
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!form.matches || !form.matches('form[role="search"]')) return;
    try {
      sessionStorage.setItem(FILTERED, new URL(form.action || location.href).pathname);
    } catch (e) {
      // Storage refused (private mode): the page simply keeps its default focus.
    }
  });
  function focusFilteredList() {
    let path = null;
    try {
      path = sessionStorage.getItem(FILTERED);
      sessionStorage.removeItem(FILTERED);
    } catch (e) {
      return;
    }
    if (path !== location.pathname) return;
    const summary = document.querySelector("[data-list-summary]");
    if (!summary) return;
    summary.setAttribute("tabindex", "-1");
    summary.focus({ preventScroll: true });
    summary.scrollIntoView({ block: "nearest" });
  }

  function start() {
    focusFilteredList();
    setupMenu();
    markScrollableTables(document);
    // Whether a table scrolls changes with the window's width: checked again on every resize.
    if (window.ResizeObserver) {
      new ResizeObserver(function () {
        markScrollableTables(document);
      }).observe(document.body);
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
