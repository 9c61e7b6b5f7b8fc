// The guest import's confirm button: a 5,000-row list imports in well under a second or two, so a simple
// "importing…" state is enough; it also stops a second click from sending the form again.
for (const form of document.querySelectorAll("form[data-import-form]")) {
  form.addEventListener("submit", () => {
    const button = form.querySelector("button[type=submit]");
    const status = form.querySelector(".import-busy");
    if (button) {
      // Disable after the submit has been dispatched, or the browser would not send the form.
      setTimeout(() => { button.disabled = true; }, 0);
      if (button.dataset.busy) button.textContent = button.dataset.busy;
    }
    if (status && button) status.textContent = button.dataset.busy || "";
    form.setAttribute("aria-busy", "true");
  });
}
