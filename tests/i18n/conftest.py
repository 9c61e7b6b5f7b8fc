"""Fixtures of the untranslated-text test: the pseudo-language, an app that speaks it, and a walker that
sends the test's requests and remembers what it typed.

The pseudo-language is Esperanto ("eo", a real Babel locale nobody here uses). Its catalogue is made at test
time from the msgids the code and templates hold now (extracted as `pybabel extract -F babel.cfg -k _l`
does, so a stale messages.pot cannot hide anything): every literal piece of a msgid is wrapped in ⟦…⟧, its
placeholders stay outside ("Zeile %(n)d: %(error)s" becomes "⟦Zeile ⟧%(n)d⟦: ⟧%(error)s"). A value
put into a translated sentence is therefore checked on its own: a translated one is wrapped again, an
untranslated one is not. WTForms' own messages ("Dieses Feld wird benötigt.") come from WTForms' catalogue;
they get the same treatment, so that they count as translated, as they are in German and English."""

import re
import shutil
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import abort
from sqlalchemy import select

from tests.helpers import SLUG, app_on_copy, in_own_context, make_staff, prepared_database, signed_in
from webapp.core.extensions import db

ROOT = Path(__file__).resolve().parents[2]
PSEUDO = "eo"
LANGUAGES = ("de", "en", PSEUDO)
ADMIN, PASSWORD = "walker-admin", "walker-pw-1234"
SCANNER = "walker-door"
OPEN, CLOSE = "⟦", "⟧"
# A placeholder stays outside the brackets: %(name)s, %d, {name} (the scripts' strings).
PLACEHOLDER = re.compile(r"%\([^)]*\)[#0+-]*\d*(?:\.\d+)?[a-zA-Z]|%[#0+-]*\d*(?:\.\d+)?[sdifr]|\{[^{}]*\}")


def pseudo(msgid):
    """'Zeile %(n)d: %(error)s' -> '⟦Zeile ⟧%(n)d⟦: ⟧%(error)s'."""
    out, pos = [], 0
    for match in PLACEHOLDER.finditer(msgid):
        if match.start() > pos:
            out.append(OPEN + msgid[pos : match.start()] + CLOSE)
        out.append(match.group(0))
        pos = match.end()
    if pos < len(msgid):
        out.append(OPEN + msgid[pos:] + CLOSE)
    return "".join(out)


def fill(catalog):
    for message in catalog:
        if not message.id:
            continue
        if message.pluralizable:
            message.string = tuple(pseudo(m) for m in message.id)
        else:
            message.string = pseudo(message.id)
    catalog.fuzzy = False
    return catalog


def extract_catalog():
    """The msgids of the code as it is now (webapp/**.py, templates/**.html|txt; _l as a keyword)."""
    with open(ROOT / "babel.cfg") as f:
        method_map, options_map = parse_mapping_cfg(f)
    catalog = Catalog(locale=PSEUDO)
    keywords = {**DEFAULT_KEYWORDS, "_l": None}
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def write_catalog(catalog, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        write_mo(f, catalog)


@pytest.fixture(scope="session")
def pseudo_translations(tmp_path_factory):
    """A translations directory holding only eo/LC_MESSAGES/messages.mo; WTForms' catalogues with an eo one
    beside its own (flask_wtf.i18n looks them up through `messages_path`)."""
    base = tmp_path_factory.mktemp("pseudo-translations")
    catalog = fill(extract_catalog())
    assert len(catalog) > 500, "hardly any msgids extracted: is babel.cfg still where it was?"
    write_catalog(catalog, base / "app" / PSEUDO / "LC_MESSAGES" / "messages.mo")

    import flask_wtf.i18n
    import wtforms.i18n

    real = Path(wtforms.i18n.messages_path())
    forms = base / "wtforms"
    shutil.copytree(real, forms)
    with open(real / "wtforms.pot", "rb") as f:
        wt = fill(read_po(f, locale=PSEUDO))
    write_catalog(wt, forms / PSEUDO / "LC_MESSAGES" / "wtforms.mo")
    patch = pytest.MonkeyPatch()
    patch.setattr(flask_wtf.i18n, "messages_path", lambda: str(forms))
    yield base / "app"
    patch.undo()


@pytest.fixture(scope="session")
def i18n_template(tmp_path_factory):
    """The demo event with its board, two staff accounts and the guests the cases need."""
    from webapp import create_app
    from webapp.checkin import guests
    from webapp.core.config import TestConfig
    from webapp.core.models import Event

    path = prepared_database(tmp_path_factory.mktemp("i18n-template"), board=True)
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}")
    with app.app_context():
        token = make_staff(ADMIN, password=PASSWORD, quick=True)[1]
        make_staff(SCANNER, role="scanner", password=PASSWORD, quick=True)
        event = db.session.execute(select(Event).filter_by(slug=SLUG)).scalar_one()
        for fields in (
            {"name": "Erika Mustermann", "city": "Trier", "email": "erika@example.org", "delegate": False},
            {"name": "Otto Außenstehend", "city": "Fernwald", "delegate": False},
        ):
            guests.create_guest(event, guests.parse_guest(fields), source="self")
        db.session.remove()
        db.engine.dispose()
    return {"path": path, "token": token}


@pytest.fixture
def app(i18n_template, pseudo_translations, tmp_path):
    app = app_on_copy(
        i18n_template["path"],
        tmp_path,
        LANGUAGES=LANGUAGES,
        BABEL_TRANSLATION_DIRECTORIES=f"{ROOT / 'translations'};{pseudo_translations}",
        # Mail set up, so that the mailing form and its errors are shown; no case gets as far as sending.
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=9,
        MAIL_FROM="Treffpunkt <treffpunkt@example.org>",
        PUBLIC_URL="http://localhost",
    )

    # Routes only this test has: an unexpected error (500) and a page that is gone (410).
    @app.get("/i18n-test/raises")
    def raises():
        raise RuntimeError("walker: an unexpected error")

    @app.get("/i18n-test/gone")
    def gone():
        abort(410)

    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


class Walker:
    """The test's browser in one language: `staff` (signed in as an instance admin), `door` (a scanner
    account), `anon` (nobody); `sent` holds every text the case typed (echoed input is not the app's text)."""

    def __init__(self, app, lang, token, tmp_path):
        from webapp.checkin.models import Guest
        from webapp.core.models import Event

        self.app, self.lang, self.token, self.tmp_path = app, lang, token, tmp_path
        self.sent = []
        self.clients = {
            "staff": signed_in(app, ADMIN, PASSWORD),
            "door": signed_in(app, SCANNER, PASSWORD),
            "anon": in_own_context(app, app.test_client()),
        }
        for client in self.clients.values():
            client.set_cookie("lang", lang)
        self.event = db.session.execute(select(Event).filter_by(slug=SLUG)).scalar_one()
        sessions = sorted(self.event.sessions, key=lambda s: (s.planned_start, s.id))
        self.session_id, self.session2_id = sessions[0].id, sessions[1].id
        self.rooms = [r.name for r in self.event.rooms]
        self.topic_id = self.event.topics[0].id
        self.speaker_id = sorted(self.event.speakers, key=lambda s: s.id)[0].id
        people = {g.name: g for g in db.session.execute(select(Guest).filter_by(event_id=self.event.id)).scalars()}
        self.guest = people["Erika Mustermann"]
        self.guest_id, self.guest_token = self.guest.id, self.guest.token
        self.delegate_token = people["Demo-Delegation Trier"].token
        self.unconfirmed_token = self.guest.token
        self.outsider_token = people["Otto Außenstehend"].token
        self.people = {name: g.id for name, g in people.items()}

    def account_id(self, name):
        users = db.metadata.tables["staff_user"]
        return db.session.execute(select(users.c.id).where(users.c.name == name)).scalar_one()

    def guest_id_of(self, name):
        return self.people[name]

    # ---- requests ------------------------------------------------------------------------------------------

    def echo(self, value):
        """Remember the texts in a form, a JSON body or a file: the page may show them back."""
        if isinstance(value, dict):
            for item in value.values():
                self.echo(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                self.echo(item)
        elif isinstance(value, bytes):
            self.echo(value.decode("utf-8", "replace"))
        elif isinstance(value, str):
            self.sent.append(value)
            self.sent.extend(re.split(r"[\r\n;,\t\"]+", value))  # the cells of an uploaded CSV, one by one

    def get(self, url, who="staff", **kwargs):
        return self.clients[who].get(url, follow_redirects=True, **kwargs)

    def post(self, url, data=None, who="staff", **kwargs):
        self.echo(data or {})
        return self.clients[who].post(url, data=data or {}, follow_redirects=True, **kwargs)

    def upload(self, url, field, content, filename, data=None, who="staff"):
        """A multipart form with one file."""
        import io

        self.echo(content)
        self.echo(filename)
        # A message may quote the file: its cells, keys and tag names count as typed too.
        self.sent.extend(re.findall(r"[\w.-]+", content.decode("utf-8", "replace")))
        form = {**(data or {}), field: (io.BytesIO(content), filename)}
        return self.clients[who].post(url, data=form, content_type="multipart/form-data", follow_redirects=True)

    def api(self, method, url, body=None, who="token", data=None, headers=None, csrf=False):
        """An API call as a page makes it (the lang cookie; a bearer token for staff APIs, or a signed-in
        browser with who="staff"/"door", with the page's CSRF token in X-CSRFToken if `csrf`)."""
        headers = dict(headers or {})
        if csrf:
            page = self.clients[who].get("/staff/account").get_data(as_text=True)
            headers["X-CSRFToken"] = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        if who == "token":
            headers["Authorization"] = f"Bearer {self.token}"
            who = "anon"
        self.echo(body)
        client = self.clients[who]
        if data is not None:
            self.echo(data)
            return getattr(client, method.lower())(url, data=data, headers=headers)
        return getattr(client, method.lower())(url, json=body, headers=headers)

    def csrf(self, on=True):
        """CSRF checks as in production (TestConfig has them off)."""
        self.app.config["WTF_CSRF_ENABLED"] = on
        return self

    def other_app(self, **overrides):
        """Another app on a fresh copy with other settings (e.g. rate limits on), its clients in this language."""
        directory = self.tmp_path / f"other-{len(self.sent)}"
        directory.mkdir()
        app = app_on_copy(
            Path(self.app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")),
            directory,
            "other.sqlite3",
            **{
                "LANGUAGES": self.app.config["LANGUAGES"],
                "BABEL_TRANSLATION_DIRECTORIES": self.app.config["BABEL_TRANSLATION_DIRECTORIES"],
                **overrides,
            },
        )
        client = in_own_context(app, app.test_client())
        client.set_cookie("lang", self.lang)
        return client

    def export(self, path):
        """One of the event's own exports (schedule.json, schedule.xml): real files to break."""
        return self.clients["anon"].get(f"/e/{SLUG}/{path}").data

    # ---- what the app itself did not write -----------------------------------------------------------------

    DATA = {
        "event": ("slug", "series", "title", "subtitle", "host", "venue", "description"),
        "staff_user": ("name",),
        "announcement": ("text",),
        "api_token": ("label",),
        "device": ("name",),
        "municipality": ("name", "note", "invite_code"),
        "room": ("name",),
        "speaker": ("name", "role"),
        "topic": ("name", "phrase", "phrase_indefinite", "phrase_en"),
        "guest": ("name", "salutation", "title", "given_name", "family_name", "notes", "city"),
        "session": ("title", "abstract"),
        "interest": ("note",),
        "schedule_follow": ("url",),
    }
    GUEST_DATA = ("organisation", "role", "email", "code", "badge_code")

    def known_values(self):
        """Texts people typed (the fixture's event, rooms, guests, …) and what this case sent: they may be
        shown as they are, in any language."""
        from webapp.checkin.tickets import format_code

        values = set(self.sent)
        tables = db.metadata.tables
        for name, columns in {**self.DATA, "guest": self.DATA["guest"] + self.GUEST_DATA}.items():
            table = tables[name]
            for row in db.session.execute(select(*(table.c[c] for c in columns))):
                values.update(v for v in row if isinstance(v, str))
        for code in db.session.execute(select(tables["guest"].c.code)).scalars():
            values.add(format_code(code))
        return {v.strip() for v in values if v and len(v.strip()) >= 3}


@pytest.fixture
def walker_for(app, i18n_template, tmp_path):
    return lambda lang: Walker(app, lang, i18n_template["token"], tmp_path)
