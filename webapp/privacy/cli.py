"""`flask --app wsgi purge SLUG [--yes]`: an event's personal data after the event (webapp/privacy/domain.py)."""

import sys

import click

from ..core.errors import DomainError
from ..core.events import get_event
from .domain import personal_data_counts, purge_event

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
    "sessions": "sessions",
    "rooms": "rooms",
    "speakers": "speakers",
    "topics": "topics",
    "announcements": "announcements",
    "municipalities": "municipalities",
    "interests": "board entries of municipalities",
    "scans": "anonymised audit-log entries",
    "changes": "change-log entries",
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
    click.echo(
        f"Final counts of {event.slug} (anonymous, kept in this output): registered {final['registered']}, "
        f"checked in {final['checked_in']}"
    )
    for city in sorted(set(final["registered_by_city"]) | set(final["by_city"])):
        click.echo(
            f"  {city}: registered {final['registered_by_city'].get(city, 0)}, "
            f"checked in {final['by_city'].get(city, 0)}"
        )
    click.echo(f"Purged {event.slug}:")
    for key, n in result["removed"].items():
        click.echo(f"  {n:6d}  {PURGE_LABELS.get(key, key)}")
    click.echo("Kept: " + ", ".join(f"{n} {KEPT_LABELS.get(key, key)}" for key, n in result["kept"].items()))


def register(app):
    app.cli.add_command(purge)
