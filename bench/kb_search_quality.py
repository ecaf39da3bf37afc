"""KB search quality: how many of the customers' questions in
``kb/tests/search_questions.py`` find their article first (top-1) and among the first
three results (top-3), on the demo knowledge base.

    .venv/bin/python bench/kb_search_quality.py                 # SQLite
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_me .venv/bin/python bench/kb_search_quality.py

Runs the question-set test (which asserts top-3 >= 90 %) and writes
``bench/results/kb-search-quality-<database>.json``."""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    with tempfile.TemporaryDirectory() as scratch:
        target = Path(scratch) / "result.json"
        env = {**os.environ, "KB_SEARCH_RESULTS": str(target)}
        code = subprocess.call(
            [
                sys.executable,
                "-m",
                "pytest",
                "-n",
                "0",
                "-q",
                "-p",
                "no:cacheprovider",
                "kb/tests/test_search_questions.py",
            ],
            cwd=ROOT,
            env=env,
        )
        if not target.exists():
            return code or 1
        result = json.loads(target.read_text())
    out = ROOT / "bench" / "results" / f"kb-search-quality-{result['database']}.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(
        f"{result['questions']} questions on {result['database']}: "
        f"top-1 {result['top1']:.1%}, top-3 {result['top3']:.1%} -> {out}"
    )
    return code


if __name__ == "__main__":
    sys.exit(main())
