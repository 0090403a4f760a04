// Asks before a form does what cannot be undone: a submit button (or its form) carrying
// data-confirm="the question" submits only after the person says yes. A file of its own,
// as the Content-Security-Policy allows no inline script.
//
// A form carrying data-once is sent once however often it is clicked: it hands out a
// password or a token shown only once, and a double click showed the second answer
// ("already taken") in place of the first. After ten seconds it may be sent again (a
// download leaves the page where it was). A click while it is being sent is not asked
// the question again: the answer would change nothing.
document.addEventListener("submit", (event) => {
  const form = event.target;
  const once = "once" in form.dataset;
  // data-waiting: held back by js/sheet.js until the taps before it are answered.
  if (once && (form.dataset.sending || form.dataset.waiting)) {
    event.preventDefault();
    return;
  }
  const question = event.submitter?.dataset.confirm ?? form.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
    return;
  }
  if (once) {
    form.dataset.sending = "1";
    setTimeout(() => { delete form.dataset.sending; }, 10000);
  }
});
