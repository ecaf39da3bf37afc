"""Plausible support vocabulary, so that search and listings see realistic text."""

import random

TOPICS = [
    ("Accounts and sign-in", ["password", "sign-in", "two-factor", "email", "profile"]),
    ("Billing", ["invoice", "payment", "refund", "subscription", "VAT"]),
    ("Integrations", ["API", "token", "webhook", "export", "import"]),
    ("Getting started", ["setup", "workspace", "invite", "onboarding", "settings"]),
    ("Troubleshooting", ["error", "timeout", "crash", "sync", "slow"]),
    ("Security", ["audit", "permissions", "encryption", "backup", "session"]),
    ("Mobile app", ["iPhone", "Android", "notification", "offline", "camera"]),
    ("Reports", ["dashboard", "chart", "schedule", "CSV", "filter"]),
    ("Administration", ["roles", "organization", "license", "domain", "SSO"]),
    ("Data", ["retention", "deletion", "archive", "migration", "quota"]),
    ("Notifications", ["digest", "reminder", "mute", "channel", "mention"]),
    ("Printing", ["PDF", "label", "template", "margin", "layout"]),
]
VERBS = ["reset", "change", "enable", "disable", "fix", "configure", "find", "update"]
FILLER = (
    "the customer support team recommends checking the account settings first and "
    "then trying again after a few minutes because most problems disappear once the "
    "browser cache is cleared and the latest version of the application is installed "
    "if the problem persists please contact us with the exact error message and time"
).split()
SEARCH_TERM = "password"


def sentence(rng: random.Random, keywords: list[str], words: int = 14) -> str:
    chosen = rng.sample(FILLER, k=min(words, len(FILLER)))
    for keyword in rng.sample(keywords, k=2):
        chosen.insert(rng.randrange(len(chosen) + 1), keyword)
    return " ".join(chosen).capitalize() + "."


def title(rng: random.Random, keywords: list[str]) -> str:
    return f"How to {rng.choice(VERBS)} {rng.choice(keywords)} {rng.choice(keywords)}"
