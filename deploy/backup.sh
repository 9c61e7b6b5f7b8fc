#!/usr/bin/env bash
# Back up Treffpunkt's database while the app runs, and keep the newest KEEP backups (docs/deployment.md).
#
#   deploy/backup.sh [ENV_FILE]
#
# DATABASE_URL decides what is backed up, taken from the environment or from ENV_FILE (the systemd
# EnvironmentFile, e.g. /etc/treffpunkt/treffpunkt.env):
#   - unset or sqlite:///…  -> an online copy through SQLite's backup API (consistent while the app writes;
#                              WAL included), checked with PRAGMA integrity_check, gzipped:
#                              treffpunkt-YYYYmmddTHHMMSSZ.sqlite3.gz
#   - postgresql://…        -> pg_dump --format=custom (one consistent snapshot): treffpunkt-…Z.dump
# Settings (environment): BACKUP_DIR (default /var/backups/treffpunkt), KEEP (default 14 backups),
# APP_DIR (the checkout; default: this script's parent folder, where relative SQLite paths and the default
# instance/treffpunkt.sqlite3 live), PYTHON (default APP_DIR/.venv/bin/python, else python3).
# Backups hold personal data (guests, check-ins): the folder is created 0700 and files 0600.
# Prints the path of the new backup; exits non-zero if anything fails (cron mails that).
set -euo pipefail
umask 077

env_file=${1:-}
script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
APP_DIR=${APP_DIR:-$(dirname "$script_dir")}
BACKUP_DIR=${BACKUP_DIR:-/var/backups/treffpunkt}
KEEP=${KEEP:-14}

die() { echo "backup.sh: $*" >&2; exit 1; }

[[ "$KEEP" =~ ^[1-9][0-9]*$ ]] || die "KEEP must be a positive whole number, not '$KEEP'"

# DATABASE_URL from ENV_FILE (the file is read, not executed: systemd's KEY=value lines, optional quotes).
if [[ -n "$env_file" ]]; then
    [[ -r "$env_file" ]] || die "cannot read $env_file"
    line=$(grep -E '^[[:space:]]*DATABASE_URL=' "$env_file" | tail -n 1 || true)
    if [[ -n "$line" ]]; then
        value=${line#*=}
        value=${value%\"}; value=${value#\"}; value=${value%\'}; value=${value#\'}
        DATABASE_URL=$value
    fi
fi
url=${DATABASE_URL:-sqlite:///$APP_DIR/instance/treffpunkt.sqlite3}

if [[ -z "${PYTHON:-}" ]]; then
    if [[ -x "$APP_DIR/.venv/bin/python" ]]; then PYTHON=$APP_DIR/.venv/bin/python; else PYTHON=python3; fi
fi

mkdir -p "$BACKUP_DIR"
chmod 700 "$BACKUP_DIR"
stamp=$(date -u +%Y%m%dT%H%M%SZ)

case "$url" in
sqlite:///*)
    path=${url#sqlite:///}
    path=${path%%\?*}
    [[ "$path" == /* ]] || path=$APP_DIR/$path           # sqlite:///relative/path: relative to the app
    [[ -f "$path" ]] || die "no SQLite database at $path"
    out=$BACKUP_DIR/treffpunkt-$stamp.sqlite3.gz
    tmp=$(mktemp "$BACKUP_DIR/.treffpunkt-$stamp.XXXXXX")
    trap 'rm -f "$tmp" "$tmp.gz"' EXIT
    # One backup step = one read transaction: a consistent snapshot, writers are not blocked (WAL).
    "$PYTHON" - "$path" "$tmp" <<'PY'
import sqlite3, sys
# A normal connection (not ?mode=ro): on an idle WAL database a read-only one would leave -wal/-shm files
# behind, owned by whoever runs the backup; this one removes them again when it is the last to close.
src = sqlite3.connect(sys.argv[1], timeout=30)
dst = sqlite3.connect(sys.argv[2])
src.backup(dst)
src.close()
dst.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file, no -wal beside it
result = dst.execute("PRAGMA integrity_check").fetchone()[0]
dst.close()
if result != "ok":
    sys.exit(f"integrity_check of the copy: {result}")
PY
    gzip -9 "$tmp"
    mv "$tmp.gz" "$out"
    trap - EXIT
    pattern='treffpunkt-*.sqlite3.gz'
    ;;
postgresql://* | postgresql+*://* | postgres://*)
    command -v pg_dump >/dev/null || die "pg_dump not found (Debian: apt-get install postgresql-client)"
    pg_url=$(printf '%s' "$url" | sed -E 's#^postgres(ql)?(\+[a-z0-9_]+)?://#postgresql://#')
    out=$BACKUP_DIR/treffpunkt-$stamp.dump
    tmp=$(mktemp "$BACKUP_DIR/.treffpunkt-$stamp.XXXXXX")
    trap 'rm -f "$tmp"' EXIT
    pg_dump --format=custom --compress=6 --no-owner --no-acl --file="$tmp" --dbname="$pg_url"
    pg_restore --list "$tmp" >/dev/null                 # the archive is readable
    mv "$tmp" "$out"
    trap - EXIT
    pattern='treffpunkt-*.dump'
    ;;
*)
    die "don't know how to back up DATABASE_URL=${url%%://*}://…"
    ;;
esac

# Rotation: keep the newest KEEP backups of this kind (the names sort by time).
find "$BACKUP_DIR" -maxdepth 1 -type f -name "$pattern" | sort -r | tail -n +"$((KEEP + 1))" |
    while IFS= read -r old; do rm -f -- "$old"; done

echo "$out"
