// Taps on a point's check-in sheet: each is sent with the delegate and status it was made
// for, after the taps before it, and one that does not get through says so.
//
// htmx's own handling of the form would keep only the latest of the taps made while one
// is on its way, and send it with the latest button's value: on a slow link the taps in
// between were lost. They go from the form, which stays when an answer or a search
// replaces the rows. Without this script the form posts as a page.
let previous = Promise.resolve();
let sending = null; // the tap on its way: its mark ("<delegate id>:<status>") and name
let waiting = 0; // taps made and not yet answered, which leaving the page would lose
let failures = 0; // taps that did not get through, since the page was opened

document.addEventListener("click", (event) => {
  const button = event.target.closest?.("button[name=mark]");
  const form = button?.form;
  if (!form || !("tapUnsent" in form.dataset) || typeof htmx === "undefined") return;
  event.preventDefault();
  const mark = button.value;
  // Taken now: by the time the tap goes, a search may have taken its row off the page.
  const name = button.closest("[role=group]")?.getAttribute("aria-label") ?? "";
  waiting += 1;
  previous = previous.then(() => {
    sending = { mark, name };
    return htmx.ajax("POST", form.getAttribute("hx-post"),
                     { source: form, swap: "none", values: { mark } });
  }).catch(() => {}).finally(() => { waiting -= 1; });
});

// Resolves once every tap made, also those made meanwhile, has had its answer.
function drained() {
  return waiting ? previous.then(drained) : Promise.resolve();
}

// The browser asks before a page with taps still to send is left (a link, a reload).
window.addEventListener("beforeunload", (event) => {
  if (waiting) {
    event.preventDefault();
    event.returnValue = true; // what browsers before 2024 asked for
  }
});

// Enter (a phone keyboard's Search key) in the search box: htmx searches, and the page
// stays, with the taps still to send. Firefox knows no "search" event: it is sent here.
document.addEventListener("submit", (event) => {
  const box = event.target.querySelector?.("#sheet-search");
  if (!box || typeof htmx === "undefined") return;
  event.preventDefault();
  if (!("onsearch" in box)) htmx.trigger(box, "search");
});

// "All present" (data-after-taps) goes once the taps made before it have been answered:
// sent at once, it marked present a delegate whose "absent" was still to be sent. If one
// of them does not get through, it does not go. On the window, after js/confirm.js has
// asked its question on the document.
window.addEventListener("submit", (event) => {
  const form = event.target;
  if (!("afterTaps" in form.dataset) || event.defaultPrevented) return;
  if (form.dataset.waiting) {
    event.preventDefault();
    return;
  }
  if (!waiting) return;
  event.preventDefault();
  form.dataset.waiting = "1";
  const failedBefore = failures;
  drained().then(() => {
    delete form.dataset.waiting;
    if (failures === failedBefore) {
      form.submit();
    } else {
      delete form.dataset.sending; // js/confirm.js's once: it may be pressed again
      tell("all", form.dataset.afterTaps);
    }
  });
});

// The delegates whose last tap did not get through: their rows stay marked, also when a
// search brings them back, until a tap of them does.
const unsent = new Set();

function sentFor() {
  return sending?.mark.split(":")[0];
}

function tapForm(event) {
  const form = event.detail.elt;
  return form instanceof HTMLFormElement && "tapUnsent" in form.dataset ? form : null;
}

// Not by colour alone: the row says so to a screen reader too.
function markUnsent() {
  const note = document.querySelector("form[data-tap-unsent]")?.dataset.tapRow;
  for (const id of unsent) {
    const row = document.getElementById(`p${id}`);
    if (!row) continue;
    row.classList.add("table-warning");
    const name = row.querySelector(".sheet-name");
    if (name && !name.querySelector(".tap-unsent")) {
      const hidden = document.createElement("span");
      hidden.className = "visually-hidden tap-unsent";
      hidden.textContent = ` ${note}`;
      name.append(hidden);
    }
  }
}

// What did not get through, in the page's language (the data-* words of the form and the
// search box): one alert for each delegate, and one for the search, each kept until a
// later tap of that delegate, or a search, gets through. Answers to taps replace only
// #sheet-answers, so that the next tap's answer does not take it away unread.
function tell(about, words) {
  const alert = document.createElement("div");
  alert.className = "alert alert-warning py-2 mb-1";
  alert.setAttribute("role", "alert");
  alert.dataset.about = about;
  alert.textContent = words;
  const old = document.querySelector(`#sheet-alerts [data-about="${about}"]`);
  if (old) old.replaceWith(alert);
  else document.getElementById("sheet-alerts").append(alert);
}

function untell(about) {
  document.querySelector(`#sheet-alerts [data-about="${about}"]`)?.remove();
}

function searchBox(event) {
  return event.detail.elt?.id === "sheet-search" ? event.detail.elt : null;
}

function tapStatusWords(status) {
  if (status === 503) return "tapBusy"; // the database was busy: seconds, not minutes
  return status >= 500 ? "tapFailed" : "tapRefused";
}

const WORDS = {
  "htmx:sendError": () => ["tapUnsent", "searchUnsent"],
  "htmx:timeout": () => ["tapTimeout", "searchTimeout"],
  "htmx:responseError": (event) => [tapStatusWords(event.detail.xhr.status), "searchFailed"],
};
for (const [name, choose] of Object.entries(WORDS)) {
  document.addEventListener(name, (event) => {
    const [tap, search] = choose(event);
    const form = tapForm(event);
    const box = searchBox(event);
    if (form && sentFor()) {
      notThrough(form, tap);
    } else if (box) {
      tell("search", box.dataset[search]);
    }
  });
}

function notThrough(form, words) {
  failures += 1;
  unsent.add(sentFor());
  tell(`p${sentFor()}`, form.dataset[words].replace("{name}", sending.name));
  markUnsent();
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
// A tap refused by the server (the delegate withdrawn or moved, check-in closed
// meanwhile) is answered with its reason in #sheet-answers, which the next tap's answer
// replaces: a tap queued behind it wiped it unread. It is kept as an alert about that
// delegate, naming them, like a tap that did not get through.
document.addEventListener("htmx:afterRequest", (event) => {
  if (!event.detail.successful) return;
  const form = tapForm(event);
  if (form && !event.detail.xhr.responseText.includes('id="sheet-counts"')) {
    // Answered, but not by this site: a Wi-Fi's sign-in page, a proxy's notice.
    notThrough(form, "tapStrange");
  } else if (form) {
    keepAnswered(sentFor());
    unsent.delete(sentFor());
    const answers = document.getElementById("sheet-answers");
    // One line each: two refusals at once ran together.
    const refused = Array.from(answers?.children ?? [], (answer) => answer.textContent.trim())
      .filter(Boolean).join(" ");
    if (refused) {
      const name = sending.name;
      tell(`p${sentFor()}`, !name || refused.includes(name) ? refused : `${name}: ${refused}`);
      answers.replaceChildren();
    } else {
      untell(`p${sentFor()}`);
    }
  } else if (searchBox(event)) {
    untell("search");
  }
});
// A search sent before a tap was answered comes back with that delegate's row as it was:
// on a slow link the coordinator saw their tap undone. Each row as its latest tap's answer
// left it is kept, numbered, and put back over a search's rows read before that answer.
let answeredTaps = 0;
const answeredRows = new Map(); // delegate id -> { number, html }
let searchSentAfter = 0; // how many taps had been answered when the search on its way went

function keepAnswered(id) {
  const row = document.getElementById(`p${id}`);
  answeredTaps += 1;
  if (row) answeredRows.set(id, { number: answeredTaps, html: row.outerHTML });
}

document.addEventListener("htmx:beforeRequest", (event) => {
  if (searchBox(event)) searchSentAfter = answeredTaps;
});

function putBackAnswered(event) {
  if (event.detail.target?.id !== "sheet-rows") return;
  for (const [id, answered] of answeredRows) {
    const row = document.getElementById(`p${id}`);
    if (!row || answered.number <= searchSentAfter) continue;
    const template = document.createElement("template");
    template.innerHTML = answered.html;
    const fresh = template.content.firstElementChild;
    // Copied before htmx settled it: its classes for the swap, and the mark of an earlier
    // tap not sent, which markUnsent puts back where it still belongs.
    fresh.classList.remove("table-warning", "htmx-added", "htmx-settling");
    row.replaceWith(fresh);
    htmx.process(fresh);
  }
}

document.addEventListener("htmx:afterSettle", (event) => {
  putBackAnswered(event);
  markUnsent();
});
