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

// The words are the form's (data-tap-*), in the page's language, with the delegate's
// name; the row is marked until an answer for it replaces it.
function tell(words) {
  const row = document.getElementById(`p${sending?.mark.split(":")[0]}`);
  const alert = document.createElement("div");
  alert.className = "alert alert-warning";
  alert.setAttribute("role", "alert");
  alert.textContent = words.replace("{name}", sending?.name ?? "");
  document.getElementById("sheet-messages").replaceChildren(alert);
  row?.classList.add("table-warning");
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
