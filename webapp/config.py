"""Settings from the environment (names in PRODUCT.md); TestConfig for the test suite."""
import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instance"


def _secret_key():
    """SECRET_KEY from the environment, else one generated once and kept in instance/ (so sessions
    survive a restart of `make run` without anyone having to invent a key)."""
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    INSTANCE.mkdir(exist_ok=True)
    path = INSTANCE / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


class Config:
    SECRET_KEY = _secret_key()
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or f"sqlite:///{INSTANCE / 'treffpunkt.sqlite3'}"
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SOCKETIO_MESSAGE_QUEUE = os.environ.get("SOCKETIO_MESSAGE_QUEUE") or None
    # The message queue's channel: deployments sharing one Redis need different channels.
    SOCKETIO_CHANNEL = os.environ.get("SOCKETIO_CHANNEL") or "treffpunkt"
    ASYNC_MODE = os.environ.get("ASYNC_MODE", "eventlet")
    # Socket.IO origins allowed besides our own (space separated); empty = same origin only.
    CORS_ALLOWED_ORIGINS = os.environ.get("CORS_ALLOWED_ORIGINS", "").split()
    COMPRESS_MIMETYPES = ["text/html", "text/css", "text/javascript", "application/javascript", "application/json",
                          "application/xml", "text/calendar", "image/svg+xml", "application/manifest+json"]
    COMPRESS_ALGORITHM = ["br", "gzip"]
    COMPRESS_MIN_SIZE = 1024
    MAX_CONTENT_LENGTH = 8 * 1024 * 1024  # schedule and guest-list uploads; larger bodies get 413
    SOCKETIO_MAX_BUFFER = 64 * 1024  # Socket.IO messages and long-polling POST bodies (webapp/live/transport.py)
    # Open Engine.IO sessions per client address (REMOTE_ADDR, the proxy's X-Forwarded-For with PROXY_FIX);
    # more are refused at the handshake. 0 = no cap (load tests from one address).
    LIVE_MAX_PER_ADDRESS = int(os.environ.get("LIVE_MAX_PER_ADDRESS", "256"))
    # run.py: one access-log line per request on stderr, ticket tokens and pairing codes redacted.
    ACCESS_LOG = os.environ.get("ACCESS_LOG", "0") == "1"
    # run.py under eventlet: seconds a client connection may stay silent (idle keep-alive, a half-sent
    # request); above the 20 s Socket.IO ping, so live websockets are never cut. 0 = wait for ever.
    SERVER_SOCKET_TIMEOUT = float(os.environ.get("SERVER_SOCKET_TIMEOUT", "60"))
    BABEL_DEFAULT_LOCALE = "de"
    BABEL_DEFAULT_TIMEZONE = "Europe/Berlin"
    LANGUAGES = ("de", "en")
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # Secure cookies need HTTPS; plain http is only for localhost development (`make run`).
    SESSION_COOKIE_SECURE = REMEMBER_COOKIE_SECURE = os.environ.get("SECURE_COOKIES", "0") == "1"
    PROXY_FIX = os.environ.get("PROXY_FIX", "0") == "1"  # behind one reverse proxy (docs/https.md)
    WTF_CSRF_TIME_LIMIT = None  # a staff laptop stays open all day; the token lives as long as the session
    # How many changes a reconnecting client may be sent one by one before it gets a snapshot instead.
    LIVE_MAX_REPLAY = 200
    # Broadcasts written straight to each websocket (webapp/live/fastsend.py); 0 = python-engineio's queue
    # and writer task for every message (for comparison in bench/).
    LIVE_FAST_SEND = os.environ.get("LIVE_FAST_SEND", "1") == "1"
    # How long connecting clients share one computation of the counters (one process, no queue): at most
    # this stale for changes made by the CLI; changes made through the server end it at once.
    LIVE_STATS_CACHE_SECONDS = 2.0
    # How long a built snapshot is shared at the same revision (webapp/live/revisions.snapshot).
    LIVE_SNAPSHOT_SECONDS = 5.0


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
