"""Before serving, run.py and wsgi.py move what the start built out of the garbage collector's reach: a
full collection then walks only what came later (connections, requests), not the app's 200,000 objects
again (each such walk was a pause of about 0.1 s for the door and every phone)."""

import gc
import threading
import time

from webapp import NEVER, collect_by_the_clock, freeze_startup_objects


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


def test_a_serving_process_runs_its_full_collections_by_the_clock_not_by_the_growth_of_its_heap(app):
    """While phones connect the heap grows by a quarter again and again; Python would walk it all each
    time. The task takes the oldest generation's collections off the allocations and runs them by the
    clock, and setting the interval to 0 gives Python's rule back."""
    assert collect_by_the_clock in app.extensions["background_tasks"]  # started with the others
    before = gc.get_threshold()
    full = []

    def watch(phase, info):
        if phase == "stop" and info["generation"] == 2:
            full.append(time.monotonic())

    app.config["FULL_COLLECTION_SECONDS"] = 0.2
    gc.callbacks.append(watch)
    task = threading.Thread(target=collect_by_the_clock, args=(app,), daemon=True)
    try:
        task.start()
        deadline = time.monotonic() + 5
        while gc.get_threshold()[2] != NEVER and time.monotonic() < deadline:
            time.sleep(0.01)
        assert gc.get_threshold()[:2] == before[:2] and gc.get_threshold()[2] == NEVER
        held = len(full)
        heap = [[[i]] for i in range(200_000)]  # survives the young generations: by Python's rule, full ones
        while len(full) < held + 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(full) >= held + 2  # by the clock
        assert all(b - a >= 0.15 for a, b in zip(full[held:], full[held + 1 :]))  # none in between
        del heap
    finally:
        app.config["FULL_COLLECTION_SECONDS"] = 0
        task.join(timeout=5)
        gc.callbacks.remove(watch)
    assert not task.is_alive() and gc.get_threshold() == before
