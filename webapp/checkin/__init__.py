"""QR check-in: guests and tickets, one check-in function, the scanner, offline sync, live arrivals."""

from ..core.extensions import csrf
from ..core.validation import register_field_labels
from ..live import register_stats
from ..staff.auth import refuse_enabling
from ..staff.team import account_owner
from . import (
    api,
    badges,
    calendar,
    cli,
    devices,
    guests,
    kiosk,
    mailings,
    pages,
    staff_guests,
    staff_scan,
    ticket_mail,
    uploads,
)
from .stats import arrival_stats


def init_app(app):
    for blueprint in (pages.bp, api.bp, calendar.bp, staff_guests.bp, staff_scan.bp, mailings.pages, mailings.api):
        app.register_blueprint(blueprint)
    app.register_blueprint(badges.bp)  # badge sheets and the single badge (issue 12)
    app.register_blueprint(kiosk.bp)  # the self check-in kiosk (issue 12)
    csrf.exempt(api.bp)
    csrf.exempt(mailings.api)
    ticket_mail.init_app(app)
    register_field_labels(guests.FIELD_LABELS)
    register_stats(arrival_stats)
    refuse_enabling(app, devices.revoked_device_reason)
    account_owner(app, devices.device_label)  # paired phones are managed on the devices page
    cli.register(app)
    if not app.testing:
        uploads.sweep(app)  # guest-list uploads a crash or an abandoned preview left behind
