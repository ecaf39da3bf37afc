-- One wrk script for every scenario. The harness passes the request through the
-- environment: BENCH_METHOD, BENCH_BODY_FILE (optional), BENCH_HEADERS ("Name: value"
-- lines) and BENCH_CHECK_BODY (a substring whose presence in a 2xx body counts as an
-- application error, e.g. "errors" for GraphQL). done() prints one JSON line.

local method = os.getenv("BENCH_METHOD") or "GET"
local body_file = os.getenv("BENCH_BODY_FILE")
local header_lines = os.getenv("BENCH_HEADERS") or ""
local check_body = os.getenv("BENCH_CHECK_BODY")

wrk.method = method
if body_file and body_file ~= "" then
  local f = assert(io.open(body_file, "rb"))
  wrk.body = f:read("*a")
  f:close()
end
for line in string.gmatch(header_lines, "[^\n]+") do
  local name, value = string.match(line, "^([^:]+):%s*(.*)$")
  if name then wrk.headers[name] = value end
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  app_errors = 0
end

if check_body and check_body ~= "" then
  function response(status, headers, body)
    if status < 400 and body and string.find(body, check_body, 1, true) then
      app_errors = app_errors + 1
    end
  end
end

function done(summary, latency, requests)
  local app = 0
  for _, thread in ipairs(threads) do
    app = app + (thread:get("app_errors") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d,"app_errors":%d,"p50_us":%d,"p95_us":%d,"p99_us":%d,' ..
    '"mean_us":%.1f,"max_us":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status,
    e.timeout, app, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.mean, latency.max))
end
