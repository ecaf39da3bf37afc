"""Questions customers ask, in their own words, with the demo article that answers
each (``kb.demo_content`` slugs). The KB search is measured against them: the test in
``kb/tests/test_search_questions.py`` and ``bench/kb_search_quality.py``.

Written from a customer's point of view, not from the article titles; asked by a
signed-in customer (customers-only articles count) in the given language."""

QUESTIONS = [
    # (language, question, expected article slug)
    ("en", "how do I restore a deleted file", "recover-deleted-files"),
    (
        "en",
        "I deleted a folder by accident, can I get it back?",
        "recover-deleted-files",
    ),
    ("en", "where is the trash", "recover-deleted-files"),
    (
        "en",
        "go back to yesterday's version of my spreadsheet",
        "restore-earlier-version",
    ),
    ("en", "I overwrote my document, how to undo", "restore-earlier-version"),
    ("en", "all my files got encrypted by a virus", "ransomware-rewind"),
    ("en", "cant sign in lost my phone with the authenticator", "two-step-sign-in"),
    ("en", "how do I enable 2FA", "two-step-sign-in"),
    ("en", "what are recovery codes for", "two-step-sign-in"),
    ("en", "download the desktop app for windows", "install-lumen"),
    ("en", "does it work on a mac", "install-lumen"),
    ("en", "is there an app for iphone or android", "mobile-apps"),
    ("en", "it says conflicted copy next to my file", "conflicted-copies"),
    ("en", "two people edited the same file at the same time", "conflicted-copies"),
    ("en", "sync stuck uploading for hours", "sync-is-stuck"),
    ("en", "spinning arrow icon never stops", "sync-is-stuck"),
    ("en", "file not showing on my other laptop", "files-missing-on-other-device"),
    ("en", "the app won't open after update", "app-will-not-start"),
    ("en", "initial upload is taking forever", "slow-first-sync"),
    ("en", "lumen makes my video calls lag", "bandwidth-limits"),
    ("en", "limit upload speed", "bandwidth-limits"),
    ("en", "how to stop node_modules from syncing", "ignore-files"),
    ("en", "my laptop disk is full, keep folders only in the cloud", "selective-sync"),
    ("en", "send a big file to a client who has no account", "share-links"),
    ("en", "password protect a link", "share-links"),
    ("en", "give my colleagues access to a project folder", "share-a-folder"),
    ("en", "back up my entire pc", "computer-backup"),
    ("en", "how often does backup happen", "backup-schedule"),
    ("en", "I bought a new laptop, how do I move my files", "restore-to-new-computer"),
    ("en", "what is the difference between the plans", "plans-compared"),
    ("en", "update my credit card", "change-payment-method"),
    ("en", "where can I get a pdf invoice for accounting", "download-invoices"),
    ("en", "price for 150 users", "volume-licence-quote"),
    ("en", "how to cancel and what happens to my files", "cancel-subscription"),
    ("en", "I want to use a different email to log in", "change-email-address"),
    ("en", "is my data encrypted", "how-files-are-encrypted"),
    ("en", "my laptop was stolen", "remote-wipe"),
    ("en", "can my admin read my private files", "who-can-see-my-files"),
    ("en", "are my files stored in europe", "data-residency"),
    ("en", "got error L-309 what does it mean", "error-codes"),
    ("en", "our company firewall blocks lumen", "proxy-and-firewall"),
    ("en", "whats the difference between sync and backup", "what-is-lumen"),
    ("en", "does lumen upload the whole file every time I save", "how-sync-works"),
    ("en", "add a new employee to our team", "invite-members"),
    ("en", "what can a billing admin do", "roles-and-permissions"),
    ("en", "an employee left the company, what happens to his files", "offboarding"),
    ("en", "stop one person from using all the storage", "storage-quotas"),
    ("en", "log in through our company identity provider", "single-sign-on"),
    ("en", "see who deleted a file in our team", "audit-log"),
    ("en", "control lumen from the terminal", "lumen-on-the-command-line"),
    ("en", "get new features before everyone else", "preview-features"),
    ("pl", "jak przywrócić starszą wersję pliku", "restore-earlier-version"),
    ("pl", "synchronizacja stoi na wysyłaniu", "sync-is-stuck"),
    ("pl", "jak zainstalować aplikację na komputerze", "install-lumen"),
    ("pl", "jak działa synchronizacja", "how-sync-works"),
]


def measure(user) -> dict:
    """Ask every question as ``user`` through ``kb.queries.search_articles`` (the
    search page, GraphQL and suggestions share it) in its language; the share of
    questions whose article is first, and among the first three, and the misses."""
    from django.utils import translation
    from wagtail.models import Locale

    from kb import queries

    top1 = top3 = 0
    misses = []
    for language, question, slug in QUESTIONS:
        locale = Locale.objects.get(language_code=language)
        with translation.override(language):
            found = [
                a.slug
                for a in queries.search_articles(user, question, locale=locale)[:3]
            ]
        top1 += found[:1] == [slug]
        top3 += slug in found
        if slug not in found:
            misses.append({"question": question, "expected": slug, "found": found})
    total = len(QUESTIONS)
    return {
        "questions": total,
        "top1": round(top1 / total, 3),
        "top3": round(top3 / total, 3),
        "misses": misses,
    }
