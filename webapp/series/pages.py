"""Staff pages of the series (event set-up)."""

from flask import Blueprint

bp = Blueprint("series_pages", __name__, url_prefix="/staff")
