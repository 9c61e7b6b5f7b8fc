"""Commands for `flask --app wsgi …`: demo, staff add/token/tokens/revoke-token/disable/enable/bootstrap,
schedule import, purge."""
import secrets
import sys

import click
from sqlalchemy import func, select

from .extensions import db


def register(app):
    from .checkin.cli import guests_cli

    app.cli.add_command(demo)
    app.cli.add_command(staff)
    app.cli.add_command(schedule)
    app.cli.add_command(guests_cli)
    app.cli.add_command(purge)


@click.command()
@click.option("--if-empty", is_flag=True, help="Only when the database has no event yet (used by make run).")
def demo(if_empty):
    """Load the demo event kl-2018 from the seed (idempotent)."""
    from .agenda.demo import load_demo
    from .agenda.models import Event

    from .matchmaking.demo import load_board_demo

    if if_empty and db.session.scalar(select(func.count(Event.id))):
        return
    event, created = load_demo()
    click.echo(f"{'Created' if created else 'Already there'}: demo event {event.slug} ({len(event.sessions)} sessions)")
    if load_board_demo(event):
        click.echo("Demo board: invented interests of 8 municipalities and one demo delegation each")


@click.group()
def staff():
    """Staff accounts and API tokens."""


def _get_staff(name):
    from .staff.models import StaffUser

    user = db.session.execute(select(StaffUser).filter_by(name=name)).scalar_one_or_none()
    if user is None:
        raise click.ClickException(f"no staff account named {name!r}")
    return user


@staff.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["admin", "scanner"]), default="admin", show_default=True)
@click.option("--password", help="Without it a random password is made and printed once.")
def staff_add(name, role, password):
    """Create a staff account (or update role and password of an existing one)."""
    from .staff.models import StaffUser

    if not name.strip() or len(name) > 80:
        raise click.ClickException("NAME must be 1 to 80 characters")
    printed = password is None
    password = password or secrets.token_urlsafe(12)
    user = db.session.execute(select(StaffUser).filter_by(name=name)).scalar_one_or_none()
    created = user is None
    if created:
        user = StaffUser(name=name)
        db.session.add(user)
        user.set_password(password)
    else:
        from .staff.auth import reset_password

        reset_password(user, password)  # a new password ends every login of the account
    user.role = role
    db.session.commit()
    click.echo(f"{'Created' if created else 'Updated'} {role} {name}")
    if printed:
        click.echo(f"Password: {password}")


@staff.command("token")
@click.argument("name")
@click.option("--label", default="cli", show_default=True)
def staff_token(name, label):
    """Issue a bearer token for NAME; the bare token is the last line printed."""
    from .staff.models import ApiToken

    _, bare = ApiToken.issue(_get_staff(name), label=label)
    db.session.commit()
    click.echo(f"Bearer token for {name} (shown once; send it as 'Authorization: Bearer <token>'):")
    click.echo(bare)


def _when(value):
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else "-"


@staff.command("tokens")
@click.argument("name")
def staff_tokens(name):
    """List NAME's bearer tokens: id, label, created, revoked."""
    from .staff.auth import tokens_of

    rows = [(str(t.id), t.label or "-", _when(t.created_at), _when(t.revoked_at)) for t in tokens_of(_get_staff(name))]
    if not rows:
        click.echo(f"{name} has no tokens")
        return
    rows.insert(0, ("id", "label", "created", "revoked"))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[3])


@staff.command("revoke-token")
@click.argument("name")
@click.argument("token_id", type=int, required=False)
@click.option("--all", "all_tokens", is_flag=True, help="Revoke every token of NAME.")
def staff_revoke_token(name, token_id, all_tokens):
    """Revoke bearer token TOKEN_ID of NAME (ids: `staff tokens NAME`), or all of them with --all."""
    from .errors import DomainError
    from .staff.auth import revoke_token, revoke_tokens

    if (token_id is None) == (not all_tokens):
        raise click.UsageError("give either TOKEN_ID or --all")
    user = _get_staff(name)
    if all_tokens:
        click.echo(f"Revoked {revoke_tokens(user)} token(s) of {name}")
        return
    try:
        token = revoke_token(user, token_id)
    except DomainError:
        raise click.ClickException(f"{name} has no token {token_id}") from None
    click.echo(f"Revoked token {token.id} ({token.label or '-'}) of {name}")


@staff.command("disable")
@click.argument("name")
def staff_disable(name):
    """Disable NAME: every session, remember cookie and token is refused from the next request on."""
    from .staff.auth import set_active

    set_active(_get_staff(name), False)
    click.echo(f"Disabled {name}: its logins are ended, its tokens refused while disabled")


@staff.command("enable")
@click.argument("name")
def staff_enable(name):
    """Enable NAME again (it signs in anew; tokens not revoked meanwhile work again)."""
    from .checkin.models import Device
    from .staff.auth import set_active

    user = _get_staff(name)
    device = db.session.execute(select(Device).filter_by(staff_id=user.id)).scalar_one_or_none()
    if device is not None and device.revoked_at is not None:
        raise click.ClickException(f"{name} is a revoked scanner device: add a new device instead")
    set_active(user, True)
    click.echo(f"Enabled {name}")


@staff.command("bootstrap")
def staff_bootstrap():
    """Create the first admin 'admin' with a random password, printed once; nothing if an admin exists."""
    from .staff.models import StaffUser

    if db.session.scalar(select(func.count(StaffUser.id)).where(StaffUser.role == "admin")):
        return
    password = secrets.token_urlsafe(12)
    user = StaffUser(name="admin", role="admin")
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    click.echo("=" * 60)
    click.echo("First admin account (shown only this once):")
    click.echo("  user: admin")
    click.echo(f"  password: {password}")
    click.echo("=" * 60)


@click.group()
def schedule():
    """Schedule import."""


@schedule.command("import")
@click.argument("slug")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def schedule_import(slug, file):
    """Import a c3voc/pretalx schedule.json or a frab schedule.xml into event SLUG (created if new)."""
    from .agenda.imports import ImportError_, import_schedule

    with open(file, "rb") as fh:
        data = fh.read()
    with click.progressbar(length=1, label="Importing", show_pos=True) as bar:
        def progress(done, total):
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

        try:
            event, counts = import_schedule(slug, data, progress=progress, actor="cli")
        except ImportError_ as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"Imported into {event.slug}: " + ", ".join(f"{n} {what}" for what, n in counts.items()))


# ---- purge: an event's personal data after the event (webapp/privacy.py) -----------------------------

PURGE_LABELS = {
    "guests": "guests deleted",
    "check_ins": "check-ins deleted",
    "email_addresses": "e-mail addresses deleted (with their guests)",
    "scans_anonymised": "audit-log entries anonymised (input, guest, device name, staff account, stored answer)",
    "meeting_requests": "meeting requests deleted",
    "interest_contacts": "contact persons removed from board entries",
    "devices": "scanner devices deleted",
    "device_accounts": "staff accounts of those devices deleted",
    "device_tokens": "API tokens of those devices deleted",
    "change_log_cleaned": "change-log entries cleaned of contact names",
    "guest_list_uploads": "guest-list uploads deleted (CSV files waiting for an import)",
}
KEPT_LABELS = {
    "sessions": "sessions", "rooms": "rooms", "speakers": "speakers", "topics": "topics",
    "announcements": "announcements", "municipalities": "municipalities",
    "interests": "board entries of municipalities",
    "scans": "anonymised audit-log entries", "changes": "change-log entries",
}


def _interactive():
    return sys.stdin.isatty()


@click.command()
@click.argument("slug")
@click.option("--yes", is_flag=True, help="Purge without asking (needed when not run in a terminal).")
def purge(slug, yes):
    """After event SLUG: remove its personal data, keep the agenda and anonymous counts.

    Removes guests (with e-mail addresses and check-ins), meeting requests, contact persons on the board,
    scanner devices with their staff accounts and tokens; anonymises the audit log (input, guest, device
    name) and contact names in the change log. Prints the final counts and what it removed. One transaction:
    all or nothing."""
    from .agenda.domain import get_event
    from .errors import DomainError
    from .privacy import personal_data_counts, purge_event

    try:
        event = get_event(slug)
    except DomainError:
        raise click.ClickException(f"no event {slug!r}") from None
    if not yes:
        if not _interactive():
            raise click.ClickException("not purged: add --yes to purge without being asked")
        click.echo(f"Personal data of {event.slug} ({event.title}) that would be removed:")
        for key, n in personal_data_counts(event).items():
            click.echo(f"  {n:6d}  {PURGE_LABELS.get(key, key)}")
        click.confirm("Remove it now? This cannot be undone", abort=True)
    result = purge_event(event)
    final = result["final"]
    click.echo(f"Final counts of {event.slug} (anonymous, kept in this output): registered {final['registered']}, "
               f"checked in {final['checked_in']}")
    for city in sorted(set(final["registered_by_city"]) | set(final["by_city"])):
        click.echo(f"  {city}: registered {final['registered_by_city'].get(city, 0)}, "
                   f"checked in {final['by_city'].get(city, 0)}")
    click.echo(f"Purged {event.slug}:")
    for key, n in result["removed"].items():
        click.echo(f"  {n:6d}  {PURGE_LABELS.get(key, key)}")
    click.echo("Kept: " + ", ".join(f"{n} {KEPT_LABELS.get(key, key)}" for key, n in result["kept"].items()))
