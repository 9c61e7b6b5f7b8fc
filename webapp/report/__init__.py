"""After the event: the organisers' report (arrivals by municipality and over time, the programme as it
ran, the board's connections, meetings and tables) as a page, CSV and PDF, and the certificates of
attendance for checked-in guests. Stands on the three areas and reads them (docs/report.md)."""

from . import pages


def init_app(app):
    app.register_blueprint(pages.bp)
