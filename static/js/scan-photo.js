// Scanning from a photo: where the page gets no live camera (plain http on the venue LAN: browsers give
// getUserMedia to secure pages only), "Foto aufnehmen" (<input type="file" accept="image/*"
// capture="environment">) opens the phone's camera app; the photo is decoded here, in the page, with the
// vendored jsQR (as scan-camera.js does for camera frames), and the text goes the way of a camera scan
// (`onCode(text, startedAt)`). The photo never leaves the phone: only the text read from it is sent.
import { $ } from "./dom.js";
import { loadJsQR } from "./scan-camera.js";

// Widths tried, smallest first: a phone photo of 12 megapixels is slow to search at full size, and a QR
// that fills a fair part of the picture is found at 1000 px; a small or distant one needs more pixels.
const WIDTHS = [1000, 1600, 2400];

/** The photo as something a canvas can draw: an ImageBitmap (EXIF orientation applied), or an <img> from a
 * data: URL where createImageBitmap cannot read the file (the page's CSP allows data: images, not blob:). */
async function loadPicture(file) {
  if (window.createImageBitmap) {
    try {
      return await createImageBitmap(file, { imageOrientation: "from-image" });
    } catch {
      /* an older browser, or a format it decodes only in <img> */
    }
  }
  const url = await new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error || new Error("file not readable"));
    reader.readAsDataURL(file);
  });
  const img = new Image();
  img.src = url;
  await img.decode();
  return img;
}

const sizeOf = (picture) => [picture.naturalWidth || picture.width, picture.naturalHeight || picture.height];

/** The text of the first QR code found in `picture`, or null; `jsQR` is the decoder (window.jsQR). */
export function readPicture(picture, jsQR, canvas = document.createElement("canvas")) {
  const [width, height] = sizeOf(picture);
  if (!width || !height) return null;
  const draw = canvas.getContext("2d", { willReadFrequently: true });
  const longest = Math.max(width, height);
  const tried = new Set();
  for (const wanted of WIDTHS) {
    const scale = Math.min(1, wanted / longest);
    const w = Math.max(1, Math.round(width * scale));
    const h = Math.max(1, Math.round(height * scale));
    if (tried.has(w)) continue; // a small photo: all sizes are the photo itself
    tried.add(w);
    canvas.width = w;
    canvas.height = h;
    draw.drawImage(picture, 0, 0, w, h);
    // Both ways: a QR shown on a phone in dark mode is light on dark.
    const found = jsQR(draw.getImageData(0, 0, w, h).data, w, h, { inversionAttempts: "attemptBoth" });
    if (found && found.data) return found.data;
  }
  return null;
}

/** Decode a photo file: the text of its QR code, or null when none was found. */
export async function decodePhoto(file) {
  const [jsQR, picture] = await Promise.all([loadJsQR(), loadPicture(file)]);
  try {
    return readPicture(picture, jsQR);
  } finally {
    if (picture.close) picture.close(); // an ImageBitmap's memory, at once
  }
}

const photoMessage = (text, state = "") => {
  const el = $("photo-msg");
  el.textContent = text;
  el.dataset.state = state;
};

/** Wire the photo input (#photo): each photo taken is decoded and handed to `onCode(text, startedAt)`. */
export function setupPhoto(ctx, onCode) {
  const input = $("photo");
  if (!input) return;
  const { t } = ctx;
  input.addEventListener("change", async () => {
    const file = input.files && input.files[0];
    if (!file) return;
    const startedAt = performance.now();
    photoMessage(t("photo_reading"), "reading");
    let text = null;
    try {
      text = await decodePhoto(file);
    } catch (exc) {
      photoMessage(t("photo_error", { error: (exc && exc.message) || String(exc) }), "error");
      return;
    } finally {
      input.value = ""; // the same picture can be chosen again
    }
    if (!text) {
      photoMessage(t("photo_none"), "none");
      return;
    }
    photoMessage("", "read");
    await onCode(text, startedAt);
  });
}
