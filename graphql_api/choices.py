"""GraphQL enums made from the domain's model choices, so that the API's names and
values cannot drift from the models' (a choice added to a model appears in the
schema, and the committed SDL's snapshot test shows it)."""

from enum import Enum

import strawberry
from django.db import models


def enum_of(choices: type[models.TextChoices], name: str) -> type[Enum]:
    """A strawberry enum named ``name`` with one member per choice: the choice's
    name as the GraphQL name, its stored value as the Python value."""
    members = [(member.name, member.value) for member in choices]
    return strawberry.enum(Enum(name, members), name=name)
