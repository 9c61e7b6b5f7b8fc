// "Link kopieren" on the staff guest pages: copies a guest's ticket link. The Clipboard API exists only on
// https and localhost; on plain http in the venue LAN the text is selected and copied the old way.
const SHOW_DONE_MS = 2000;

async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  const area = Object.assign(document.createElement("textarea"), { value: text, readOnly: true });
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.append(area);
  area.select();
  const done = document.execCommand("copy");
  area.remove();
  if (!done) throw new Error("copy refused");
}

for (const button of document.querySelectorAll("button[data-copy]")) {
  button.hidden = false;
  const label = button.innerHTML;
  button.addEventListener("click", async () => {
    const source = button.dataset.copy === "link" ? null : document.getElementById(button.dataset.copy);
    const text = source ? source.value : button.dataset.link;
    try {
      await copyText(text);
      button.textContent = button.dataset.done;
    } catch {
      if (source) source.select(); // let the person copy it by hand
      return;
    }
    setTimeout(() => (button.innerHTML = label), SHOW_DONE_MS);
  });
}
