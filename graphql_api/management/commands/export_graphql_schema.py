"""Write the SDL of the schema to graphql_api/schema.graphql (or check it is current).

The committed file is the public contract's source of truth for integrators; a test
fails when it drifts from the code.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schema.graphql"


def render_schema() -> str:
    from graphql_api.schema import schema

    return schema.as_str().rstrip() + "\n"


class Command(BaseCommand):
    help = "Export the GraphQL schema (SDL) to graphql_api/schema.graphql."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="Exit with an error instead of writing when the file is out of date.",
        )
        parser.add_argument("--output", default=str(SCHEMA_PATH))

    def handle(self, *args, check=False, output=None, **options):
        path = Path(output)
        sdl = render_schema()
        current = path.read_text() if path.exists() else ""
        if check:
            if current != sdl:
                raise CommandError(
                    f"{path} is out of date: run manage.py export_graphql_schema"
                )
            self.stdout.write("Schema file is up to date.")
            return
        path.write_text(sdl)
        self.stdout.write(f"Wrote {path}")
