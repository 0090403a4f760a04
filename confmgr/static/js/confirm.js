// Asks before a form does what cannot be undone: a submit button (or its form) carrying
// data-confirm="the question" submits only after the person says yes. A file of its own,
// as the Content-Security-Policy allows no inline script.
document.addEventListener("submit", (event) => {
  const question = event.submitter?.dataset.confirm ?? event.target.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
