// Taps on a point's check-in sheet: each is sent with the delegate and status it was made
// for, after the taps before it, and one that does not get through says so.
//
// htmx's own handling of the form would keep only the latest of the taps made while one
// is on its way, and send it with the latest button's value: on a slow link the taps in
// between were lost. They go from the form, which stays when an answer or a search
// replaces the rows. Without this script the form posts as a page.
let previous = Promise.resolve();
let sending = null; // the tap on its way: its mark ("<delegate id>:<status>") and name

document.addEventListener("click", (event) => {
  const button = event.target.closest?.("button[name=mark]");
  const form = button?.form;
  if (!form || !("tapUnsent" in form.dataset) || typeof htmx === "undefined") return;
  event.preventDefault();
  const mark = button.value;
  // Taken now: by the time the tap goes, a search may have taken its row off the page.
  const name = button.closest("[role=group]")?.getAttribute("aria-label") ?? "";
  previous = previous.then(() => {
    sending = { mark, name };
    return htmx.ajax("POST", form.getAttribute("hx-post"),
                     { source: form, swap: "none", values: { mark } });
  }).catch(() => {});
});

// The delegates whose last tap did not get through: their rows stay marked, also when a
// search brings them back, until a tap of them does.
const unsent = new Set();

function sentFor() {
  return sending?.mark.split(":")[0];
}

function markUnsent() {
  for (const id of unsent) document.getElementById(`p${id}`)?.classList.add("table-warning");
}

// The words are the form's (data-tap-*), in the page's language, with the delegate's name.
function tell(words) {
  const alert = document.createElement("div");
  alert.className = "alert alert-warning";
  alert.setAttribute("role", "alert");
  alert.textContent = words.replace("{name}", sending?.name ?? "");
  document.getElementById("sheet-messages").replaceChildren(alert);
  if (sentFor()) unsent.add(sentFor());
  markUnsent();
}

function tapForm(event) {
  const form = event.detail.elt;
  return form instanceof HTMLFormElement && "tapUnsent" in form.dataset ? form : null;
}

const WORDS = {
  "htmx:sendError": () => "tapUnsent",
  "htmx:timeout": () => "tapTimeout",
  "htmx:responseError": (event) => event.detail.xhr.status >= 500 ? "tapFailed" : "tapRefused",
};
for (const [name, choose] of Object.entries(WORDS)) {
  document.addEventListener(name, (event) => {
    const form = tapForm(event);
    if (form) tell(form.dataset[choose(event)]);
  });
}

// An answer whose row a search has taken off the page: its counts and messages go in, its
// row has nowhere to go (and would be reported as an error).
document.addEventListener("htmx:beforeSwap", (event) => {
  const id = sentFor();
  if (tapForm(event) && id && !document.getElementById(`p${id}`)) {
    event.detail.serverResponse = event.detail.serverResponse.replace(
      new RegExp(`<tr id="p${id}"[\\s\\S]*?</tr>`), "");
  }
});
document.addEventListener("htmx:afterRequest", (event) => {
  if (tapForm(event) && event.detail.successful) unsent.delete(sentFor());
});
document.addEventListener("htmx:afterSettle", markUnsent);
