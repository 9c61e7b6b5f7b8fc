"""`flask --app wsgi schedule import SLUG FILE`: a c3voc/pretalx schedule.json or frab schedule.xml;
`schedule follow SLUG URL`, `schedule pull SLUG`, `schedule unfollow SLUG`: a followed schedule URL
(webapp/agenda/follow.py)."""

import json

import click

from ..core.errors import DomainError
from ..core.events import get_event
from . import follow
from .imports import ImportError_, import_schedule


@click.group()
def schedule():
    """Schedule import."""


@schedule.command("import")
@click.argument("slug")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def schedule_import(slug, file):
    """Import a c3voc/pretalx schedule.json or a frab schedule.xml into event SLUG (created if new)."""
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


def _event(slug):
    try:
        return get_event(slug)
    except DomainError:
        raise click.ClickException(f"no event {slug!r}") from None


@schedule.command("follow")
@click.argument("slug")
@click.argument("url")
def schedule_follow(slug, url):
    """Import the schedule at URL into event SLUG (one revision) and follow it: later pulls apply only what
    changed, each changed session as its own live change."""
    event = _event(slug)
    try:
        _, counts = follow.follow_url(event, url, actor="cli")
    except (ImportError_, follow.FetchError) as exc:
        raise click.ClickException(f"{exc.code}: {exc.message}") from None
    click.echo(f"Following {url} for {slug}: " + ", ".join(f"{n} {what}" for what, n in counts.items()))


@schedule.command("pull")
@click.argument("slug")
def schedule_pull(slug):
    """Pull the followed schedule URL of event SLUG now (prints the result as JSON)."""
    try:
        result = follow.pull(_event(slug), actor="cli")
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(json.dumps(result))
    if result.get("status") == "error":
        raise SystemExit(1)


@schedule.command("unfollow")
@click.argument("slug")
def schedule_unfollow(slug):
    """Stop following the schedule URL of event SLUG (the programme stays as it is)."""
    click.echo("stopped" if follow.stop_following(_event(slug)) else "was not following")


def register(app):
    app.cli.add_command(schedule)
