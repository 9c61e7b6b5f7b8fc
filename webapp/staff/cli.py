"""`flask --app wsgi staff …`: accounts, passwords, tokens (webapp/staff/auth.py)."""

import secrets

import click
from sqlalchemy import select

from ..core.errors import DomainError
from ..core.events import get_event
from ..core.extensions import db
from ..core.models import Event
from .auth import revoke_token, revoke_tokens, set_active, tokens_of
from .models import ApiToken, StaffUser
from .team import save_account


@click.group()
def staff():
    """Staff accounts and API tokens."""


def _get_staff(name):

    user = db.session.execute(select(StaffUser).filter_by(name=name)).scalar_one_or_none()
    if user is None:
        raise click.ClickException(f"no staff account named {name!r}")
    return user


@staff.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["admin", "scanner"]), default="admin", show_default=True)
@click.option("--password", help="Without it a random password is made and printed once.")
@click.option(
    "--event",
    "event_slugs",
    multiple=True,
    metavar="SLUG",
    help="Act only inside this event (repeatable): admin = its organiser, scanner = its door. "
    "Without it the account is instance-wide.",
)
def staff_add(name, role, password, event_slugs):
    """Create a staff account (or update role, events and password of an existing one)."""

    if not name.strip() or len(name) > 80:
        raise click.ClickException("NAME must be 1 to 80 characters")
    try:
        events = [get_event(slug) for slug in dict.fromkeys(event_slugs)]
    except DomainError:
        known = ", ".join(db.session.execute(select(Event.slug).order_by(Event.slug)).scalars()) or "none"
        raise click.ClickException(
            f"no event with one of the slugs {', '.join(event_slugs)} (known: {known})"
        ) from None
    printed = password is None
    try:
        user, created, password = save_account(name, role, events, password)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    scope = f"for {', '.join(e.slug for e in events)}" if events else "instance-wide"
    click.echo(f"{'Created' if created else 'Updated'} {role} {name} ({scope})")
    if printed:
        click.echo(f"Password: {password}")


@staff.command("token")
@click.argument("name")
@click.option("--label", default="cli", show_default=True)
def staff_token(name, label):
    """Issue a bearer token for NAME; the bare token is the last line printed."""

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

    set_active(_get_staff(name), False)
    click.echo(f"Disabled {name}: its logins are ended, its tokens refused while disabled")


@staff.command("enable")
@click.argument("name")
def staff_enable(name):
    """Enable NAME again (it signs in anew; tokens not revoked meanwhile work again)."""
    try:
        set_active(_get_staff(name), True)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"Enabled {name}")


@staff.command("bootstrap")
def staff_bootstrap():
    """Create the first admin 'admin' with a random password, printed once; nothing if an admin exists."""

    admins = db.session.execute(select(StaffUser).where(StaffUser.role == "admin").order_by(StaffUser.id)).scalars()
    first = next((user for user in admins if user.is_admin), None)
    if first is not None:
        # Said at every start, because the first password was printed only once.
        click.echo(f"Staff login: /staff/ as {first.name!r}. A new password (printed once) for a lost one:")
        click.echo(f"  .venv/bin/flask --app wsgi staff add {first.name} --role admin")
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


def register(app):
    app.cli.add_command(staff)
