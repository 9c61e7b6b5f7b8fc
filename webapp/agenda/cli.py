"""`flask --app wsgi schedule import SLUG FILE`: a c3voc/pretalx schedule.json or frab schedule.xml."""

import click

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


def register(app):
    app.cli.add_command(schedule)
