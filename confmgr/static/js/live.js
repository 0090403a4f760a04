// The dashboard's figures refresh themselves (htmx, every 15 s): a refresh that does not
// get through says so, in the words the page carries (data-words), and the next one that
// does takes the note away. Otherwise old figures looked current.
function liveRefresh(event) {
  return event.detail.elt?.id === "attendance-live";
}

function note(words) {
  const shown = document.getElementById("live-failed");
  if (shown) shown.textContent = words === undefined ? shown.dataset.words : words;
}

for (const name of ["htmx:sendError", "htmx:responseError", "htmx:timeout"]) {
  document.addEventListener(name, (event) => {
    if (liveRefresh(event)) note();
  });
}
// Before the figures are replaced: afterwards the events are no longer theirs.
document.addEventListener("htmx:beforeSwap", (event) => {
  if (liveRefresh(event) && event.detail.shouldSwap) note("");
});
