"""Site-wide HTTP: headers and the CSP, the language, error answers, rate limits, `/`, `/sw.js`, `/healthz`."""

from . import errors, headers, limits, pages


def init_app(app):
    app.register_blueprint(pages.bp)
    errors.install(app)
    headers.install(app)
    limits.install(app)
