"""Every setting from the environment, in one place (names in PRODUCT.md and the README); TestConfig for the
test suite. Reading the environment is all that happens at import: the generated secret key is made by
`instance_secret_key()` when an app is created without one."""

import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
INSTANCE = ROOT / "instance"
VERSION = "0.2.0"  # the one source: pyproject.toml reads it from here, the exports name it as generator


def _env(name, default=None):
    return os.environ.get(name) or default


def _flag(name, default="0"):
    return os.environ.get(name, default) == "1"


def instance_secret_key():
    """No SECRET_KEY in the environment: one generated once and kept in instance/ (so sessions survive a
    restart of `make run` without anyone having to invent a key)."""
    INSTANCE.mkdir(exist_ok=True)
    path = INSTANCE / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


class Config:
    SECRET_KEY = _env("SECRET_KEY")  # None: create_app takes instance_secret_key()
    # Where run.py listens and whether it serves HTTPS itself (make cert; docs/https.md).
    HOST = _env("HOST", "127.0.0.1")
    PORT = int(_env("PORT", "5000"))
    CERT_FILE = _env("CERT_FILE")
    KEY_FILE = _env("KEY_FILE")
    # The base of every absolute link and QR code (webapp/core/urls.py); unset: the address of the request.
    PUBLIC_URL = _env("PUBLIC_URL", "")
    # DEMO=0: `make run` loads no demo event into an empty database (the first admin then creates one).
    DEMO = _flag("DEMO", "1")
    SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL", f"sqlite:///{INSTANCE / 'treffpunkt.sqlite3'}")
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SOCKETIO_MESSAGE_QUEUE = _env("SOCKETIO_MESSAGE_QUEUE")
    # The message queue's channel: deployments sharing one Redis need different channels.
    SOCKETIO_CHANNEL = _env("SOCKETIO_CHANNEL", "treffpunkt")
    ASYNC_MODE = _env("ASYNC_MODE", "eventlet")
    # Socket.IO origins allowed besides our own (space separated); empty = same origin only.
    CORS_ALLOWED_ORIGINS = os.environ.get("CORS_ALLOWED_ORIGINS", "").split()
    COMPRESS_MIMETYPES = [
        "text/html",
        "text/css",
        "text/javascript",
        "application/javascript",
        "application/json",
        "application/xml",
        "text/calendar",
        "image/svg+xml",
        "application/manifest+json",
    ]
    COMPRESS_ALGORITHM = ["br", "gzip"]
    COMPRESS_MIN_SIZE = 1024
    MAX_CONTENT_LENGTH = 8 * 1024 * 1024  # schedule and guest-list uploads; larger bodies get 413
    SOCKETIO_MAX_BUFFER = 64 * 1024  # Socket.IO messages and long-polling POST bodies (webapp/live/transport.py)
    # Open Engine.IO sessions per client address (REMOTE_ADDR, the proxy's X-Forwarded-For with PROXY_FIX);
    # more are refused at the handshake. 0 = no cap (load tests from one address).
    LIVE_MAX_PER_ADDRESS = int(os.environ.get("LIVE_MAX_PER_ADDRESS", "256"))
    # run.py: one access-log line per request on stderr, ticket tokens and pairing codes redacted.
    ACCESS_LOG = _flag("ACCESS_LOG")
    # run.py under eventlet: seconds a client connection may stay silent (idle keep-alive, a half-sent
    # request); above the 20 s Socket.IO ping, so live websockets are never cut. 0 = wait for ever.
    SERVER_SOCKET_TIMEOUT = float(os.environ.get("SERVER_SOCKET_TIMEOUT", "60"))
    # A serving process runs the garbage collector's full collections every this many seconds instead of
    # whenever its heap has grown by a quarter (webapp.collect_by_the_clock); 0 = Python's own rule.
    FULL_COLLECTION_SECONDS = float(_env("FULL_COLLECTION_SECONDS", "30"))
    BABEL_DEFAULT_LOCALE = "de"
    BABEL_DEFAULT_TIMEZONE = "Europe/Berlin"
    LANGUAGES = ("de", "en")
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # Secure cookies need HTTPS; plain http is only for localhost development (`make run`).
    # Serving HTTPS itself (CERT_FILE), run.py makes them Secure unless SECURE_COOKIES says otherwise.
    SESSION_COOKIE_SECURE = REMEMBER_COOKIE_SECURE = _flag("SECURE_COOKIES", "1" if CERT_FILE else "0")
    PROXY_FIX = _flag("PROXY_FIX")  # behind one reverse proxy (docs/https.md)
    WTF_CSRF_TIME_LIMIT = None  # a staff laptop stays open all day; the token lives as long as the session
    # How many changes a reconnecting client may be sent one by one before it gets a snapshot instead.
    LIVE_MAX_REPLAY = 200
    # Broadcasts written straight to each websocket (webapp/live/fastsend.py); 0 = python-engineio's queue
    # and writer task for every message (for comparison in bench/).
    LIVE_FAST_SEND = _flag("LIVE_FAST_SEND", "1")
    # How long connecting clients share one computation of the counters (one process, no queue): at most
    # this stale for changes made by the CLI; changes made through the server end it at once.
    LIVE_STATS_CACHE_SECONDS = 2.0
    # True in a serving process (run.py, wsgi.py under a WSGI server): no `flask db` commands there.
    SERVING = False
    # How long a built snapshot is shared at the same revision (webapp/live/revisions.snapshot).
    LIVE_SNAPSHOT_SECONDS = 5.0
    # Rate limits (webapp/web/limits.py): on unless RATELIMIT_ENABLED=0; each class's limit may be set,
    # e.g. RATELIMIT_PUBLIC="900 per minute" where all phones of a venue share one address.
    RATELIMIT_ENABLED = _flag("RATELIMIT_ENABLED", "1")
    RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI")
    RATELIMIT_LOGIN = _env("RATELIMIT_LOGIN", "10 per minute")
    RATELIMIT_LOGIN_ACCOUNT = _env("RATELIMIT_LOGIN_ACCOUNT", "5 per minute;30 per hour")
    RATELIMIT_TICKET = _env("RATELIMIT_TICKET", "300 per minute")
    RATELIMIT_TICKET_MISS = _env("RATELIMIT_TICKET_MISS", "60 per minute")
    RATELIMIT_PAIRING = _env("RATELIMIT_PAIRING", "30 per minute")
    RATELIMIT_LOOKUP = _env("RATELIMIT_LOOKUP", "60 per minute")
    RATELIMIT_REGISTER = _env("RATELIMIT_REGISTER", "20 per minute")
    RATELIMIT_AUTH_FAIL = _env("RATELIMIT_AUTH_FAIL", "20 per minute")
    RATELIMIT_PUBLIC = _env("RATELIMIT_PUBLIC", "300 per minute")
    # E-mail through the organisation's own SMTP server (webapp/mail, docs/mail.md); no SMTP_HOST = no mail.
    SMTP_HOST = _env("SMTP_HOST", "")
    SMTP_PORT = int(_env("SMTP_PORT", "0"))  # 0: 587 for starttls, 465 for tls, 25 for none
    SMTP_USER = _env("SMTP_USER", "")
    SMTP_PASSWORD = _env("SMTP_PASSWORD", "")
    SMTP_SECURITY = _env("SMTP_SECURITY", "starttls")  # starttls | tls | none
    SMTP_TIMEOUT = float(_env("SMTP_TIMEOUT", "30"))
    MAIL_FROM = _env("MAIL_FROM", "")  # "Stadt Kaiserslautern <treffpunkt@kaiserslautern.de>"
    # Seconds before the first retry after a failed send (doubling up to 10 minutes).
    MAIL_RETRY_SECONDS = float(_env("MAIL_RETRY_SECONDS", "30"))
    # PostgreSQL: fail fast when the database is away (webapp/core/dbhealth.py) instead of waiting 30 s.
    DB_CONNECT_TIMEOUT = int(_env("DB_CONNECT_TIMEOUT", "3"))
    DB_POOL_TIMEOUT = int(_env("DB_POOL_TIMEOUT", "5"))


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    SQLALCHEMY_ENGINE_OPTIONS = {}
    ASYNC_MODE = "threading"
    SOCKETIO_MESSAGE_QUEUE = None
    LIVE_STATS_CACHE_SECONDS = 0  # tests change counters behind the server's back; test_connect_stats turns it on
    LIVE_SNAPSHOT_SECONDS = 0  # likewise for the snapshot; tests/live/test_protocol_order.py turns it on
    WTF_CSRF_ENABLED = False
    RATELIMIT_ENABLED = False  # the limit tests switch it on for themselves
