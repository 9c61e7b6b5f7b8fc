"""Languages and the locales their dates and numbers are formatted in."""

# English is British ("Friday, 26 October 2018", 14:00), not the US default of Babel's plain "en"
# ("10/26/18, 2:00 PM"); the "en" catalogue still applies to en_GB (gettext falls back to the language).
FORMAT_LOCALES = {"en": "en_GB"}


def format_locale(language):
    """The locale to format in for a page or guest language ("de", "en")."""
    return FORMAT_LOCALES.get(language, language)
