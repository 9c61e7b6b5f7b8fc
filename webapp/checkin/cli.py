"""`flask --app wsgi guests import SLUG FILE [--skip-bad-rows] [--dry-run]`: the staff page's CSV import
for the terminal (same functions: webapp.checkin.csv_import). Exit status 0 when imported (or, with
--dry-run, when importable), 1 when nothing was written because of file or row errors."""

import click
from flask.cli import AppGroup

from ..core.errors import DomainError
from ..core.events import get_event
from . import csv_import

MAX_LISTED = 50

guests_cli = AppGroup("guests", help="Guests of an event.")


@guests_cli.command("import")
@click.argument("slug")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--skip-bad-rows", is_flag=True, help="Import the good rows even if some rows are bad.")
@click.option("--dry-run", is_flag=True, help="Only check the file and print the preview; write nothing.")
def import_guests(slug, file, skip_bad_rows, dry_run):
    """Import guests of event SLUG from a CSV FILE (Excel export: ; , or tab, UTF-8 or Windows-1252).

    Nothing is written when a row is bad, unless --skip-bad-rows. Rows with the same name and municipality
    as an earlier row or an existing guest are reported and not imported."""
    try:
        event = get_event(slug)
    except DomainError:
        raise click.ClickException(f"no event {slug!r}") from None
    with open(file, "rb") as fh:
        data = fh.read()
    preview = csv_import.parse(data, event)
    for line in preview.file_errors:
        click.echo(f"Error: {line}", err=True)
    if preview.file_errors:
        raise click.ClickException("nothing imported (file error)")
    for line in preview.summary_lines():
        click.echo(line)
    bad, dups = preview.bad_rows, preview.duplicates
    for row in bad[:MAX_LISTED]:
        click.echo(f"  {row.message}", err=True)
    if len(bad) > MAX_LISTED:
        click.echo(f"  … and {len(bad) - MAX_LISTED} more bad rows", err=True)
    for row in dups[:MAX_LISTED]:
        click.echo(
            f"  {row.message}: {row.fields['name']}" + (f", {row.fields['city']}" if row.fields.get("city") else "")
        )
    if len(dups) > MAX_LISTED:
        click.echo(f"  … and {len(dups) - MAX_LISTED} more duplicate rows")
    if bad and not skip_bad_rows:
        raise click.ClickException(
            f"{len(bad)} bad row(s): nothing imported (use --skip-bad-rows to import the good rows)"
        )
    if dry_run:
        click.echo(f"Dry run: {len(preview.good_rows)} guests would be imported; nothing written.")
        return
    with click.progressbar(length=max(len(preview.good_rows), 1), label="Importing", show_pos=True) as bar:

        def progress(done, total):
            bar.update(done - bar.pos)

        try:
            counts = csv_import.apply(event, preview, skip_bad_rows=skip_bad_rows, progress=progress)
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
    click.echo(
        f"Imported into {event.slug}: {counts['imported']} guests; skipped: {counts['skipped_bad']} bad, "
        f"{counts['skipped_duplicates']} duplicate rows."
    )


def register(app):
    app.cli.add_command(guests_cli)
