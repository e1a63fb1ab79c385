#!/usr/bin/env bash
# Scale on this machine, one run, loopback only:
#   - 1,000 tools from 20 stdio upstreams: tools/list median latency (wrk, one connection);
#   - 1,000 clients holding GET streams open at once;
#   - the engine's resident memory with all of that in place.
#   DURATION=5 ./bench/scale.sh
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${DURATION:-5}
port=${PORT:-18995}
node=$(command -v node)
make -s
root=$(mktemp -d /tmp/mcpgw-bench-XXXXXX)
chmod 755 "$root"
trap '/usr/sbin/apache2 -f "$root/httpd.conf" -k stop >/dev/null 2>&1 || true; sleep 2; rm -rf "$root"' EXIT

clients=""
for i in $(seq 1 20); do
  clients+="{\"name\":\"up$i\",\"connection_type\":\"stdio\",\"stdio_config\":{\"command\":\"$node\",\"args\":[\"$PWD/test/servers/fault-server.mjs\",\"stdio\",\"--generated\",\"50\"]},\"tools_to_execute\":[\"*\"]}"
  [ "$i" -lt 20 ] && clients+=","
done
# One virtual key that sees every tool: the keyed list is filtered per request.
grants=""
for i in $(seq 1 20); do grants+="{\"mcp_client_name\":\"up$i\",\"tools_to_execute\":[\"*\"]}"; [ "$i" -lt 20 ] && grants+=","; done
echo "{\"mcp\":{\"client_configs\":[$clients]},\"governance\":{\"virtual_keys\":[{\"name\":\"scale\",\"value\":\"vk_scale_0123456789\",\"mcp_configs\":[$grants]}]}}" > "$root/gateway.json"
# 1,000 streams need 1,000 workers, plus room for the measurements.
scripts/httpd-conf.sh "$root" "$port" "$root/gateway.json" "warn mcp_gateway:info" \
  | sed -e 's|^CustomLog.*||; s|ServerLimit 16|ServerLimit 32|; s|MaxRequestWorkers 1024|MaxRequestWorkers 2048|' \
        -e 's|MaxSpareThreads 1024|MaxSpareThreads 2048|' > "$root/httpd.conf"
ulimit -n 65536 2>/dev/null || true
/usr/sbin/apache2 -f "$root/httpd.conf" -k start
url=http://127.0.0.1:$port/mcp
sid=""
for _ in $(seq 100); do
  sid=$(bench/mcp-session.sh "$url" 2>/dev/null || true)
  n=$(curl -s "$url" -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
      -H "Mcp-Session-Id: $sid" -d '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' | grep -o '"name":"up' | wc -l || true)
  [ "$n" -ge 1000 ] && break
  sleep 0.3
done
echo "tools listed in one page: $n (20 upstreams x 50)" >&2
out=$(BODY='{"jsonrpc":"2.0","id":1,"method":"tools/list"}' SESSION="$sid" PROTO=2025-11-25 \
      wrk -t1 -c1 -d"${duration}s" -s bench/post.lua "$url" | grep '^BENCH')
echo "tools/list of 1,000 tools, one connection: $out" >&2
meta='"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}'
out=$(BODY="{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{$meta}}" PROTO=2026-07-28 \
      MCP_METHOD=tools/list KEY=vk_scale_0123456789 wrk -t1 -c1 -d"${duration}s" -s bench/post.lua "$url" | grep '^BENCH')
echo "the same through a virtual key (filtered per key): $out" >&2
engine=$(grep -o 'engine started (pid [0-9]*' "$root/error.log" | tail -1 | grep -o '[0-9]*$')
echo "engine resident memory before the streams: $(awk '/^(VmRSS|RssAnon|RssFile)/{printf "%s %.1f MB  ", $1, $2/1024}' /proc/$engine/status)" >&2
node bench/streams.mjs "$url" 1000 3000 &
streams=$!
sleep 2.5
echo "engine resident memory with 20 upstreams, 1,000 tools, 1,000 open streams: $(awk '/^(VmRSS|RssAnon|RssFile)/{printf "%s %.1f MB  ", $1, $2/1024}' /proc/$engine/status)" >&2
wait $streams
