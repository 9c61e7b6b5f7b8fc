"""JSON embedded in pages as `<script type="application/json">` blocks: the one helper for it."""

import json

from markupsafe import Markup

# As Jinja's |tojson: with <, > and & escaped, no text in the data ("</script>", or "<!--<script>" in a
# board note, which switches the HTML parser into a state where the block never ends) can change how
# the page parses; JSON.parse reads the escapes back as the same characters.
_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026", ord("'"): "\\u0027"}


def json_script(value):
    """`value` as JSON text that is safe inside a <script type="application/json"> element."""
    return Markup(json.dumps(value, ensure_ascii=False).translate(_ESCAPES))


def no_store(response):
    """Pages and files with personal data stay out of every cache (the browser's and any proxy's)."""
    response.headers["Cache-Control"] = "private, no-store"
    return response
