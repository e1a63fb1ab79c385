-- wrk script: POSTs the body in env BODY with MCP headers (and SESSION when set).
wrk.method = "POST"
wrk.body = os.getenv("BODY")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
local sid = os.getenv("SESSION")
if sid and sid ~= "" then wrk.headers["Mcp-Session-Id"] = sid end
local ver = os.getenv("PROTO")
if ver and ver ~= "" then wrk.headers["MCP-Protocol-Version"] = ver end
local key = os.getenv("KEY")
if key and key ~= "" then wrk.headers["X-Api-Key"] = key end
local m = os.getenv("MCP_METHOD")
if m and m ~= "" then wrk.headers["Mcp-Method"] = m end

function done(summary, latency, requests)
  io.write(string.format("BENCH rps=%.1f p50_us=%d p99_us=%d errors=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50), latency:percentile(99),
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
