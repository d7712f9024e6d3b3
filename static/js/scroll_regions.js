/* Makes every box that scrolls sideways (a wide table's wrapper, a preformatted sample) a
 * region that keyboard users can reach and scroll, named after its table's caption or
 * heading, else the heading it comes under, and marks the edges that hide more content
 * (.more-left, .more-right) so the page can show them.
 * A box that fits again (the phone is turned) loses its tab stop. One static script for
 * every page: no inline script, so a strict CSP can forbid them. */
(function () {
  "use strict";

  var SCROLLERS = ".table-responsive, .report-scroll, #changelist .results, .inline-group, main pre";
  var LABELS = "caption, h2, legend";
  var HEADINGS = "h1, h2, h3, h4, h5, h6";
  var count = 0;

  function headingBefore(box) {
    var found = null;
    Array.prototype.forEach.call(document.querySelectorAll(HEADINGS), function (heading) {
      if (heading.compareDocumentPosition(box) & Node.DOCUMENT_POSITION_FOLLOWING) {
        found = heading;
      }
    });
    return found;
  }

  function labelOf(box) {
    var label = box.querySelector(LABELS) || headingBefore(box);
    if (label && !label.id) {
      count += 1;
      label.id = "scroll-region-label-" + count;
    }
    return label;
  }

  function mark(box) {
    var scrolls = box.scrollWidth > box.clientWidth + 1;
    if (!box.hasAttribute("data-scroll-region")) {
      // a tab stop the page's own markup gives stays; only the one added here comes and goes
      box.setAttribute("data-scroll-region", box.hasAttribute("tabindex") ? "fixed" : "auto");
    }
    var owned = box.getAttribute("data-scroll-region") === "auto";
    box.classList.toggle("scroll-region", scrolls);
    box.classList.toggle("more-left", scrolls && box.scrollLeft > 1);
    box.classList.toggle("more-right", scrolls && box.scrollLeft + box.clientWidth < box.scrollWidth - 1);
    if (!scrolls) {
      if (owned) {
        box.removeAttribute("tabindex");
      }
      return;
    }
    if (owned) {
      box.setAttribute("tabindex", "0");
    }
    if (!box.hasAttribute("role")) {
      box.setAttribute("role", "region");
    }
    var label = box.hasAttribute("aria-labelledby") || box.hasAttribute("aria-label") ? null : labelOf(box);
    if (label) {
      box.setAttribute("aria-labelledby", label.id);
    }
  }

  function markAll() {
    Array.prototype.forEach.call(document.querySelectorAll(SCROLLERS), mark);
  }

  var pending = false;
  function markSoon() {
    if (!pending) {
      pending = true;
      window.requestAnimationFrame(function () {
        pending = false;
        markAll();
      });
    }
  }

  function start() {
    markAll();
    window.addEventListener("resize", markSoon);
    document.addEventListener("scroll", function (event) {
      if (event.target.matches && event.target.matches(SCROLLERS)) {
        mark(event.target);
      }
    }, true);
    document.addEventListener("toggle", markSoon, true);  // a table inside <details> opened
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
