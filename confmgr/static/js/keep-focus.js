// Keeps the keyboard's place when htmx replaces the part of the page that held it: a
// tap's answer replaces its row, the live figures replace their table. Focus goes back to
// the same link or button in the new content, rather than to the top of the page, where
// a keyboard or a screen reader would have to start again. (htmx does this itself only
// for elements with an id; these have none, to keep the pages small.)
let kept = null;

function selectorFor(element) {
  if (element.matches("a[href]")) {
    return `a[href="${CSS.escape(element.getAttribute("href"))}"]`;
  }
  if (element.matches("button[name][value]")) {
    return `button[name="${CSS.escape(element.name)}"][value="${CSS.escape(element.value)}"]`;
  }
  return null;
}

document.addEventListener("htmx:beforeSwap", () => {
  const focused = document.activeElement;
  kept = focused && focused !== document.body ? selectorFor(focused) : null;
});

document.addEventListener("htmx:afterSettle", () => {
  if (kept && (document.activeElement === document.body || !document.activeElement)) {
    document.querySelector(kept)?.focus({ preventScroll: true });
  }
  kept = null;
});
