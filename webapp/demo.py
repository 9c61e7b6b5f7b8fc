"""`flask --app wsgi demo [--if-empty]`: the demo event kl-2018 across the areas (the agenda from the seed,
then the board's invented interests and delegations). Above the areas, as create_app is."""

import click
from flask import current_app
from sqlalchemy import func, select

from .agenda.demo import load_demo
from .core.extensions import db
from .core.models import Event
from .matchmaking.demo import load_board_demo


@click.command()
@click.option("--if-empty", is_flag=True, help="Only when the database has no event yet (used by make run).")
def demo(if_empty):
    """Load the demo event kl-2018 from the seed (idempotent)."""
    if if_empty and db.session.scalar(select(func.count(Event.id))):
        return
    if if_empty and not current_app.config["DEMO"]:
        click.echo("DEMO=0: no demo event; sign in at /staff/ and create the first event")
        return
    event, created = load_demo()
    click.echo(f"{'Created' if created else 'Already there'}: demo event {event.slug} ({len(event.sessions)} sessions)")
    if load_board_demo(event):
        click.echo("Demo board: invented interests of 8 municipalities and one demo delegation each")


def register(app):
    app.cli.add_command(demo)
