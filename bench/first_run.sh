#!/usr/bin/env bash
# A newcomer's first run, measured: clone this repository into a temporary folder, run
# `make run` there (fresh virtualenv from requirements.lock, migrate, demo data), and time
# it until the site answers 200 on /. Then the venv's size, whether test tools are in it,
# and a clean stop (SIGINT to make's process group, as Ctrl-C in a terminal sends).
# Writes bench/results/first_run.md.
#
#   bench/first_run.sh [PORT]      (default 8765; needs network access to PyPI or a pip cache)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
port=${1:-8765}
work=$(mktemp -d /tmp/first-run.XXXXXX)
out=$repo/bench/results/first_run.md
log=$work/make-run.log

git clone --quiet "$repo" "$work/clone"
cd "$work/clone"
load_start=$(cut -d" " -f1-3 /proc/loadavg)
start=$(date +%s.%N)
# As from a terminal: its own process group, and SIGINT not ignored (a background job of
# a script starts with SIGINT ignored, and bash cannot trap a signal ignored at entry).
PORT="$port" python3 -c 'import os, signal
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.setsid()
os.execvp("make", ["make", "run"])' >"$log" 2>&1 &
pid=$!
code=000
installed=""
while kill -0 "$pid" 2>/dev/null; do
  if [ -z "$installed" ] && [ -e .venv/.installed-runtime ]; then installed=$(date +%s.%N); fi
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/" || true)
  [ "$code" = 200 ] && break
  sleep 1
done
end=$(date +%s.%N)
seconds=$(python3 -c "print(round($end - $start, 1))")
install_seconds=$(python3 -c "print(round(${installed:-$end} - $start, 1))")
setup_seconds=$(python3 -c "print(round($end - ${installed:-$end}, 1))")
venv_size=$(du -sh .venv | cut -f1)
venv_mb=$(du -sm .venv | cut -f1)
packages=$(.venv/bin/python -m pip list --format=freeze 2>/dev/null | wc -l)
test_tools=$(.venv/bin/python -m pip list --format=freeze 2>/dev/null \
  | grep -ioE '^(pytest|playwright|moto|schemathesis|hypothesis|ruff|factory.boy)[^=]*' \
  | tr '\n' ' ' || true)
stop_start=$(date +%s.%N)
kill -INT -- "-$pid" 2>/dev/null || true
for _ in $(seq 60); do grep -q '^Stopped\.$' "$log" && break; sleep 1; done
stop_seconds=$(python3 -c "print(round($(date +%s.%N) - $stop_start, 1))")
stop_tail=$(tail -n 3 "$log")
summary=$(sed -n '/Demo site ready/,/Demo password/p' "$log")
# whatever is still running after a minute (it should not be) goes too
kill -TERM -- "-$pid" 2>/dev/null || true
crashes=$(grep -cE 'Segmentation fault|No child processes|Traceback' "$log" || true)

cat >"$out" <<MD
# First run: \`make run\` in a fresh clone

Measured by \`bench/first_run.sh\` on $(date -u +%Y-%m-%d) ($(nproc) cores, load average
${load_start} at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end: the machine was shared
with other jobs, so the times are upper bounds).

| measure | value |
|---|---|
| site answers \`/\` (HTTP $code) after | ${seconds} s from \`make run\` in a fresh clone |
| of which: venv and runtime lock installed | ${install_seconds} s |
| of which: migrate, demo data, schedules, server start | ${setup_seconds} s |
| virtualenv size (\`du -sh .venv\`) | ${venv_size} (${venv_mb} MB), ${packages} packages |
| test tools in the venv | ${test_tools:-none} |
| Ctrl-C (SIGINT to make's process group) until "Stopped." | ${stop_seconds} s, ${crashes} crash lines (segfault, "No child processes", traceback) |

Pip downloads come from the local pip cache when it has them, so a first run on a new
machine also spends the download time.

What \`load_demo\` printed:

\`\`\`
${summary}
\`\`\`

Last lines of \`make run\` after Ctrl-C:

\`\`\`
${stop_tail}
\`\`\`
MD
cat "$out"
rm -rf "$work"
