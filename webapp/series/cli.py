"""`flask --app wsgi gazetteer`: build the offline gazetteer's index (run by `make run` before serving, so
that the first municipality picker does not wait for it)."""

import click

from ..core import gazetteer


@click.command("gazetteer")
def build_gazetteer():
    """Read the German places out of the gazetteer package into instance/ (once per package version)."""
    path = gazetteer.index_path()
    if path.exists():
        return
    count = gazetteer.build(path)
    click.echo(f"Gazetteer: {count} German places in {path.name}")


def register(app):
    app.cli.add_command(build_gazetteer)
