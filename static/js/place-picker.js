// The municipality picker on the staff set-up page: suggestions from the built-in gazetteer
// (GET /api/v1/municipalities?q=) into the field's <datalist>, and the state of the place picked.
import { $, setText } from "./dom.js";

const WAIT_MS = 200; // typing pauses this long before asking

export function placeLabel(place) {
  return place.state ? `${place.name} (${place.state})` : place.name;
}

function start() {
  const input = document.querySelector("input[data-places]");
  if (!input) return;
  const list = $(input.getAttribute("list"));
  const found = $("place-found");
  let timer = null;
  let places = [];
  const showPicked = () => {
    const place = places.find((p) => p.name === input.value.trim());
    setText(found, place ? placeLabel(place) : "");
  };
  input.addEventListener("input", () => {
    clearTimeout(timer);
    showPicked();
    timer = setTimeout(async () => {
      const q = input.value.trim();
      if (q.length < 2) return;
      try {
        const r = await fetch(`${input.dataset.places}?q=${encodeURIComponent(q)}`, { credentials: "same-origin" });
        places = (await r.json()).municipalities || [];
      } catch {
        return; // offline: the organiser types the name; the server places it
      }
      list.replaceChildren(
        ...places.map((p) => Object.assign(document.createElement("option"), { value: p.name, label: placeLabel(p) })),
      );
      showPicked();
    }, WAIT_MS);
  });
}

if (typeof document !== "undefined") start();
