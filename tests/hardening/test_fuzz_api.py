"""Bad input everywhere, HTTP side: property-based (hypothesis, derandomized) and a fuzz corpus over every API
body, the path ids, the query strings (?q=, ?at=, ?lang=, ?size=, ?status=, ?part=), QR payloads and typed
codes. Never a 500; an API error is always JSON {error: {code, message}} with a 4xx status; a refused request
leaves the database as it was (a digest of every table before and after). Oversized: a 9 MiB body is refused
with 413 before it is read, by a real server, which then keeps serving. NUL characters (which PostgreSQL
cannot store) are tried on a PostgreSQL database too."""

import json
import socket
import time
import uuid

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.hardening.conftest import (
    Browser,
    build_fuzz_app,
    corpus_strings,
    count_case,
    figure,
    fuzz_strategies,
    hypothesis_profile,
    is_error_json,
    iso_times,
    login,
)
from tests.helpers import SLUG

PROFILE = hypothesis_profile()
TEXT, ANY_JSON = fuzz_strategies()
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
RESULTS = {"ok", "already", "unknown", "wrong_event", "cancelled"}


def hint(key, f):
    """Values for a known field: mostly near the valid ones, sometimes anything."""
    near = {
        "delay_minutes": st.integers(min_value=-1500, max_value=1500),
        "expires_in_minutes": st.integers(min_value=-5, max_value=10_100),
        "room": st.sampled_from(["Forum", "forum", "Seminarraum 1", "Foyer", "Mond"]),
        "status": st.sampled_from(["scheduled", "cancelled", "registered", "Cancelled"]),
        "kind": st.sampled_from(["talk", "opening", "pitch", "panel", "workshop", "break", "x"]),
        "severity": st.sampled_from(["info", "warning", "urgent", "fatal"]),
        "planned_start": iso_times(),
        "planned_end": iso_times(),
        "expires_at": iso_times(),
        "scanned_at": iso_times(),
        "shift_following": st.booleans(),
        "consent": st.booleans(),
        "contact": st.booleans(),
        "consent_contact": st.booleans(),
        "accept": st.booleans(),
        "nonce": st.one_of(st.uuids().map(str), st.text(min_size=1, max_size=70)),
        "code": qr_payloads(f),
        "scans": st.lists(
            st.fixed_dictionaries(
                {"code": qr_payloads(f), "nonce": st.uuids().map(str)}, optional={"scanned_at": iso_times()}
            ),
            max_size=4,
        ),
        "interests": st.lists(
            st.fixed_dictionaries(
                {
                    "topic": st.sampled_from([f.topic, "park-app", "bildung", "nope"]),
                    "stage": st.sampled_from(["runs", "plans", "interested", "dreams"]),
                },
                optional={"note": TEXT},
            ),
            max_size=4,
        ),
        "with": st.sampled_from([f.municipality, "trier", "kaiserslautern", "koblenz", "atlantis"]),
        "topic": st.sampled_from([f.topic, "park-app", "nope"]),
    }.get(key, TEXT)
    return st.one_of(near, near, ANY_JSON)


def qr_payloads(f):
    """What a scanner may read or a person may type: ticket URLs (real and made up), bare tokens, typed codes
    in any case with dashes and spaces, and anything else."""
    token = st.text(
        alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", min_size=15, max_size=70
    )
    typed = st.text(alphabet=CODE_ALPHABET + CODE_ALPHABET.lower() + "-  01OIL", min_size=1, max_size=12)
    return st.one_of(
        st.builds(lambda t, pre: f"{pre}/t/{t}", token, st.sampled_from(["http://127.0.0.1:5000", "https://x", ""])),
        token,
        typed,
        st.just(f.guest_code),
        st.just(f"http://127.0.0.1/t/{f.delegate_token}"),
        st.builds(lambda c: f"{c[:4].lower()} - {c[4:]}", st.just(f.guest_code)),
        TEXT,
    )


def endpoints(f):
    """(method, path, headers, fields) of every JSON-body endpoint."""
    s = SLUG
    session = {
        "delay_minutes",
        "room",
        "status",
        "title",
        "abstract",
        "kind",
        "planned_start",
        "planned_end",
        "shift_following",
    }
    guest = {"name", "city", "organisation", "role", "email", "consent_contact"}
    interests = {"consent", "interests", "contact"}
    return [
        ("PATCH", f"/api/v1/events/{s}/sessions/{f.session_id}", f.admin, session),
        ("POST", f"/api/v1/events/{s}/sessions", f.admin, session),
        (
            "POST",
            f"/api/v1/events/{s}/announcements",
            f.admin,
            {"text", "severity", "expires_at", "expires_in_minutes"},
        ),
        ("POST", f"/api/v1/events/{s}/guests", f.admin, guest),
        ("PATCH", f"/api/v1/events/{s}/guests/{f.guest_id}", f.admin, guest | {"status"}),
        ("POST", f"/api/v1/events/{s}/checkins", f.scanner, {"code", "nonce", "scanned_at"}),
        ("POST", f"/api/v1/events/{s}/checkins/batch", f.scanner, {"scans"}),
        ("POST", f"/api/v1/events/{s}/checkins/{f.checkin_id}/undo", f.scanner, {"nonce"}),
        ("PUT", f"/api/v1/t/{f.delegate_token}/interests", {}, interests),
        ("POST", f"/api/v1/t/{f.delegate_token}/meetings", {}, {"with", "topic"}),
        ("POST", f"/api/v1/t/{f.delegate_token}/meetings/1", {}, {"accept"}),
        ("PUT", f"/api/v1/events/{s}/municipalities/{f.municipality}/interests", f.admin, interests),
    ]


ENDPOINT_NAMES = [
    "PATCH session",
    "POST session",
    "POST announcement",
    "POST guest",
    "PATCH guest",
    "POST checkin",
    "POST checkins/batch",
    "POST undo",
    "PUT interests (ticket)",
    "POST meeting (ticket)",
    "POST meeting answer (ticket)",
    "PUT interests (staff)",
]


def bodies(f, fields):
    known = st.fixed_dictionaries({}, optional={k: hint(k, f) for k in sorted(fields)})
    extra = st.dictionaries(TEXT, ANY_JSON, max_size=2)
    return st.one_of(known, known, st.builds(lambda a, b: {**b, **a}, known, extra), ANY_JSON)


def check(f, response, before, what):
    """The properties every answer must have (`before`: f.watch.state() before the request)."""
    status = response.status_code
    assert status < 500, f"{what}: {status} {response.get_data(as_text=True)[:300]}"
    body = response.get_json(silent=True)
    if status >= 400:
        assert is_error_json(body), f"{what}: {status} without {{error: {{code, message}}}}: {body!r:.300}"
        assert f.watch.state() == before, f"{what}: refused with {status} but the database changed"
    else:
        assert body is not None, f"{what}: {status} without JSON"
    return status, body


def send(f, method, path, headers, body):
    data = json.dumps(body, ensure_ascii=True, allow_nan=True)
    return f.app.test_client().open(
        path, method=method, data=data, headers={**headers, "Content-Type": "application/json"}
    )


@pytest.fixture(scope="module")
def f(fuzz_app):
    return fuzz_app


@pytest.mark.parametrize("index", range(len(ENDPOINT_NAMES)), ids=ENDPOINT_NAMES)
def test_every_json_body(f, index):
    method, path, headers, fields = endpoints(f)[index]
    statuses = []

    @settings(PROFILE, max_examples=100)
    @given(body=bodies(f, fields))
    def run(body):
        before = f.watch.state()
        status, answer = check(f, send(f, method, path, headers, body), before, f"{method} {path} {body!r:.200}")
        statuses.append(status)
        if path.endswith("/checkins") and status == 200:
            assert answer["result"] in RESULTS
        count_case("api bodies")

    run()
    assert any(s >= 400 for s in statuses)


def test_raw_bodies_and_content_types(f):
    """Not JSON, broken JSON, invalid UTF-8, deep nesting, wrong content types, to every endpoint."""
    targets = endpoints(f)
    deep = [b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000]
    raw = st.one_of(
        st.binary(max_size=300),
        st.sampled_from(
            deep
            + [
                b"",
                b"null",
                b"[]",
                b'"x"',
                b"1e999",
                b'{"a":NaN}',
                b"\xff\xfe{}",
                b"{" * 10,
                b'{"code": "\\ud800", "nonce": "1"}',
                b"9" * 5000,
            ]
        ),
    )
    types = st.sampled_from(
        [
            "application/json",
            "application/json; charset=latin-1",
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            None,
            "application/merge-patch+json",
            "application/json\x00",
        ]
    )

    @settings(PROFILE, max_examples=200)
    @given(target=st.sampled_from(targets), data=raw, content_type=types)
    def run(target, data, content_type):
        method, path, headers, _ = target
        before = f.watch.state()
        h = dict(headers)
        if content_type:
            h["Content-Type"] = content_type
        r = f.app.test_client().open(path, method=method, data=data, headers=h)
        check(f, r, before, f"{method} {path} {content_type} {data[:60]!r}")
        assert r.status_code >= 400
        count_case("api raw bodies")

    run()


def test_path_ids_and_slugs(f):
    """Ids, slugs and tokens in the URL: anything, percent-encoded."""
    from urllib.parse import quote

    segment = st.one_of(
        TEXT.filter(lambda s: s not in ("", ".", "..")),
        st.integers().map(str),
        st.sampled_from(["0", "-1", "99999999999999999999", "1.5", "kl-2018", "%00", "1%20"]),
    )
    templates = st.sampled_from(
        [
            ("GET", "/api/v1/events/{}/agenda", {}),
            ("GET", "/api/v1/events/{}/board", {}),
            ("GET", "/api/v1/events/{}/stats", {}),
            ("GET", "/api/v1/t/{}/interests", {}),
            ("PATCH", "/api/v1/events/kl-2018/sessions/{}", "admin"),
            ("PATCH", "/api/v1/events/{}/sessions/2", "admin"),
            ("DELETE", "/api/v1/events/kl-2018/announcements/{}", "admin"),
            ("PATCH", "/api/v1/events/kl-2018/guests/{}", "admin"),
            ("GET", "/api/v1/events/{}/checkin-list", "scanner"),
            ("POST", "/api/v1/events/kl-2018/checkins/{}/undo", "scanner"),
            ("POST", "/api/v1/t/{}/meetings", {}),
            ("PUT", "/api/v1/events/kl-2018/municipalities/{}/interests", "admin"),
            ("GET", "/e/{}/", None),
            ("GET", "/t/{}", None),
            ("GET", "/t/{}/qr.svg", None),
            ("GET", "/e/{}/screen", None),
            ("GET", "/e/kl-2018/screen/{}", None),
            ("GET", "/e/{}/schedule.xml", None),
            ("GET", "/staff/pair/{}", None),
        ]
    )

    @settings(PROFILE, max_examples=200)
    @given(template=templates, value=segment)
    def run(template, value):
        method, pattern, who = template
        headers = {"admin": f.admin, "scanner": f.scanner}.get(who, {}) if isinstance(who, str) else {}
        path = pattern.format(quote(value.encode("utf-8", "surrogatepass"), safe=""))
        before = f.watch.state()
        r = f.app.test_client().open(path, method=method, json={} if method != "GET" else None, headers=headers)
        assert r.status_code < 500, f"{method} {path}: {r.status_code}"
        if path.startswith("/api/") and r.status_code >= 400:
            assert is_error_json(r.get_json(silent=True)), f"{path}: {r.get_data(as_text=True)[:200]}"
        if r.status_code >= 400 or method == "GET":
            assert f.watch.state() == before, f"{method} {path} changed the database"
        count_case("paths")

    run()


def test_query_strings(f):
    """?q= (scanner search, staff guest list), ?at=, ?lang=, ?size=, ?status=, ?part= on pages and API."""
    admin = login(f.app, "fuzz-admin", "fuzz-admin-pw")
    anonymous = Browser(f.app)
    targets = [
        (f.app.test_client, "/api/v1/events/kl-2018/guests", f.scanner, ("q",)),
        (lambda: anonymous, "/e/kl-2018/", {}, ("lang", "at")),
        (lambda: anonymous, "/e/kl-2018/screen", {}, ("lang", "at")),
        (lambda: anonymous, "/e/kl-2018/board", {}, ("lang", "at")),
        (lambda: anonymous, "/e/kl-2018/agenda.ics", {}, ("lang", "at")),
        (lambda: anonymous, "/api/v1/events/kl-2018/agenda", {}, ("lang", "at")),
        (lambda: anonymous, f"/t/{f.delegate_token}/print", {}, ("size", "lang")),
        (lambda: anonymous, f"/t/{f.delegate_token}", {}, ("lang", "at")),
        (lambda: admin, "/staff/e/kl-2018/guests", {}, ("q", "status", "lang")),
        (lambda: admin, "/staff/e/kl-2018/tickets/print", {}, ("size", "part")),
        (lambda: admin, "/staff/e/kl-2018/changes", {}, ("lang",)),
    ]
    values = st.one_of(
        TEXT,
        st.sampled_from(
            [
                "de",
                "en",
                "fr",
                "a4",
                "a6",
                "badge",
                "-1",
                "0",
                "999999999999",
                "checked_in",
                "open",
                "cancelled",
                "2018-10-26T15:00:00+02:00",
            ]
        ),
    )

    @settings(PROFILE, max_examples=250)
    @given(
        target=st.sampled_from(targets),
        params=st.lists(
            st.tuples(st.sampled_from(["q", "at", "lang", "size", "status", "part", "x"]), values), max_size=4
        ),
    )
    def run(target, params):
        make, path, headers, _ = target
        before = f.watch.state()
        r = make().get(path, query_string=[(k, v.encode("utf-8", "surrogatepass")) for k, v in params], headers=headers)
        assert r.status_code < 500, f"GET {path} {params!r:.200}: {r.status_code}"
        if path.startswith("/api/") and r.status_code >= 400:
            assert is_error_json(r.get_json(silent=True))
        assert f.watch.state() == before, f"GET {path} changed the database"
        count_case("query strings")

    run()


def test_qr_payloads_and_typed_codes(f):
    """Whatever a camera or a hardware scanner reads, or a person types: an answer from the list, or 400."""
    seen = set()

    @settings(PROFILE, max_examples=400)
    @given(code=qr_payloads(f))
    def run(code):
        before = f.watch.state()
        r = send(f, "POST", f"/api/v1/events/{SLUG}/checkins", f.scanner, {"code": code, "nonce": str(uuid.uuid4())})
        status, body = check(f, r, before, f"scan {code!r:.100}")
        if status == 200:
            assert body["result"] in RESULTS
            if body["result"] in ("unknown", "wrong_event"):
                assert body["guest"] is None  # nothing about a ticket that is not this event's
            seen.add(body["result"])
        count_case("qr payloads")

    run()
    assert "unknown" in seen and seen & {"ok", "already", "cancelled"}, seen  # real tickets are recognised


def test_corpus_strings_in_every_field(f):
    """Each corpus string in each field of each endpoint (the deterministic half of the fuzzing)."""
    strings = corpus_strings()
    n = 0
    for method, path, headers, fields in endpoints(f):
        fields = sorted(fields)
        for i, value in enumerate(strings):
            field = fields[i % len(fields)]  # each string once per endpoint, the fields in turn
            body = {field: value}
            if field == "code":
                body["nonce"] = str(uuid.uuid4())
            before = f.watch.state()
            check(f, send(f, method, path, headers, body), before, f"{method} {path} {field}={value!r:.80}")
            n += 1
    count_case("corpus strings", n)


@pytest.mark.services
def test_unstorable_text_on_postgresql(pg_database, tmp_path):
    """PostgreSQL refuses NUL characters in text, even in a WHERE clause; lone surrogates are not UTF-8. Every
    field, path, query and form value that carries them must be a clean 400, not a 500."""
    f = build_fuzz_app(pg_database, tmp_path)
    bad = ["a\u0000b", "x\udfffy"]
    n = 0
    try:
        for method, path, headers, fields in endpoints(f):
            bodies = [{field: value} for field in sorted(fields) for value in bad]
            bodies += [
                {"interests": [{"topic": "park-app", "stage": "runs", "note": bad[0]}], "consent": True},
                {"scans": [{"code": bad[1], "nonce": "n"}]},
                {bad[0]: 1},
            ]
            for body in bodies:
                if "code" in body:
                    body["nonce"] = str(uuid.uuid4())
                before = f.watch.state()
                status, _ = check(
                    f, send(f, method, path, headers, body), before, f"PostgreSQL {method} {path} {body!r}"
                )
                assert status >= 400
                n += 1
        client = f.app.test_client()
        for path in [
            "/api/v1/events/kl%00/agenda",
            "/t/" + "a" * 30 + "%00",
            "/e/kl%00-2018/",
            "/api/v1/events/kl-2018/guests?q=a%00",
            "/staff/pair/" + "a" * 20 + "%00",
            "/api/v1/t/" + "a" * 40 + "%00/interests",
        ]:
            r = client.get(path, headers=f.scanner if "guests" in path else {})
            assert 400 <= r.status_code < 500, (path, r.status_code)
            n += 1
        for form in ({"name": "a\u0000", "password": "x"}, {"name": "x", "password": "\u0000"}):
            assert client.post("/staff/login", data=form).status_code < 500
            n += 1
        r = client.post(f"/e/{SLUG}/register", data={"name": "a\u0000b", "municipality": "Trier", "consent": "y"})
        assert r.status_code < 500
        n += 1
    finally:
        from webapp.core.extensions import db

        with f.app.app_context():
            db.session.remove()
            db.engine.dispose()
    count_case("postgresql unstorable text", n)


# ---- oversized bodies on a real server -------------------------------------------------------------------


def raw_request(port, head, body_part, timeout=5.0):
    """Send the request head and only the start of the body; return the status line of the answer (or
    None if none came within the timeout): an answer before the body is complete means refused early."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(head + body_part)
        s.settimeout(timeout)
        data = b""
        end = time.monotonic() + timeout
        while b"\r\n\r\n" not in data and time.monotonic() < end:
            try:
                chunk = s.recv(4096)
            except socket.timeout:
                break
            if not chunk:
                break
            data += chunk
        return data


@pytest.mark.timeout(60)
def test_a_9_mib_body_is_refused_early_with_413(servers):
    server = servers("oversized")
    size = 9 * 1024 * 1024
    head = (
        f"POST /api/v1/events/{SLUG}/checkins HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {server.token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {size}\r\nConnection: close\r\n\r\n"
    ).encode()
    t0 = time.monotonic()
    answer = raw_request(server.port, head, b'{"code": "' + b"x" * 1024)  # 1 KiB of the announced 9 MiB
    seconds = time.monotonic() - t0
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    r = requests.post(
        f"{server.base_url}/api/v1/events/{SLUG}/checkins",
        data=b"x" * size,
        timeout=30,
        headers={"Authorization": f"Bearer {server.token}", "Content-Type": "application/json"},
    )
    assert r.status_code == 413 and is_error_json(r.json())
    assert r.json()["error"]["code"] == "request_entity_too_large"
    assert requests.get(f"{server.base_url}/healthz", timeout=5).ok  # still serving
    ok = server.api("POST", f"/api/v1/events/{SLUG}/checkins", json={"code": "ABCDEFGH", "nonce": "after-413"})
    assert ok.status_code == 200
    figure("oversized body", f"9 MiB announced, 1 KiB sent: 413 after {seconds * 1000:.0f} ms; server still serving")
