"""The report's staff pages and downloads, for the event's organisers (staff_required: an account of
another event gets 403, an anonymous visitor the login): the report page, report.csv, report.pdf, and
the certificates of attendance, all in one PDF or one guest's."""

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import gettext as _

from ..core.errors import DomainError
from ..core.events import event_or_404
from ..core.text import slugify
from ..staff.auth import staff_required
from . import certificates, chart, exports, figures, labels

bp = Blueprint("report", __name__, url_prefix="/staff/e/<slug>")


def _download(body, mimetype, filename):
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"  # guests' names and numbers: never in a cache
    return response


def _pdf():
    # Imported on the first PDF, not at start: fpdf2 takes ~0.3 s to import, and after a crash every phone
    # waits for the restart (docs/performance.md, reconnect storm).
    from . import pdf

    return pdf


@bp.get("/report")
@staff_required()
def report(slug):
    event = event_or_404(slug)
    figures_now = figures.event_report(event)
    try:
        options = certificates.parse_options(request.args)
        error = None
    except DomainError as exc:
        options, error = certificates.Options(), exc.message
    response = Response(
        render_template(
            "report/report.html",
            event=event,
            report=figures_now,
            chart=chart.arrivals_chart(figures_now.arrivals.buckets),
            labels=labels,
            day=labels.event_day(event),
            options=options,
            option_error=error,
            place=figures.host_place(event),
        )
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/report.csv")
@staff_required()
def report_csv(slug):
    event = event_or_404(slug)
    text = exports.report_csv(figures.event_report(event))
    response = _download(text.encode("utf-8"), "text/csv", f"bericht-{event.slug}.csv")
    response.charset = "utf-8"
    return response


@bp.get("/report.pdf")
@staff_required()
def report_pdf(slug):
    event = event_or_404(slug)
    pdf = _pdf()
    return _download(pdf.report_pdf(figures.event_report(event)), "application/pdf", f"bericht-{event.slug}.pdf")


def _options():
    try:
        return certificates.parse_options(request.args)
    except DomainError as exc:
        abort(400, exc.message)


@bp.get("/certificates.pdf")
@staff_required()
def all_certificates(slug):
    event = event_or_404(slug)
    options = _options()
    guests = certificates.attended(event)
    if not guests:
        abort(404, _("Noch ist niemand eingecheckt: Teilnahmebescheinigungen gibt es nur für eingecheckte Gäste."))
    body = _pdf().certificates_pdf(event, [certificates.certificate(event, g, options) for g in guests])
    return _download(body, "application/pdf", f"teilnahmebescheinigungen-{event.slug}.pdf")


@bp.get("/certificates/<int:guest_id>.pdf")
@staff_required()
def one_certificate(slug, guest_id):
    event = event_or_404(slug)
    options = _options()
    try:
        guest = certificates.certificate_for(event, guest_id)
    except DomainError as exc:
        abort(exc.status, exc.message)
    body = _pdf().certificates_pdf(event, [certificates.certificate(event, guest, options)])
    name = slugify(guest.family_name or guest.name, "gast")
    return _download(body, "application/pdf", f"teilnahmebescheinigung-{event.slug}-{name}.pdf")
