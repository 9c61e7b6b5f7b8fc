"""Text helpers every area uses: the German umlaut fold, slugs, and whitespace-insensitive keys."""

import re
import unicodedata

_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})


def fold_umlauts(text):
    """Fußgängerzone -> Fussgaengerzone: how German readers spell umlauts in ASCII."""
    return str(text).translate(_FOLD)


def slugify(text, fallback=""):
    """ASCII slug as German readers expect it (Fußgängerzone -> fussgaengerzone)."""
    text = unicodedata.normalize("NFKD", fold_umlauts(text)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or fallback


def compact_key(text):
    """Letters and digits only, umlauts folded, lower case: "E-Mail-Adresse" and "e mail adresse" match."""
    return re.sub(r"[^a-z0-9]", "", fold_umlauts(text.strip()).lower())


def squash(text):
    """Inner runs of whitespace as one space, none at the ends."""
    return " ".join(text.split())


def unique_slug(name, taken, fallback, max_len=100):
    """A slug of `name` not in `taken`, at most `max_len` characters with its -2, -3… suffix."""
    base = slugify(name, fallback)[: max_len - 4].rstrip("-") or fallback
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug
