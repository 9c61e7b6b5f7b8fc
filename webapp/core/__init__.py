"""The ground under every area: settings, extensions, database types, errors, input checks, text helpers,
the event and its municipalities. Nothing here imports an area (docs/architecture.md)."""
