"""The untranslated-text test (issue 13): every message a person can see on an error path comes from a
catalogue, in German and English. A pseudo-language ("eo", built at test time from the code's own msgids)
wraps each translated piece in ⟦…⟧, so text that bypasses the catalogues stands out (conftest.py)."""
