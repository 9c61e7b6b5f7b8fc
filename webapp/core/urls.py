"""Absolute links (QR codes, tickets, pairing, exports, mails): `PUBLIC_URL` is their one base where it is
set (the address guests and phones reach, e.g. https://treffpunkt.kaiserslautern.de or the laptop's LAN
address); unset, the address the request came in on."""

import socket
from urllib.parse import urlsplit

from flask import current_app, has_request_context, url_for


def public_base():
    return (current_app.config.get("PUBLIC_URL") or "").rstrip("/")


def external_url(endpoint, **values):
    """url_for(…, _external=True), on PUBLIC_URL when it is set (also outside a request: mails, CLI)."""
    base = public_base()
    if base:
        return base + url_for(endpoint, **values)
    if not has_request_context():
        raise RuntimeError("an absolute link outside a request needs PUBLIC_URL")
    return url_for(endpoint, _external=True, **values)


def local_path(target):
    """A "next" target if it is a path on this site, else None. Browsers drop tabs and newlines inside URLs
    and read a backslash as a slash, so "/<tab>/evil.example/" or "/<backslash>evil.example" would lead off
    the site: such characters are removed first, then the rest must be a path without scheme or host."""
    path = "".join(ch for ch in (target or "") if ch.isprintable() and not ch.isspace())
    parts = urlsplit(path)
    if path.startswith("/") and not path.startswith(("//", "/\\")) and not parts.scheme and not parts.netloc:
        return path
    return None


def check_public_url(value):
    """The setting as given, or ValueError saying what is wrong (read at start, so a typo stops `make run`)."""
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(f"PUBLIC_URL must be like https://treffpunkt.example.de (got {value!r})")
    return value.rstrip("/")


def lan_addresses():
    """This machine's IPv4 addresses other phones on the network may reach (no loopback)."""
    found = set()
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            found.add(info[4][0])
    except OSError:
        pass
    try:  # the address of the default route, without sending anything
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))
            found.add(probe.getsockname()[0])
    except OSError:
        pass
    return sorted(a for a in found if not a.startswith("127."))


def startup_lines(config, slugs, async_mode, lan):
    """What `make run` prints: where it listens, on the network the LAN addresses and what to set so that
    QR codes and links name one of them, and the addresses for phones, projector and staff."""
    host, port = config["HOST"], config["PORT"]
    scheme = "https" if config.get("CERT_FILE") else "http"
    base = f"{scheme}://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    public = config.get("PUBLIC_URL") or ""
    lines = [f"Treffpunkt on {base} ({async_mode})"]
    if host in ("0.0.0.0", "::"):
        addresses = [f"{scheme}://{address}:{port}" for address in lan]
        lines += [f"  on the network: {address}" for address in addresses]
        if not public:
            example = addresses[0] if addresses else f"{scheme}://<this machine's address>:{port}"
            lines.append(
                f"  QR codes and links would name the address a page was opened with: set PUBLIC_URL={example}"
            )
    if public:
        lines.append(f"  links and QR codes: {public}")
    if config.get("SMTP_HOST"):
        lines.append(
            f"  e-mail: via {config['SMTP_HOST']} ({config.get('SMTP_SECURITY')}) from {config.get('MAIL_FROM')}"
        )
    else:
        lines.append("  e-mail: off (set SMTP_HOST and MAIL_FROM to send tickets, docs/mail.md)")
    shown = public or base
    for slug in slugs:
        lines += [f"  phones:    {shown}/e/{slug}/", f"  projector: {shown}/e/{slug}/screen"]
    lines.append(f"  staff:     {shown}/staff/")
    return lines
