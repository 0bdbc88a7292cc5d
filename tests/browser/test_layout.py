"""Layout measured in the browser on every main page, 1280 and 390 px wide, English and German.

At 390 px nothing scrolls the page sideways and the header with the main menu stays under a
quarter of the screen; at both widths no heading, label, number or date breaks inside a word.
The same run keeps a screenshot of every page at both widths in docs/screenshots/.
"""

import pytest

from tests.browser.conftest import DESKTOP, PHONE, screenshot
from tests.browser.pages import (
    check_every_page,
    main_pages,
    open_page,
    portal_tab,
    resize,
    scan2pay_page,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators"),
]

# The header and the main menu together may take at most this share of a phone's screen.
MAX_HEADER_SHARE = 0.25

# Measures the page as laid out now. A word (text between spaces or hyphens) broken inside has
# client rectangles on more than one line; only an element that declares long-value wrapping
# (overflow-wrap: break-word, e.g. an id or URL in a .long cell) may do that.
MEASURE = r"""() => {
  const doc = document.documentElement;
  const out = {scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth,
               viewportHeight: window.innerHeight, header: 0, broken: [], styles: [], hidden: []};
  for (const el of [doc, document.body]) {
    const o = getComputedStyle(el).overflowX;
    if (o === "hidden" || o === "clip") out.hidden.push(el.tagName.toLowerCase());
  }
  for (const sel of ["header.top", "nav.main"]) {
    const el = document.querySelector(sel);
    if (el) out.header += el.getBoundingClientRect().height;
  }
  const describe = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    (el.classList.length ? "." + [...el.classList].join(".") : "");
  for (const el of document.body.querySelectorAll("*")) {
    const s = getComputedStyle(el);
    // Headings, numbers, dates and controls are never hyphenated either.
    const hyphenated = s.hyphens === "auto" && el.matches("th, td.num, button, label, .badge");
    if (s.overflowWrap === "anywhere" || s.wordBreak === "break-all" ||
        s.wordBreak === "break-word" || hyphenated) {
      out.styles.push(
        `${describe(el)}: overflow-wrap ${s.overflowWrap}, word-break ${s.wordBreak}, ` +
        `hyphens ${s.hyphens}`);
    }
  }
  const scope = "th, td, button, a, label, summary, caption, legend, h1, h2, h3, dt, .badge";
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || !el.closest(scope) || el.closest(".visually-hidden, script, style")) continue;
    if (getComputedStyle(el).overflowWrap === "break-word") continue;
    const words = /[^\s\u00ad\u200b\-\u2010]+/g;
    let match;
    while ((match = words.exec(node.data))) {
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const lines = new Set();
      for (const r of range.getClientRects()) if (r.width > 0) lines.add(Math.round(r.top));
      if (lines.size > 1) out.broken.push(`"${match[0]}" in ${describe(el)}`);
    }
  }
  out.styles = out.styles.slice(0, 10);
  out.broken = out.broken.slice(0, 15);
  return out;
}"""


def measure(page, name: str, width: str, *, phone: bool) -> list[str]:
    """What is wrong with the page's layout at the current width, one line per problem."""
    m = page.evaluate(MEASURE)
    where = f"{name} at {width} ({page.url})"
    problems = []
    if m["hidden"]:
        problems.append(f"{where}: overflow-x hidden on {m['hidden']} would hide a sideways scroll")
    if m["styles"]:
        problems.append(f"{where}: text may break anywhere: " + "; ".join(m["styles"]))
    if m["broken"]:
        problems.append(f"{where}: words broken inside: " + "; ".join(m["broken"]))
    if phone:
        if m["scrollWidth"] > m["clientWidth"]:
            problems.append(
                f"{where}: the page scrolls sideways ({m['scrollWidth']} px wide "
                f"in {m['clientWidth']} px)"
            )
        if m["header"] > MAX_HEADER_SHARE * m["viewportHeight"]:
            problems.append(
                f"{where}: header and menu are {m['header']:.0f} px high, over "
                f"{MAX_HEADER_SHARE:.0%} of {m['viewportHeight']} px"
            )
    return problems


def check(page, name: str, language: str, failures: list[str]) -> None:
    """Measure at 1280 px then 390 px; in English also keep both screenshots."""
    resize(page, DESKTOP)
    failures.extend(measure(page, name, "1280 px", phone=False))
    if language == "en":
        screenshot(page, name)
    resize(page, PHONE)
    failures.extend(measure(page, name, "390 px", phone=True))
    if language == "en":
        screenshot(page, f"{name}-phone", phone=True)
    resize(page, DESKTOP)


def test_every_main_page_fits_a_phone_and_keeps_words_whole(browser, portal_server, demo):
    """Every main page at 1280 and 390 px, in English and German, measured in the browser."""
    failures: list[str] = []
    pages = main_pages(demo)
    for language in ("en", "de"):
        with portal_tab(browser, portal_server, language) as page:
            check_every_page(page, pages, language, check, failures)
            if page.script_errors:
                failures.append(f"script errors ({language}): {page.script_errors}")
    checked = ", ".join(["login"] + [p.name for p in pages])
    assert not failures, f"layout problems (checked {checked}):\n" + "\n".join(failures)


def test_the_public_scan2pay_page_fits_a_phone_and_keeps_words_whole(
    browser, portal_server, demo, settings
):
    """A driver's page (no login) at 390 px, in English and German; the English screenshot."""
    # The platform's Stripe keys set, so the page offers its price (nothing is called).
    settings.STRIPE_SECRET_KEY = "sk_test_platform"
    failures: list[str] = []
    target = scan2pay_page(demo)
    for language in ("en", "de"):
        with portal_tab(browser, portal_server, language) as page:
            problem = open_page(page, target.url, language)
            if problem:
                failures.append(f"{target.name} ({target.url}, {language}) {problem}")
                continue
            resize(page, PHONE)
            failures.extend(measure(page, target.name, "390 px", phone=True))
            if language == "en":
                screenshot(page, f"{target.name}-phone", phone=True)
            if page.script_errors:
                failures.append(f"script errors ({language}): {page.script_errors}")
    assert not failures, "layout problems:\n" + "\n".join(failures)
