"""Guest-list uploads kept between the preview and the confirmation of a CSV import: one folder per event
(instance/imports/<slug>/, or GUEST_IMPORT_DIR), a file per upload named by a random id. `<id>.csv` waits for
its confirmation, `<id>.importing` is being imported. They hold personal data, so they go away after the
import, after an hour, when the server starts (a crash can leave them), and with the event's purge."""

import shutil
import time
from pathlib import Path

from flask import current_app

TTL_SECONDS = 3600


def root(app=None):
    app = app or current_app
    return Path(app.config.get("GUEST_IMPORT_DIR") or Path(app.instance_path) / "imports")


def folder(slug):
    path = root() / slug
    path.mkdir(parents=True, exist_ok=True)
    return path


def path_of(slug, upload_id, suffix=".csv"):
    return folder(slug) / f"{upload_id}{suffix}"


CLAIMED_SECONDS = 600  # an import takes seconds; a claimed file this old belongs to a process that died


def sweep(app=None):
    """Delete uploads waiting longer than TTL_SECONDS and half-done imports older than CLAIMED_SECONDS.
    Returns how many files went."""
    base = root(app)
    if not base.is_dir():
        return 0
    now = time.time()
    removed = 0
    for item in base.glob("*/*"):
        try:
            age = now - item.stat().st_mtime
            if item.is_file() and (age > TTL_SECONDS or (item.suffix == ".importing" and age > CLAIMED_SECONDS)):
                item.unlink()
                removed += 1
        except OSError:
            pass
    for item in base.iterdir():  # folders left empty, and files of the layout before one folder per event
        try:
            if item.is_dir() and not any(item.iterdir()):
                item.rmdir()
            elif item.is_file():
                item.unlink()
                removed += 1
        except OSError:
            pass
    return removed


def discard_event(slug):
    """Every upload of one event (the purge)."""
    path = root() / slug
    count = sum(1 for item in path.iterdir() if item.is_file()) if path.is_dir() else 0
    shutil.rmtree(path, ignore_errors=True)
    return count
