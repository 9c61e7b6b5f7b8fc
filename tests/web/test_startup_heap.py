"""Before serving, run.py and wsgi.py move what the start built out of the garbage collector's reach: a
full collection then walks only what came later (connections, requests), not the app's 200,000 objects
again (each such walk was a pause of about 0.1 s for the door and every phone)."""

import gc

from webapp import freeze_startup_objects


def test_a_full_collection_walks_only_what_came_after_the_start(app):
    assert gc.get_freeze_count() == 0
    gc.collect()
    walked_before = len(gc.get_objects())  # what a full collection walks
    try:
        freeze_startup_objects()
        assert gc.get_freeze_count() > 100_000  # the app, its extensions and every module loaded
        assert len(gc.get_objects()) < walked_before / 10
        later = [[i] for i in range(1000)]  # made after the start: collected as before
        assert len(gc.get_objects()) >= len(later)
    finally:
        gc.unfreeze()
