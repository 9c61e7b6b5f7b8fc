"""Transport defences around Engine.IO and the web server (docs/security.md, docs/live.md).

1. `PollingBodyGuard`, a WSGI middleware in front of the Socket.IO middleware: a POST to the Socket.IO path
   whose Content-Length is missing, not a number, chunked or above SOCKETIO_MAX_BUFFER gets 413 at once,
   without reading the body, and the server closes that connection after the answer instead of keeping it
   alive (which would make eventlet and gevent read and discard the announced body first: a client that
   sends the headers and then nothing would hold the connection for as long as it likes). The long-polling
   session it names ends, as python-engineio ends it for an oversized message.
   python-engineio itself would raise ContentTooLongError, disconnect the session and, in `close(wait=True)`,
   wait for a polling GET that never comes: the request was never answered and its connection never freed.
2. `bound_disconnect`: the same wait is reachable with a small POST too (an unknown packet type raises
   another EngineIOError). Engine.IO's `disconnect(sid)` here closes without waiting and gives a pending
   GET at most CLOSE_WAIT_SECONDS to collect the CLOSE packet, then drops the session (a GET still pending
   gets the CLOSE all the same).
3. `SessionCap`: at most LIVE_MAX_PER_ADDRESS open Engine.IO sessions per client address (REMOTE_ADDR, or
   the proxy's X-Forwarded-For with PROXY_FIX), refused at the Engine.IO handshake (401), for polling and
   websocket, under eventlet, gevent and threading. 0 = no cap.
4. `ResyncingRedisManager`: python-socketio's RedisManager, but it reconnects every 0.5 s (1 s after the
   first 30 s of an outage) instead of backing off to a minute, fails fast while Redis is known to be down,
   and after an outage makes clients see what they missed: once the listener is subscribed again it sends
   every event's current revision as a `heartbeat` to this process's clients; after a failed publish, once
   Redis answers again, it sends one through the queue (every process's clients). A client behind the
   revision asks `sync` (docs/live.md).
5. `AccessLog` (run.py with ACCESS_LOG=1, instead of the server's own log): one line per request as
   eventlet would write it, with ticket tokens (`/t/<token>…`, `/api/v1/t/<token>…`), pairing codes
   (`/staff/pair/<code>`), the query strings of those paths (and any query naming such a page) and Engine.IO
   session ids replaced by `[redacted]`."""

import logging
import re
import socket as _socket
import sys
import threading
import time
from collections import defaultdict
from urllib.parse import parse_qs, unquote_plus, urlparse

import socketio
from socketio.redis_manager import parse_redis_sentinel_url

from .broadcast import send_heartbeat
from .rooms import IndexedManager, RoomIndex, indexed

logger = logging.getLogger(__name__)

CLOSE_WAIT_SECONDS = 0.2  # how long a server-side disconnect waits for a pending poll to take the CLOSE
RETRY_SECONDS = 0.5  # Redis reconnect interval during the first RETRY_FAST_FOR seconds of an outage ...
RETRY_SLOW_SECONDS = 1.0  # ... and after that
RETRY_FAST_FOR = 30.0
REDIS_CONNECT_TIMEOUT = 2.0
REDIS_PUBLISH_TIMEOUT = 5.0
STILL_DOWN_LOG_SECONDS = 60.0  # an outage is logged when it starts, ends, and once a minute in between
REDACTED = "[redacted]"
_DIGITS = re.compile(r"[0-9]{1,20}")


# ---- who is asking --------------------------------------------------------------------------------------


def client_address(environ, proxy_fix=False):
    """The client's address as the app sees it: REMOTE_ADDR, or behind our one proxy (PROXY_FIX, ProxyFix
    with x_for=1) the last X-Forwarded-For entry, the one that proxy appended."""
    if proxy_fix:
        forwarded = environ.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
        if forwarded:
            return forwarded
    return environ.get("REMOTE_ADDR") or "-"


# ---- 1. long-polling POST bodies ----------------------------------------------------------------------


class _NoContinue:
    """Stands in for eventlet's 100-continue writer: see _close_after_answer."""

    def write(self, data):
        pass

    def writelines(self, lines):
        pass

    def flush(self):
        pass


def _close_after_answer(environ, headers):
    """Make the server close the connection after this answer, without reading the request body.

    - eventlet.wsgi keeps an HTTP/1.1 connection alive whatever the answer says and reads the unread body to
      its end first. It does close, without reading, when the client asked for `100 Continue` and got a final
      answer instead; the request input is put into that state (and eventlet adds `Connection: close`).
    - gevent.pywsgi reads the unread body to its end even when it closes; the input is told there is none,
      and `Connection: close` makes it close.
    - Werkzeug's server closes every connection and adds the header itself; any other server gets the
      header."""
    eventlet_input = environ.get("eventlet.input")
    if eventlet_input is not None and hasattr(eventlet_input, "is_hundred_continue_response_sent"):
        if getattr(eventlet_input, "wfile", None) is None:
            eventlet_input.wfile = _NoContinue()
        eventlet_input.is_hundred_continue_response_sent = False
        return headers
    wsgi_input = environ.get("wsgi.input")
    if type(wsgi_input).__module__.startswith("gevent") and hasattr(wsgi_input, "chunked_input"):
        wsgi_input.chunked_input = False
        wsgi_input.content_length = wsgi_input.position
    elif "werkzeug.socket" in environ:
        return headers
    return headers + [("Connection", "close")]


class PollingBodyGuard:
    """413 at once for a POST to the Socket.IO path without a usable Content-Length (see the module text).
    The session it names, if any, ends as python-engineio ends it for an oversized message (`end_session`:
    the bounded disconnect), so a pending GET gets the CLOSE packet."""

    def __init__(self, app, limit, path="/socket.io/", end_session=None):
        self.app, self.limit, self.path, self.end_session = app, limit, path, end_session
        self.refused = 0  # for tests and curiosity

    def acceptable(self, environ):
        if environ.get("HTTP_TRANSFER_ENCODING"):
            return False
        length = (environ.get("CONTENT_LENGTH") or "").strip()
        return _DIGITS.fullmatch(length) is not None and int(length) <= self.limit

    def __call__(self, environ, start_response):
        if (
            environ.get("REQUEST_METHOD") == "POST"
            and (environ.get("PATH_INFO") or "").startswith(self.path)
            and not self.acceptable(environ)
        ):
            self.refused += 1
            sid = parse_qs(environ.get("QUERY_STRING") or "").get("sid", [None])[0]
            if sid and self.end_session is not None:
                self.end_session(sid)
            body = b"Payload Too Large: a long-polling POST needs a Content-Length of at most %d bytes\n" % self.limit
            headers = [
                ("Content-Type", "text/plain; charset=utf-8"),
                ("Content-Length", str(len(body))),
                ("Cache-Control", "no-store"),
            ]
            start_response("413 Payload Too Large", _close_after_answer(environ, headers))
            return [body]
        return self.app(environ, start_response)


# ---- 2. Engine.IO disconnect without an unbounded wait -------------------------------------------------


def bound_disconnect(eio, wait=CLOSE_WAIT_SECONDS):
    """Replace `eio.disconnect` (python-engineio's Server.disconnect, which closes with wait=True, i.e.
    queue.join(): forever if the session is long-polling and its client sends no more GETs)."""

    def close(sid, sock, seconds):
        sock.close(wait=False, reason=eio.reason.SERVER_DISCONNECT)
        end = time.monotonic() + seconds
        while getattr(sock.queue, "unfinished_tasks", 0) and time.monotonic() < end:
            eio.sleep(0.02)  # a pending GET (or the websocket writer) takes the CLOSE packet within ms
        if eio.sockets.get(sid) is sock:
            del eio.sockets[sid]  # a GET still pending keeps the socket object and gets the CLOSE anyway

    def disconnect(sid=None, wait=wait):
        if sid is not None:
            sock = eio.sockets.get(sid)
            if sock is not None:
                close(sid, sock, wait)
            return
        for each, sock in list(eio.sockets.items()):
            close(each, sock, wait)

    eio.disconnect = disconnect
    return disconnect


# ---- 3. sessions per address -----------------------------------------------------------------------------


class SessionCap:
    """At most `limit` open Engine.IO sessions per client address. Wraps the Engine.IO server's `connect`
    and `disconnect` handlers (python-socketio's): a refused handshake (the handler returns False) gets 401
    and no session; every accepted session is counted until its `disconnect` event."""

    def __init__(self, eio, limit, proxy_fix=False):
        self.eio, self.limit, self.proxy_fix = eio, limit, proxy_fix
        self.lock = threading.Lock()
        self.sessions = defaultdict(set)  # address -> Engine.IO sids
        self.address_of = {}  # sid -> address
        self.refused = 0
        self._logged = {}  # address -> monotonic time of the last warning
        self._connect = eio.handlers.get("connect")
        self._disconnect = eio.handlers.get("disconnect")
        eio.on("connect", self.on_connect)
        eio.on("disconnect", self.on_disconnect)

    def count(self, address):
        with self.lock:
            return len(self.sessions.get(address, ()))

    def _prune(self, address):
        """Forget sessions the Engine.IO server no longer has (a safety net: each should have ended with its
        disconnect event)."""
        live = self.eio.sockets
        for sid in [s for s in self.sessions[address] if s not in live]:
            self.sessions[address].discard(sid)
            self.address_of.pop(sid, None)

    def _release(self, sid):
        with self.lock:
            address = self.address_of.pop(sid, None)
            if address is not None:
                held = self.sessions.get(address)
                if held is not None:
                    held.discard(sid)
                    if not held:
                        del self.sessions[address]

    def on_connect(self, sid, environ):
        address = client_address(environ, self.proxy_fix)
        with self.lock:
            if self.limit > 0 and len(self.sessions.get(address, ())) >= self.limit:
                self._prune(address)
                if len(self.sessions[address]) >= self.limit:
                    self.refused += 1
                    now = time.monotonic()
                    if now - self._logged.get(address, -1e9) > 60:
                        if len(self._logged) > 1000:
                            self._logged = {a: t for a, t in self._logged.items() if now - t <= 60}
                        self._logged[address] = now
                        logger.warning(
                            "refusing Socket.IO connections from %s: %d open (LIVE_MAX_PER_ADDRESS)",
                            address,
                            self.limit,
                        )
                    return False
            self.sessions[address].add(sid)
            self.address_of[sid] = address
        try:
            answer = self._connect(sid, environ) if self._connect else None
        except Exception:
            self._release(sid)
            raise
        if answer is not None and answer is not True:
            self._release(sid)
        return answer

    def on_disconnect(self, sid, reason=None):
        self._release(sid)
        if self._disconnect is not None:
            return self._disconnect(sid, reason)


# ---- 4. Redis: quick reconnect and resync --------------------------------------------------------------


def _keepalive_options():
    """TCP keepalive that notices a dead Redis in ~10 s instead of the kernel's two hours."""
    options = {}
    for name, value in (("TCP_KEEPIDLE", 5), ("TCP_KEEPINTVL", 2), ("TCP_KEEPCNT", 3)):
        if hasattr(_socket, name):
            options[getattr(_socket, name)] = value
    return options


class ResyncingRedisManager(RoomIndex, socketio.RedisManager):
    """RedisManager with a bounded reconnect interval and a resync after an outage (see the module text).
    `on_resync(local)` is called in a background task: local=True after the listener subscribed again (this
    process may have missed messages of others), local=False after this process could not publish."""

    name = "redis"

    def __init__(self, url, channel="socketio", write_only=False, logger=None, json=None, redis_options=None):
        super().__init__(
            url, channel=channel, write_only=write_only, logger=logger, json=json, redis_options=redis_options
        )
        self.on_resync = None
        self.listening = False  # the listener is subscribed
        self.resyncs = 0  # resyncs started (for tests and the log)
        self._publisher = None
        self._publish_down = False
        self._mending = False
        self._lock = threading.Lock()

    # connections

    def _new_client(self, listener):
        from redis.backoff import NoBackoff  # redis is installed, but needed only with a Redis message queue
        from redis.retry import Retry

        module = self._get_redis_module()
        options = {
            "socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
            "socket_keepalive": True,
            "socket_keepalive_options": _keepalive_options(),
            # No retries inside redis-py: its own reconnects (up to 10, with back-off) would block a
            # publishing request and resubscribe the listener unseen; this class retries and knows.
            "retry": Retry(NoBackoff(), 0),
        }
        if not listener:
            options["socket_timeout"] = REDIS_PUBLISH_TIMEOUT
        options.update(self.redis_options)
        if urlparse(self.redis_url).scheme in ("redis+sentinel", "valkey+sentinel"):
            sentinels, service_name, connection_kwargs = parse_redis_sentinel_url(self.redis_url)
            options.update(connection_kwargs)
            return module.sentinel.Sentinel(sentinels, **options).master_for(service_name or self.channel)
        return module.Redis.from_url(self.redis_url, **options)

    @staticmethod
    def _close(*things):
        for thing in things:
            try:
                if thing is not None:
                    thing.close()
            except Exception:  # closing a dead connection
                pass

    def _delay(self, since):
        return RETRY_SECONDS if time.monotonic() - since < RETRY_FAST_FOR else RETRY_SLOW_SECONDS

    def _resync(self, local):
        self.resyncs += 1
        if self.on_resync is not None:
            self.server.start_background_task(self._run_resync, local)

    def _run_resync(self, local):
        try:
            self.on_resync(local)
        except Exception:
            self._get_logger().exception("resync after a message queue outage failed")

    # publishing

    def _publish(self, data):
        if self._publish_down:  # known to be down: do not make the request wait; the mender resyncs
            self._missed_publish()
            return None
        error = None
        for _ in range(2):
            try:
                if self._publisher is None:
                    self._publisher = self._new_client(listener=False)
                return self._publisher.publish(self.channel, self.json.dumps(data))
            except Exception as exc:  # noqa: BLE001  (any failure: drop the connection and try once more)
                error = exc
                self._close(self._publisher)
                self._publisher = None
        self._get_logger().error("Cannot publish to redis, resync when it is back (%s)", error)
        self._publish_down = True
        self._missed_publish()
        return None

    def _missed_publish(self):
        with self._lock:
            if self._mending:
                return
            self._mending = True
        self.server.start_background_task(self._mend)

    def _mend(self):
        """After a failed publish: ask Redis every RETRY_SECONDS until it answers, then resync."""
        since = time.monotonic()
        try:
            while True:
                self.server.sleep(self._delay(since))
                client = None
                try:
                    client = self._new_client(listener=False)
                    client.ping()
                except Exception:
                    self._close(client)
                    continue
                self._close(self._publisher)
                self._publisher = client
                self._publish_down = False  # before the resync reads the revisions: nothing falls between
                logger.warning("redis answers again after %.1f s; resyncing clients", time.monotonic() - since)
                self._resync(local=False)
                return
        finally:
            with self._lock:
                self._mending = False

    # listening

    def _listen(self):
        """Messages of the channel, for ever: subscribe, yield, and on any failure retry every RETRY_SECONDS.
        The subscribe confirmation after a failure starts a local resync (it comes once Redis has
        registered the subscription, so whatever is published after it reaches us and whatever was
        committed before it is in the revisions the resync reads)."""
        channel = self.channel.encode("utf-8")
        missed = False  # a failure since the last subscription
        down_since = None
        last_log = 0.0
        while True:
            client = pubsub = None
            try:
                client = self._new_client(listener=True)
                pubsub = client.pubsub(ignore_subscribe_messages=False)
                pubsub.subscribe(self.channel)
                for message in pubsub.listen():
                    kind = message.get("type")
                    if kind == "subscribe":
                        self.listening = True
                        if down_since is not None:
                            logger.warning(
                                "redis listener subscribed again after %.1f s; resyncing clients",
                                time.monotonic() - down_since,
                            )
                            down_since = None
                        if missed:
                            missed = False
                            self._resync(local=True)
                    elif kind == "message" and message.get("channel") == channel and "data" in message:
                        yield message["data"]
                missed = True  # listen() ended without an error: not subscribed any more
            except Exception as exc:  # noqa: BLE001  (connection refused, reset, timeout, bad answer)
                self.listening = False
                missed = True
                now = time.monotonic()
                if down_since is None:
                    down_since = last_log = now
                    self._get_logger().error(
                        "Cannot receive from redis (%s); retrying every %.1f s", exc, RETRY_SECONDS
                    )
                elif now - last_log > STILL_DOWN_LOG_SECONDS:
                    last_log = now
                    self._get_logger().error("redis still unreachable after %.0f s (%s)", now - down_since, exc)
            finally:
                self._close(pubsub, client)
            self.server.sleep(self._delay(down_since if down_since is not None else time.monotonic()))


def client_manager(config):
    """The client manager for socketio.init_app: ours for a redis:// queue, Flask-SocketIO's choice for
    other queues, python-socketio's in-process manager without one; each with the room index (rooms.py).
    Always passed explicitly, so an app created after another in the same process does not inherit that
    one's manager."""
    url = config.get("SOCKETIO_MESSAGE_QUEUE")
    channel = config.get("SOCKETIO_CHANNEL") or "treffpunkt"
    if not url:
        return IndexedManager()
    if url.startswith(("redis://", "rediss://", "redis+sentinel://", "unix://")):
        return ResyncingRedisManager(url, channel=channel)
    if url.startswith("kafka://"):
        return indexed(socketio.KafkaManager)(url, channel=channel)
    if url.startswith("zmq"):
        return indexed(socketio.ZmqManager)(url, channel=channel)
    return indexed(socketio.KombuManager)(url, channel=channel)


# ---- 5. the access log -----------------------------------------------------------------------------------

_SECRET_PATH = re.compile(r"^(/(?:api/v1/)?t/|/staff/pair/)([^/]+)(.*)$")
_SECRET_IN_QUERY = re.compile(r"/(?:t|staff/pair)/")  # e.g. a `next=` that names a ticket or pairing page
_SID = re.compile(r"(^|&)(sid=)[^&]*")


def _printable(text):
    """A WSGI string (latin-1 code points) as it can go into a log line: controls, quotes, spaces and
    non-ASCII percent-encoded (no forged lines, no broken fields)."""
    return "".join(c if 0x20 < ord(c) < 0x7F and c != '"' else "%%%02X" % (ord(c) & 0xFF) for c in text)


def redacted_target(environ):
    """The request target for the log: path and query, with secrets replaced by [redacted]."""
    path = environ.get("PATH_INFO") or ""
    query = environ.get("QUERY_STRING") or ""
    collapsed = re.sub(r"/{2,}", "/", path)  # Werkzeug merges slashes: //t/<token> reaches the same page
    match = _SECRET_PATH.match(collapsed)
    if match:
        path = match.group(1) + REDACTED + match.group(3)
        query = REDACTED if query else ""
    elif _SECRET_IN_QUERY.search(unquote_plus(query)):
        query = REDACTED
    elif collapsed.startswith("/socket.io/") and query:
        query = _SID.sub(lambda m: m.group(1) + m.group(2) + REDACTED, query)
    path = (environ.get("SCRIPT_NAME") or "") + path
    return _printable(path) + ("?" + _printable(query) if query else "")


class AccessLog:
    """One line per request, in eventlet's format, with `redacted_target` (see the module text)."""

    def __init__(self, app, stream=None, proxy_fix=False):
        self.app, self.stream, self.proxy_fix = app, stream, proxy_fix

    def write(self, environ, status, length, started):
        line = '%s - - [%s] "%s %s %s" %s %s %.6f\n' % (
            client_address(environ, self.proxy_fix),
            time.strftime("%d/%b/%Y %H:%M:%S"),
            _printable(environ.get("REQUEST_METHOD", "-")),
            redacted_target(environ),
            _printable(environ.get("SERVER_PROTOCOL", "-")),
            status[0],
            length[0],
            time.monotonic() - started,
        )
        stream = self.stream or sys.stderr
        try:
            stream.write(line)
            stream.flush()
        except (OSError, ValueError):  # a closed log must not fail requests
            pass

    def __call__(self, environ, start_response):
        started = time.monotonic()
        status = ["101" if environ.get("HTTP_UPGRADE", "").lower() == "websocket" else "-"]
        length = [0]

        def logged_start_response(status_line, headers, exc_info=None):
            status[0] = status_line.split(" ", 1)[0]
            write = (
                start_response(status_line, headers, exc_info)
                if exc_info is not None
                else start_response(status_line, headers)
            )

            def counted_write(data):
                length[0] += len(data)
                return write(data)

            return counted_write

        try:
            result = self.app(environ, logged_start_response)
        except BaseException:
            status[0] = "500"
            self.write(environ, status, length, started)
            raise
        if isinstance(result, list):  # keep it a list: servers set Content-Length for lists
            length[0] += sum(len(chunk) for chunk in result)
            return _LoggedList(result, lambda: self.write(environ, status, length, started))
        return _LoggedIterable(result, length, lambda: self.write(environ, status, length, started))


class _LoggedList(list):
    def __init__(self, items, done):
        super().__init__(items)
        self._done = done

    def close(self):
        self._done()


class _LoggedIterable:
    def __init__(self, result, length, done):
        self._result, self._length, self._done = result, length, done

    def __iter__(self):
        for chunk in self._result:
            self._length[0] += len(chunk)
            yield chunk

    def close(self):
        try:
            close = getattr(self._result, "close", None)
            if close is not None:
                close()
        finally:
            self._done()


def install_access_log(app, stream=None):
    """run.py with ACCESS_LOG=1: our redacting log outside everything else (the server's log is off)."""
    app.wsgi_app = AccessLog(app.wsgi_app, stream=stream, proxy_fix=bool(app.config.get("PROXY_FIX")))
    return app.wsgi_app


# ---- wiring -----------------------------------------------------------------------------------------------


def install(app, socketio_ext):
    """Called by create_app right after socketio.init_app."""
    server = socketio_ext.server
    eio = server.eio
    disconnect = bound_disconnect(eio)

    def end_session(sid):  # as python-engineio would for an oversized message: a long-polling session only
        sock = eio.sockets.get(sid)
        if sock is not None and sock.connected and not sock.upgraded:
            disconnect(sid, wait=0)  # the 413 goes out at once

    app.wsgi_app = PollingBodyGuard(app.wsgi_app, app.config["SOCKETIO_MAX_BUFFER"], end_session=end_session)
    app.extensions["live_session_cap"] = SessionCap(
        eio, int(app.config.get("LIVE_MAX_PER_ADDRESS") or 0), proxy_fix=bool(app.config.get("PROXY_FIX"))
    )
    manager = server.manager
    if isinstance(manager, ResyncingRedisManager) and not app.config.get("TESTING"):
        manager.on_resync = lambda local: send_heartbeat(app, local_only=local)
