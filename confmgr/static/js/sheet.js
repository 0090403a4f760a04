// A tap on a point's check-in sheet that does not get through says so. On a weak link the
// button would otherwise just stay as it was, and the coordinator move on to the next
// delegate. The words are the form's (data-tap-*), in the page's language; the row tapped
// is marked until its next answer replaces it.
function tapForm(event) {
  const form = event.detail.elt;
  return form instanceof HTMLFormElement && "tapUnsent" in form.dataset ? form : null;
}

function tell(event, text) {
  const messages = document.getElementById("sheet-messages");
  const alert = document.createElement("div");
  alert.className = "alert alert-warning";
  alert.setAttribute("role", "alert");
  alert.textContent = text;
  messages.replaceChildren(alert);
  event.detail.requestConfig?.triggeringEvent?.submitter?.closest("tr")
    ?.classList.add("table-warning");
}

for (const name of ["htmx:sendError", "htmx:timeout"]) {
  document.addEventListener(name, (event) => {
    const form = tapForm(event);
    if (form) tell(event, form.dataset.tapUnsent);
  });
}

document.addEventListener("htmx:responseError", (event) => {
  const form = tapForm(event);
  if (form) {
    tell(event, event.detail.xhr.status >= 500 ? form.dataset.tapFailed
                                                : form.dataset.tapRefused);
  }
});
