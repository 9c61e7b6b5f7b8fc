"""Commands for `flask --app wsgi …`: demo, staff add/token/bootstrap, schedule import."""
import secrets

import click
from sqlalchemy import func, select

from .extensions import db


def register(app):
    from .checkin.cli import guests_cli

    app.cli.add_command(demo)
    app.cli.add_command(staff)
    app.cli.add_command(schedule)
    app.cli.add_command(guests_cli)


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
    user.role = role
    user.set_password(password)
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
