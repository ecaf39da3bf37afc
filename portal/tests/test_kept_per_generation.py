"""``portal.cache.KeptPerGeneration``: what the workspace's kept <select>s and crm's
kept "Add task" fields share."""

from portal.cache import KeptPerGeneration


def _counting(value):
    built = []

    def build():
        built.append(value)
        return value

    return build, built


def test_a_value_is_built_once_per_generation_and_key():
    kept = KeptPerGeneration(10)
    build, built = _counting("<select>a</select>")
    assert kept.get(1, ("en", 7), build) == "<select>a</select>"
    assert kept.get(1, ("en", 7), build) == "<select>a</select>"
    assert built == ["<select>a</select>"]
    other, other_built = _counting("<select>b</select>")
    assert kept.get(1, ("pl", 7), other) == "<select>b</select>"  # another key
    assert other_built == ["<select>b</select>"]


def test_a_new_generation_forgets_every_value_of_the_old_one():
    kept = KeptPerGeneration(10)
    kept.get(1, "a", lambda: "old a")
    kept.get(1, "b", lambda: "old b")
    assert kept.get(2, "a", lambda: "new a") == "new a"
    assert kept.get(2, "b", lambda: "new b") == "new b"
    # the old generation's values are gone, even asked for under the old generation
    assert kept.get(1, "a", lambda: "rebuilt") == "rebuilt"


def test_no_generation_builds_every_time_and_keeps_nothing():
    kept = KeptPerGeneration(10)
    build, built = _counting("x")
    kept.get(None, "k", build)
    kept.get(None, "k", build)
    assert built == ["x", "x"]
    assert kept.get(1, "k", lambda: "y") == "y"


def test_at_most_limit_values_are_kept():
    kept = KeptPerGeneration(2)
    for key in ("a", "b", "c"):
        kept.get(1, key, lambda key=key: key.upper())
    build, built = _counting("C again")
    assert kept.get(1, "c", build) == "C again"  # the third was not kept
    assert built == ["C again"]
    assert kept.get(1, "a", lambda: "not built") == "A"


def test_forget_empties_it():
    kept = KeptPerGeneration(10)
    kept.get(1, "a", lambda: "first")
    kept.forget()
    assert kept.get(1, "a", lambda: "second") == "second"
