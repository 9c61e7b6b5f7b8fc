"""The board's words, in one place: the sentences that say which municipality runs, plans or is interested in
a topic, and the line that explains a pair's score — German and English, made together. The scripts show
these finished texts; they build no sentences of their own.

The live snapshot and its changes are the same for every reader (webapp.live keeps one per revision), so the
board carries each text in both languages (`sentences: {"de": [...], "en": [...]}`, `score_text: {"de": …,
"en": …}`) and a page picks its reader's. `reasons` stays the German list the API always had.

A topic is named by the phrases an organiser set on the set-up page (Topic.phrase "die Park App",
phrase_indefinite "eine Park App", phrase_en "the Park App"). Where one is empty, the sentence names the
topic as a quoted label in a frame that fits any name, a project or a field, and needs no gender:
"ein Projekt zum Thema „Verwaltung“", "das Thema „Verwaltung“".

The sentences (A is the more experienced municipality, else the first in alphabetical order):

  stages                  German                                                  English
  runs + runs             A und B haben beide eine Park App im Betrieb.           A and B both run the Park App.
  runs + plans            A hat die Park App im Betrieb; B plant eine.            A runs the Park App; B is planning one.
  runs + interested       A hat die Park App im Betrieb; B interessiert sich      A runs the Park App; B is interested in it.
                          dafür.
  plans + plans           A und B planen beide eine Park App.                     A and B are both planning the Park App.
  plans + interested      A plant eine Park App; B interessiert sich dafür.       A is planning the Park App; B is interested in it.
  interested + interested A und B interessieren sich beide für die Park App.      A and B are both interested in the Park App.

Without the organiser's phrases: "A hat ein Projekt zum Thema „Park App“ im Betrieb; B plant eines." /
"A runs a project on “Park App”; B is planning one.", and "… interessieren sich beide für das Thema „Park App“"
/ "… are both interested in the topic “Park App”". (In English %(one)s is always "one".)

The score in one line: "5,5 Punkte: 3 für „Park App“ (Betrieb trifft Planung) und 2,5 für „KLAR“ (Betrieb
trifft Interesse)" / "5.5 points: 3 for “Park App” (running meets planning) and 2.5 for “KLAR” (running meets
interest)", from the weights scoring.py gives each shared topic.

"eine" in "B plant eine" is the pronoun of the indefinite article (ein → eines, eine → eine, einen → einen);
where it cannot be known (no article, or only one of the two German phrases set) the phrase is repeated."""

from typing import NamedTuple

from babel.lists import format_list
from babel.numbers import format_decimal
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _

from .models import STAGES

LANGUAGES = ("de", "en")
_RANK = {stage: i for i, stage in enumerate(STAGES)}  # runs, plans, interested: the experienced first
# Babel's locale per page language: British English (as the pages' dates).
_LOCALES = {"de": "de", "en": "en_GB"}


def _locale(lang):
    """Babel's locale for a page language; a language without its own (a test's pseudo-locale) writes German."""
    return _LOCALES.get(lang, "de")


# The indefinite article's pronoun: "Trier plant eine", "… einen", "… eines".
_PRONOUNS = {"ein": "eines", "eine": "eine", "einen": "einen"}


class TopicWords(NamedTuple):
    """How the sentences name one topic; empty phrases are derived from the name."""

    name: str
    phrase: str = ""  # German accusative with the definite article: "die Park App"
    phrase_indefinite: str = ""  # … with the indefinite one: "eine Park App"
    phrase_en: str = ""  # "the Park App"

    @classmethod
    def of(cls, topic):
        return cls(topic.name, topic.phrase or "", topic.phrase_indefinite or "", topic.phrase_en or "")


def words_of(topics):
    """{topic name: TopicWords} of an event's topics."""
    return {t.name: TopicWords.of(t) for t in topics}


def _pair_patterns():
    """The sentence of each pair of stages, ordered by experience, in the current locale."""
    return {
        ("runs", "runs"): _("%(a)s und %(b)s haben beide %(indefinite)s im Betrieb."),
        ("runs", "plans"): _("%(a)s hat %(definite)s im Betrieb; %(b)s plant %(one)s."),
        ("runs", "interested"): _("%(a)s hat %(definite)s im Betrieb; %(b)s interessiert sich dafür."),
        ("plans", "plans"): _("%(a)s und %(b)s planen beide %(indefinite)s."),
        ("plans", "interested"): _("%(a)s plant %(indefinite)s; %(b)s interessiert sich dafür."),
        ("interested", "interested"): _("%(a)s und %(b)s interessieren sich beide für %(about)s."),
    }


def pair_labels():
    """What each pair of stages is, in a few words, in the current locale (the score's explanation)."""
    return {
        ("runs", "plans"): _("Betrieb trifft Planung"),
        ("runs", "interested"): _("Betrieb trifft Interesse"),
        ("plans", "plans"): _("beide in Planung"),
        ("runs", "runs"): _("beide im Betrieb"),
        ("plans", "interested"): _("Planung trifft Interesse"),
        ("interested", "interested"): _("beide interessiert"),
    }


def _slots(words, lang):
    """The noun phrases a pattern takes, in the current locale (`lang` says which organiser phrases apply)."""
    project = _("ein Projekt zum Thema „%(name)s“", name=words.name)
    topic = _("das Thema „%(name)s“", name=words.name)
    if lang == "en":
        own = words.phrase_en
        # English refers back with "one" whatever the noun ("… runs the Park App; Trier is planning one").
        return {"definite": own or project, "indefinite": own or project, "one": "one", "about": own or topic}
    definite = words.phrase or project
    indefinite = words.phrase_indefinite or project
    # The pronoun stands for the first clause's noun only if both phrases come from the same source.
    same_source = bool(words.phrase) == bool(words.phrase_indefinite)
    one = (_PRONOUNS.get(indefinite.split(" ", 1)[0]) if same_source else None) or indefinite
    return {"definite": definite, "indefinite": indefinite, "one": one, "about": words.phrase or topic}


def _ordered(city_a, stage_a, city_b, stage_b):
    """The more experienced municipality first (a stable sort: equal stages keep the given order)."""
    return sorted([(city_a, stage_a), (city_b, stage_b)], key=lambda cs: _RANK[cs[1]])


def number(value, lang):
    """5.5 as the language writes it ("5,5" / "5.5"), whole numbers without decimals."""
    return format_decimal(round(value, 2), locale=_locale(lang))


def _words(words, topic):
    return words.get(topic) or TopicWords(topic)


class Wording:
    """The texts of one language, made in its locale (use inside `in_language`)."""

    def __init__(self, lang):
        self.lang = lang
        self.patterns = _pair_patterns()
        self.labels = pair_labels()

    def pair(self, words, city_a, stage_a, city_b, stage_b):
        """One sentence: how two municipalities stand on one topic."""
        (a, s1), (b, s2) = _ordered(city_a, stage_a, city_b, stage_b)
        return self.patterns[(s1, s2)] % {"a": a, "b": b, **_slots(words, self.lang)}

    def quoted(self, name):
        return _("„%(name)s“", name=name)

    def score(self, topics):
        """The score of a pair in one line, from the weights scoring gave each shared topic:
        "5,5 Punkte: 3 für „Park App“ (Betrieb trifft Planung) und 2,5 für „KLAR“ (Betrieb trifft Interesse)".
        `topics`: [(topic name, stage_a, stage_b, weight)], strongest first."""
        weights = [w for *_rest, w in topics]
        total = sum(weights)
        count = 1 if total == 1 else 2  # German and English: singular for exactly one point only
        labels = [self.labels[_key(sa, sb)] for _t, sa, sb, _w in topics]
        if len(topics) == 1:
            return ngettext(
                "%(score)s Punkt für %(topic)s (%(pair)s)",
                "%(score)s Punkte für %(topic)s (%(pair)s)",
                count,
                score=number(total, self.lang),
                topic=self.quoted(topics[0][0]),
                pair=labels[0],
            )
        parts = [
            _("%(weight)s für %(topic)s (%(pair)s)", weight=number(w, self.lang), topic=self.quoted(t), pair=label)
            for (t, *_rest), w, label in zip(topics, weights, labels, strict=True)
        ]
        return ngettext(
            "%(score)s Punkt: %(parts)s",
            "%(score)s Punkte: %(parts)s",
            count,
            score=number(total, self.lang),
            parts=format_list(parts, locale=_locale(self.lang)),
        )


def _key(stage_a, stage_b):
    return tuple(sorted((stage_a, stage_b), key=_RANK.get))


def in_language(lang):
    """A context in which gettext answers in `lang` (outside an app context: the German msgids)."""
    return force_locale(lang)


def describe(pairs, words):
    """The texts of linked pairs in every language. `pairs`: [(city_a, city_b, [(topic, stage_a, stage_b,
    weight)])] with the topics strongest first; `words`: {topic name: TopicWords} (missing = derived from the name).
    Returns one dict per pair: {reasons: [German sentences], sentences: {lang: [...]}, score_text: {lang: …}}."""
    out = [{"sentences": {}, "score_text": {}} for _p in pairs]
    for lang in LANGUAGES:
        with in_language(lang):
            wording = Wording(lang)
            for entry, (a, b, topics) in zip(out, pairs, strict=True):
                entry["sentences"][lang] = [wording.pair(_words(words, t), a, sa, b, sb) for t, sa, sb, _w in topics]
                entry["score_text"][lang] = wording.score(topics)
    for entry in out:
        entry["reasons"] = entry["sentences"]["de"]
    return out


def score_rule(lang, weights):
    """How points are counted, in one line in `lang`, from `weights` (scoring.PAIR_WEIGHTS):
    "Punkte je gemeinsames Thema: Betrieb trifft Planung 3, … Ein Paar bekommt die Summe." """
    with in_language(lang):
        labels = pair_labels()
        listed = ", ".join(f"{labels[pair]} {number(w, lang)}" for pair, w in weights.items())
        return _("Punkte je gemeinsames Thema: %(weights)s. Ein Paar bekommt die Summe.", weights=listed)
