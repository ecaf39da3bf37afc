"""Lighthouse scores of the public pages, served as in production.

    .venv/bin/python bench/lighthouse.py [--runs 3] [--port 8790] [--preset mobile|desktop]

Installs Lighthouse from npm into bench/lighthouse/node_modules (pinned in
bench/lighthouse/package-lock.json; 12.x because this machine's Node.js 20 cannot run
13), builds a throw-away production site in a temporary folder (production settings,
DEBUG off, SQLite, the demo data, collectstatic, gunicorn with whitenoise), and audits
the home page, the knowledge-base index, an article and the customer's ticket list
(signed in as the demo customer alice@acme.example: a session made by Django is passed
to Lighthouse as a cookie header) with Debian's Chromium (CHROME_PATH=/usr/bin/chromium).
Scores and every audit that cost points go to bench/results/lighthouse.{json,md}.
"""

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIGHTHOUSE_DIR = ROOT / "bench" / "lighthouse"
LIGHTHOUSE = LIGHTHOUSE_DIR / "node_modules" / ".bin" / "lighthouse"
RESULTS = ROOT / "bench" / "results"
PYTHON = sys.executable
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
CUSTOMER = "alice@acme.example"

# Finds the pages to audit and signs the demo customer in (a session row, as a login
# would leave); prints them as one JSON line.
PREPARE = f"""
import json
from django.test import Client
from django.contrib.auth import get_user_model
from kb.models import ArticlePage, KnowledgeBasePage
kb = KnowledgeBasePage.objects.live().public().filter(locale__language_code="en").first()
article = (
    ArticlePage.objects.live().public().descendant_of(kb).order_by("path").first()
)
client = Client()
client.force_login(get_user_model().objects.get(email="{CUSTOMER}"))
print(json.dumps({{
    "kb": kb.get_url(),
    "article": article.get_url(),
    "session": client.cookies["sessionid"].value,
}}))
"""


def ensure_lighthouse():
    if not LIGHTHOUSE.exists():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"], cwd=LIGHTHOUSE_DIR, check=True
        )
    return subprocess.run(
        [str(LIGHTHOUSE), "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()


def production_env(workdir, port):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_", "REDIS_", "AWS_", "SENTRY_", "EMAIL_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings.production",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=f"sqlite:///{workdir}/db.sqlite3",
        MEDIA_ROOT=str(workdir / "media"),
        PRIVATE_MEDIA_ROOT=str(workdir / "media-private"),
        ATTACHMENT_ENCRYPTION="off",
        # plain HTTP on the loopback, as a local trial would be
        SECURE_SSL_REDIRECT="false",
        SECURE_HSTS_SECONDS="0",
        SECURE_COOKIES="false",
        MFA_REQUIRED_FOR_STAFF="false",
        EMAIL_URL="console://",
        LOG_LEVEL="WARNING",
        WAGTAILADMIN_BASE_URL=f"http://127.0.0.1:{port}",
    )
    return env


def manage(env, *args, capture=False):
    return subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        text=True,
        stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
    ).stdout


def wait_until_served(url, server, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"{url} did not answer within {timeout} s")


def audit(url, preset, report_path, cookie=None):
    command = [
        str(LIGHTHOUSE),
        url,
        "--quiet",
        "--output=json",
        f"--output-path={report_path}",
        f"--only-categories={','.join(CATEGORIES)}",
        "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
    ]
    if preset == "desktop":
        command.append("--preset=desktop")
    if cookie:
        command.append("--extra-headers=" + json.dumps({"Cookie": cookie}))
    env = {
        **os.environ,
        "CHROME_PATH": os.environ.get("CHROME_PATH", "/usr/bin/chromium"),
    }
    # On a loaded machine Lighthouse sometimes loses the trace (NO_NAVSTART): try again.
    for attempt in range(3):
        if subprocess.run(command, env=env).returncode == 0:
            return json.loads(report_path.read_text())
        print(f"Lighthouse failed on {url} (attempt {attempt + 1})", flush=True)
    raise SystemExit(f"Lighthouse failed three times on {url}")


def summarize(name, path, report):
    scores = {
        category: round(report["categories"][category]["score"] * 100)
        for category in CATEGORIES
    }
    lost = []
    for category in CATEGORIES:
        for ref in report["categories"][category]["auditRefs"]:
            result = report["audits"][ref["id"]]
            score = result.get("score")
            if ref["weight"] and score is not None and score < 1:
                items = (result.get("details") or {}).get("items") or []
                lost.append(
                    {
                        "category": category,
                        "audit": ref["id"],
                        "title": result["title"],
                        "score": score,
                        "value": result.get("displayValue", ""),
                        "items": [json.dumps(item)[:400] for item in items[:5]],
                    }
                )
    metrics = {
        key: report["audits"][key]["displayValue"]
        for key in (
            "first-contentful-paint",
            "largest-contentful-paint",
            "total-blocking-time",
            "cumulative-layout-shift",
        )
        if key in report["audits"]
    }
    return {
        "page": name,
        "path": path,
        "scores": scores,
        "metrics": metrics,
        "lost": lost,
        "warnings": report.get("runWarnings", []),
    }


def write_results(summary):
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "lighthouse.json").write_text(json.dumps(summary, indent=2) + "\n")
    lines = [
        "# Lighthouse",
        "",
        f"Lighthouse {summary['lighthouse']}, {summary['preset']} preset, median of "
        f"{summary['runs']} run(s) per page by performance, Debian "
        f"Chromium, {summary['date']}; the site served as in production "
        "(`bench/lighthouse.py`: gunicorn, whitenoise, DEBUG off, demo data, SQLite). "
        f"Load average before the run: {summary['load_average']} on "
        f"{summary['cores']} cores (a shared machine).",
        "",
        "| page | path | performance | accessibility | best practices | SEO "
        "| FCP | LCP | TBT | CLS |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for page in summary["pages"]:
        s, m = page["scores"], page["metrics"]
        lines.append(
            f"| {page['page']} | `{page['path']}` | {s['performance']} "
            f"| {s['accessibility']} | {s['best-practices']} | {s['seo']} "
            f"| {m.get('first-contentful-paint', '')} "
            f"| {m.get('largest-contentful-paint', '')} "
            f"| {m.get('total-blocking-time', '')} "
            f"| {m.get('cumulative-layout-shift', '')} |"
        )
    lost = [(page["page"], item) for page in summary["pages"] for item in page["lost"]]
    lines += ["", "## Audits that cost points", ""]
    if not lost:
        lines.append("None: every weighted audit passed on every page.")
    for page, item in lost:
        value = f" ({item['value']})" if item["value"] else ""
        lines.append(
            f"- {page}, {item['category']}: `{item['audit']}` {item['title']} "
            f"— score {item['score']}{value}"
        )
        lines += [f"  - `{detail}`" for detail in item.get("items", [])]
    (RESULTS / "lighthouse.md").write_text("\n".join(lines) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8790)
    parser.add_argument("--preset", choices=("mobile", "desktop"), default="mobile")
    parser.add_argument(
        "--runs",
        type=int,
        default=1,
        help="audit each page this often and keep the run with the median performance",
    )
    parser.add_argument(
        "--keep",
        type=Path,
        help="build the site in this folder and keep it (reused when it exists)",
    )
    args = parser.parse_args()

    version = ensure_lighthouse()
    load_average = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    reuse = bool(args.keep and (args.keep / "db.sqlite3").exists())
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="lighthouse-"))
    workdir.mkdir(parents=True, exist_ok=True)
    env = production_env(workdir, args.port)
    base = f"http://127.0.0.1:{args.port}"
    server = None
    try:
        if not reuse:
            manage(env, "migrate", "--noinput")
            manage(env, "load_demo")
        manage(env, "collectstatic", "--noinput")
        output = manage(env, "shell", "-c", PREPARE, capture=True)
        pages = json.loads(output.strip().splitlines()[-1])
        server = subprocess.Popen(
            [
                PYTHON,
                "-m",
                "gunicorn",
                "portal.wsgi",
                f"--bind=127.0.0.1:{args.port}",
                "--workers=2",
            ],
            cwd=ROOT,
            env=env,
        )
        wait_until_served(base + "/", server)
        cookie = f"sessionid={pages['session']}"
        targets = [
            ("Home", "/", None),
            ("Knowledge base", pages["kb"], None),
            ("Article", pages["article"], None),
            ("Portal ticket list (alice)", "/portal/tickets/", cookie),
        ]
        results = []
        for index, (name, path, page_cookie) in enumerate(targets):
            reports = sorted(
                (
                    audit(
                        base + path,
                        args.preset,
                        workdir / f"report-{index}-{run}.json",
                        page_cookie,
                    )
                    for run in range(args.runs)
                ),
                key=lambda report: report["categories"]["performance"]["score"],
            )
            report = reports[len(reports) // 2]
            if report["finalDisplayedUrl"].split("?")[0] != base + path:
                raise SystemExit(f"{path} ended at {report['finalDisplayedUrl']}")
            results.append(summarize(name, path, report))
            print(name, results[-1]["scores"], flush=True)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    write_results(
        {
            "lighthouse": version,
            "preset": args.preset,
            "runs": args.runs,
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "load_average": load_average,
            "cores": os.cpu_count(),
            "pages": results,
        }
    )


if __name__ == "__main__":
    main()
