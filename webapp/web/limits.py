"""Security-wide behaviour (docs/security.md): rate limits, the Socket.IO origin check, the Server header.

Rate limits (Flask-Limiter, one limiter per app in `app.extensions["rate_limiter"]`) aim at anonymous
endpoints and failed attempts, by class of request rather than by view, so every blueprint is covered
without decorating its views:

| class | applies to | limit (config key) | counted per |
| --- | --- | --- | --- |
| login | POST /staff/login | 10/minute (RATELIMIT_LOGIN) | IP |
| login_account | POST /staff/login answered 401 | 5/minute, 30/hour (RATELIMIT_LOGIN_ACCOUNT) | IP and account name |
| ticket | /t/<token>… and /api/v1/t/<token>… | 300/minute (RATELIMIT_TICKET) | IP |
| ticket_miss | the same, answered 404 (unknown token) | 60/minute (RATELIMIT_TICKET_MISS) | IP |
| pairing | /staff/pair/<code> | 30/minute (RATELIMIT_PAIRING) | IP |
| lookup | GET /api/v1/events/<slug>/guests?q= | 60/minute (RATELIMIT_LOOKUP) | staff account (else IP) |
| register | POST /e/<slug>/register | 20/minute (RATELIMIT_REGISTER) | IP |
| auth_fail | /api/ requests without a valid credential, answered 401 | 20/minute (RATELIMIT_AUTH_FAIL) | IP |
| public | GET of public pages and public API reads (not by valid staff) | 300/minute (RATELIMIT_PUBLIC) | IP |

A "miss"/"fail" class only counts the failed answers but, once over, refuses every request of its class from
that client. Failed logins count per (IP, account name) pair: a guesser elsewhere cannot lock the real person
out, while the login class still caps every guessing address. The public class (300 per IP and minute, as for
the ticket pages: a whole delegation behind one NAT) keeps one address from flooding the pages while the door
scans; static files are not in it. A request carrying a valid staff credential (bearer token or session) is
never in auth_fail nor public, and the check-in writes of a valid staff member or device (…/checkins,
…/checkins/batch, …/undo) are exempt from every limit: a working scanner is never slowed down.

Storage: memory (per process) by default; the Redis of SOCKETIO_MESSAGE_QUEUE when that is a redis:// URL,
so that several server processes share their counts; RATELIMIT_STORAGE_URI (environment or config) overrides
both. If the storage
fails, requests go through (errors are logged, counting falls back to memory): a Redis outage must not stop
the door. RATELIMIT_ENABLED (environment, default 1) switches the limits off; under TESTING they are off
unless a test turns them on.
"""

import time

from flask import jsonify, render_template_string, request
from flask_babel import gettext as _
from flask_limiter import ApplicationLimit, Limiter, RateLimitExceeded
from flask_login import current_user

from ..core import dbhealth
from ..core.extensions import socketio
from ..staff.auth import bearer_staff

LIMIT_KEYS = (
    "RATELIMIT_LOGIN",
    "RATELIMIT_LOGIN_ACCOUNT",
    "RATELIMIT_TICKET",
    "RATELIMIT_TICKET_MISS",
    "RATELIMIT_PAIRING",
    "RATELIMIT_LOOKUP",
    "RATELIMIT_REGISTER",
    "RATELIMIT_AUTH_FAIL",
    "RATELIMIT_PUBLIC",
)
# The check-in writes of a valid staff member or paired device: never limited.
SCANNER_ENDPOINTS = ("checkin_api.check_in", "checkin_api.check_in_batch", "checkin_api.undo")
PUBLIC_API_READS = ("agenda_api.", "matchmaking_api.public_board", "checkin_api.stats")
# Anonymous pages (a name ending in "." is a whole blueprint). Not static files, not /t/ (its own classes).
PUBLIC_PAGES = (
    "agenda_pages.",
    "matchmaking_pages.public_board",
    "matchmaking_pages.board_screen",
    "checkin_pages.register",
    "web.index",
)
SERVER_HEADER = "Treffpunkt"
STAFF_KEY = "treffpunkt.valid_staff"

_RATE_LIMITED_PAGE = """{% extends "base.html" %}
{% block title %}{{ title }} · Treffpunkt{% endblock %}
{% block content %}<h1>{{ title }}</h1><p>{{ text }}</p><p class="muted">{{ hint }}</p>{% endblock %}"""


# ---- who is asking -----------------------------------------------------------------------------------


def client_ip():
    """The client's address (the proxy's X-Forwarded-For when PROXY_FIX is on: see create_app)."""
    return request.remote_addr or "unknown"


def valid_staff():
    """The staff member behind this request if it carries a valid credential (bearer token, or a staff
    session), else None. Computed once per request."""
    # Kept in the WSGI environ, which belongs to this request only (`g` may outlive a request: a test that
    # holds an app context shares it between requests).
    if STAFF_KEY not in request.environ:
        staff = None
        if "Authorization" in request.headers:
            staff = bearer_staff()
        elif current_user.is_authenticated:
            staff = current_user._get_current_object()
        request.environ[STAFF_KEY] = staff
    return request.environ[STAFF_KEY]


def address_account_key():
    """Failed logins: the client's address with the account name (case and spaces ignored)."""
    name = (
        request.form.get("name", "")
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data")
        else ""
    )
    return f"account:{client_ip()}:" + (" ".join(name.split()).casefold()[:80] or "-")


def staff_or_ip_key():
    staff = valid_staff()
    return f"staff:{staff.id}" if staff is not None else f"ip:{client_ip()}"


# ---- which class a request is in -----------------------------------------------------------------------


def _is_login():
    return request.endpoint == "staff.login" and request.method == "POST"


def _is_token():
    return request.path.startswith(("/t/", "/api/v1/t/"))


def _is_pairing():
    return request.endpoint == "checkin_scan.pair"


def _is_lookup():
    return request.endpoint == "checkin_api.list_guests" and request.method == "GET"


def _is_register():
    return request.endpoint == "checkin_pages.register" and request.method == "POST"


def _is_auth_fail_scope():
    if not request.path.startswith("/api/") or _is_token():
        return False
    endpoint = request.endpoint or ""
    if (
        request.method in ("GET", "HEAD")
        and endpoint.startswith(PUBLIC_API_READS)
        and "Authorization" not in request.headers
    ):
        return False
    return valid_staff() is None


def _endpoint_in(names):
    endpoint = request.endpoint or ""
    return any(endpoint.startswith(name) if name.endswith(".") else endpoint == name for name in names)


def _is_public():
    # Staff (a valid token or session) are never held up by visitors sharing their address.
    return request.method in ("GET", "HEAD") and _endpoint_in(PUBLIC_PAGES + PUBLIC_API_READS) and valid_staff() is None


def is_working_scanner():
    """A check-in write of a valid staff member or device: exempt from every limit."""
    return request.endpoint in SCANNER_ENDPOINTS and valid_staff() is not None


def _status(*codes):
    return lambda response: response.status_code in codes


CLASSES = (
    # name, config key, applies, key function, deduct only when (None: every request counts)
    ("login", "RATELIMIT_LOGIN", _is_login, client_ip, None),
    ("login_account", "RATELIMIT_LOGIN_ACCOUNT", _is_login, address_account_key, _status(401)),
    ("ticket", "RATELIMIT_TICKET", _is_token, client_ip, None),
    ("ticket_miss", "RATELIMIT_TICKET_MISS", _is_token, client_ip, _status(404)),
    ("pairing", "RATELIMIT_PAIRING", _is_pairing, client_ip, None),
    ("lookup", "RATELIMIT_LOOKUP", _is_lookup, staff_or_ip_key, None),
    ("register", "RATELIMIT_REGISTER", _is_register, client_ip, None),
    ("auth_fail", "RATELIMIT_AUTH_FAIL", _is_auth_fail_scope, client_ip, _status(401)),
    ("public", "RATELIMIT_PUBLIC", _is_public, client_ip, None),
)


def storage_uri(config):
    """Where the counts live: RATELIMIT_STORAGE_URI, else the Redis message queue, else this process."""
    explicit = config.get("RATELIMIT_STORAGE_URI")
    if explicit:
        return explicit
    queue = config.get("SOCKETIO_MESSAGE_QUEUE") or ""
    if queue.startswith(("redis://", "rediss://")):
        return queue
    return "memory://"


def _limit_provider(app, key):
    return lambda: app.config[key]


def _make_limiter(app):
    limits = [
        ApplicationLimit(
            _limit_provider(app, key),
            key_function=key_function,
            scope=name,
            exempt_when=(lambda applies=applies: not applies()),
            deduct_when=deduct_when,
        )
        for name, key, applies, key_function, deduct_when in CLASSES
    ]
    limiter = Limiter(
        client_ip,
        application_limits=limits,
        storage_uri=storage_uri(app.config),
        strategy=app.config.get("RATELIMIT_STRATEGY", "moving-window"),
        swallow_errors=True,
        in_memory_fallback_enabled=True,
        key_prefix=app.config.get("RATELIMIT_KEY_PREFIX") or app.config["SOCKETIO_CHANNEL"],
    )
    limiter.request_filter(is_working_scanner)
    return limiter


# ---- answers --------------------------------------------------------------------------------------------


def retry_after(app):
    limiter = app.extensions.get("rate_limiter")
    try:
        current = limiter.current_limit if limiter is not None else None
        if current is not None:
            return max(1, int(current.reset_at - time.time()))
    except Exception:  # storage trouble: a plain minute
        pass
    return 60


def rate_limited_response(app):
    seconds = retry_after(app)
    if request.path.startswith("/api/"):
        response = jsonify(
            {"error": {"code": "rate_limited", "message": f"too many requests; try again in {seconds} s"}}
        )
    else:
        response = app.make_response(
            render_template_string(
                _RATE_LIMITED_PAGE,
                title=_("Zu viele Anfragen"),
                text=_(
                    "Von Ihrem Gerät kamen in kurzer Zeit zu viele Anfragen. Bitte warten Sie %(n)d Sekunden "
                    "und versuchen Sie es dann noch einmal.",
                    n=seconds,
                ),
                hint=_("Das schützt Tickets und Konten vor automatischem Durchprobieren."),
            )
        )
    response.status_code = 429
    response.headers["Retry-After"] = str(seconds)
    response.headers["Cache-Control"] = "no-store"
    return response


# ---- Socket.IO origins ----------------------------------------------------------------------------------


def socket_origin_check(app):
    """Engine.IO's origin check (cors_allowed_origins as a callable): the page's own origin, plus the
    origins in CORS_ALLOWED_ORIGINS. A browser page of another site cannot open our socket (cross-site
    WebSocket hijacking); clients that send no Origin (scripts, not browsers) are not asked."""

    def allowed(origin, environ=None):
        extra = app.config.get("CORS_ALLOWED_ORIGINS") or []
        if origin in extra or "*" in extra:
            return True
        environ = environ or {}
        host = environ.get("HTTP_HOST", "")
        scheme = environ.get("wsgi.url_scheme", "http")
        own = {f"{scheme}://{host}"}
        if app.config.get("PROXY_FIX"):
            # Behind our one proxy (ProxyFix x_proto=1, x_host=1): the values it appended last.
            proto = environ.get("HTTP_X_FORWARDED_PROTO", scheme).split(",")[-1].strip()
            fwd_host = environ.get("HTTP_X_FORWARDED_HOST", host).split(",")[-1].strip()
            own.add(f"{proto}://{fwd_host}")
        return bool(host) and origin in own

    return allowed


# ---- wiring -----------------------------------------------------------------------------------------


def install(app):
    """The limits of the classes above (their numbers: RATELIMIT_* in webapp/core/config.py)."""

    @app.before_request
    def ask_who_first():
        """Registered before the limiter's own hook. The limiter asks who is asking (valid_staff) inside its
        own try/except: a lookup that fails there (the database is away) is taken for a rate-limit storage
        outage – the counts fall back to this process's memory and a traceback is logged per request. Asked
        here first, a failed lookup is the 503 at once (webapp/core/dbhealth.py); the answer is kept for the
        request. Bearer requests always (their lookup has no side effects); session requests while an outage
        is known."""
        if request.path.startswith("/api/") and ("Authorization" in request.headers or dbhealth.outage_known()):
            valid_staff()

    limiter = _make_limiter(app)
    limiter.init_app(app)
    app.extensions["rate_limiter"] = limiter

    @app.errorhandler(RateLimitExceeded)
    def too_many_requests(exc):
        return rate_limited_response(app)

    @app.after_request
    def server_header(response):
        # No server or Python version in answers (Werkzeug's development server would name both).
        response.headers["Server"] = SERVER_HEADER
        return response

    if socketio.server is not None:
        socketio.server.eio.cors_allowed_origins = socket_origin_check(app)
