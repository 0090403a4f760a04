// Taps on a point's check-in sheet: each is sent with the delegate and status it was made
// for, after the taps before it, and one that does not get through says so.
//
// htmx's own handling of the form would keep only the latest of the taps made while one
// is on its way, and send it with the latest button's value: on a slow link the taps in
// between were lost. Without this script the form posts as a page.
let previous = Promise.resolve();

document.addEventListener("click", (event) => {
  const button = event.target.closest?.("button[name=mark]");
  const form = button?.form;
  if (!form || !("tapUnsent" in form.dataset) || typeof htmx === "undefined") return;
  event.preventDefault();
  const values = { mark: button.value };
  previous = previous.then(() => htmx.ajax("POST", form.getAttribute("hx-post"),
                                            { source: button, swap: "none", values }))
                     .catch(() => {});
});

// The words are the form's (data-tap-*), in the page's language; the row tapped is marked
// until its next answer replaces it.
function tapForm(event) {
  const form = event.detail.elt?.closest?.("form");
  return form && "tapUnsent" in form.dataset ? form : null;
}

function tell(event, text) {
  const messages = document.getElementById("sheet-messages");
  const alert = document.createElement("div");
  alert.className = "alert alert-warning";
  alert.setAttribute("role", "alert");
  alert.textContent = text;
  messages.replaceChildren(alert);
  event.detail.elt.closest("tr")?.classList.add("table-warning");
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
