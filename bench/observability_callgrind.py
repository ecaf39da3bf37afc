"""Instructions per request of the observability middleware on ``GET /ping``, counted
by ``valgrind --tool=callgrind``: the same count however loaded the machine is, where
CPU time on 2 shared cores moves by 10-20 % from run to run.

One process (``portal.settings.production``, the handlers of
``bench/observability_overhead.py``) warms each variant up, then runs interleaved
batches of N requests; ``os.getppid()`` between batches makes callgrind dump its
counters (``--dump-before=getppid``), so each dump holds one batch.

    .venv/bin/python bench/observability_callgrind.py [--requests 200] [--rounds 2]
    .venv/bin/python bench/observability_callgrind.py --parse DIR   # an earlier run

Slow: Django's start under valgrind takes minutes (more on a loaded machine). Writes
``bench/results/observability-callgrind.json``.
"""

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
TOTALS = re.compile(r"^(?:summary|totals): (\d+)", re.MULTILINE)


def child(requests: int, rounds: int, phases_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    import observability_overhead as bench

    tmp = Path(tempfile.mkdtemp(prefix="bench-callgrind-"))
    bench.configure_environment(tmp, tmp / "requests.log")
    import django

    django.setup()
    variants = bench.handlers()
    for handler, enter, leave in variants.values():
        enter()
        bench.run_batch(handler, 100)
        leave()
    phases = ["setup"]
    os.getppid()  # dump: everything up to here
    random.seed(1)
    for _ in range(rounds):
        order = list(variants)
        random.shuffle(order)
        for name in order:
            handler, enter, leave = variants[name]
            enter()
            bench.run_batch(handler, requests)
            leave()
            os.getppid()  # dump: this batch
            phases.append(name)
    phases_path.write_text(json.dumps({"requests": requests, "phases": phases}))


def parse(directory: Path) -> dict:
    meta = json.loads((directory / "phases.json").read_text())
    dumps = sorted(
        directory.glob("cg.out.*"), key=lambda p: int(p.name.rsplit(".", 1)[-1])
    )
    counts = [int(TOTALS.search(p.read_text()).group(1)) for p in dumps]
    per_variant: dict[str, list[float]] = {}
    for name, count in zip(meta["phases"][1:], counts[1:], strict=False):
        per_variant.setdefault(name, []).append(count / meta["requests"])
    ir = {name: min(values) for name, values in per_variant.items()}
    base = ir["without"]
    return {
        "tool": "valgrind --tool=callgrind (instructions executed, Ir)",
        "requests_per_batch": meta["requests"],
        "batches": {name: len(v) for name, v in per_variant.items()},
        "ir_per_request": {name: round(v) for name, v in ir.items()},
        "ir_per_request_all": {
            name: [round(x) for x in v] for name, v in per_variant.items()
        },
        "cost_vs_without": {
            name: round(1 - base / value, 4) for name, value in ir.items()
        },
        # the share of the rate: the middleware adds (v - base) to each request
        "metrics_middleware_cost": round(1 - base / ir["no_log_line"], 4),
        "whole_stack_cost": round(1 - base / ir["full"], 4),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--parse", help="directory of an earlier run's dumps")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--phases", help=argparse.SUPPRESS)
    parser.add_argument("--output", default=str(RESULTS / "observability-callgrind"))
    args = parser.parse_args()
    if args.child:
        child(args.requests, args.rounds, Path(args.phases))
        return
    if args.parse:
        directory = Path(args.parse)
    else:
        if not shutil.which("valgrind"):
            raise SystemExit("valgrind is not installed (apt-get install valgrind)")
        directory = Path(tempfile.mkdtemp(prefix="bench-callgrind-out-"))
        subprocess.run(  # noqa: S603
            [  # noqa: S607
                "valgrind",
                "--tool=callgrind",
                "--dump-before=getppid",
                f"--callgrind-out-file={directory / 'cg.out'}",
                sys.executable,
                __file__,
                "--child",
                f"--requests={args.requests}",
                f"--rounds={args.rounds}",
                f"--phases={directory / 'phases.json'}",
            ],
            env={**os.environ, "PYTHONHASHSEED": "0"},
            check=True,
        )
    result = parse(directory)
    Path(args.output).with_suffix(".json").write_text(
        json.dumps(result, indent=2) + "\n"
    )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
