#!/usr/bin/env bash
# Measures the gateway against the ceiling of this machine, in one run:
#   - a fixed-response C handler in the same httpd (bench/mod_bench_fixed.c),
#   - /mcp tools/list, ping and initialize through the gateway (child -> engine -> child).
# Prints requests/s, median latency and the ratio gateway/ceiling. Loopback only.
#   DURATION=5 CONNECTIONS=16 ./bench/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${DURATION:-5}
conns=${CONNECTIONS:-16}
port=${PORT:-18990}

make -s
root=$(mktemp -d /tmp/mcpgw-bench-XXXXXX)
chmod 755 "$root"
trap '/usr/sbin/apache2 -f "$root/httpd.conf" -k stop >/dev/null 2>&1 || true; sleep 1; rm -rf "$root"' EXIT

# The ceiling module, built outside the tree.
cp bench/mod_bench_fixed.c "$root/"
(cd "$root" && apxs -c mod_bench_fixed.c >/dev/null 2>&1)

echo '{"mcp":{"client_configs":[]},"governance":{"virtual_keys":[{"name":"bench","value":"vk_bench_key_0123456789","mcp_configs":[]}]}}' > "$root/gateway.json"
scripts/httpd-conf.sh "$root" "$port" "$root/gateway.json" warn \
  "LoadModule bench_fixed_module $root/.libs/mod_bench_fixed.so" \
  "$(printf '<Location /fixed>\n    SetHandler bench-fixed\n</Location>')" \
  | sed 's|^CustomLog.*||' > "$root/httpd.conf"
/usr/sbin/apache2 -f "$root/httpd.conf" -k start
for _ in $(seq 50); do curl -fs -o /dev/null "http://127.0.0.1:$port/fixed" -d x && break; sleep 0.1; done
sleep 0.5

url=http://127.0.0.1:$port
sid=$(curl -si "$url/mcp" -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
      -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}' \
      | awk 'tolower($1)=="mcp-session-id:"{print $2}' | tr -d '\r')

run() { # name path body [session] [protocol version] [mcp method] [virtual key]
  local out
  out=$(BODY="$3" SESSION="${4:-}" PROTO="${5:-}" MCP_METHOD="${6:-}" KEY="${7:-}" \
        wrk -t1 -c"$conns" -d"${duration}s" -s bench/post.lua "$url$2" | grep '^BENCH')
  printf '%-28s %s\n' "$1" "$out" >&2
  echo "$out" | sed 's/.*rps=\([0-9.]*\).*/\1/'
}

echo "wrk: 1 thread, $conns connections, ${duration}s each, loopback, event MPM" >&2
fixed=$(run "fixed C handler (ceiling)" /fixed '{"jsonrpc":"2.0","id":1,"method":"tools/list"}')
list=$(run "gateway tools/list" /mcp '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' "$sid")
ping=$(run "gateway ping" /mcp '{"jsonrpc":"2.0","id":1,"method":"ping"}' "$sid")
init=$(run "gateway initialize" /mcp '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"b","version":"1"}}}')
meta='"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}'
stateless=$(run "gateway tools/list 2026" /mcp "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{$meta}}" "" 2026-07-28 tools/list)
keyed=$(run "gateway tools/list 2026, key" /mcp "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{$meta}}" "" 2026-07-28 tools/list vk_bench_key_0123456789)

awk -v f="$fixed" -v l="$list" -v p="$ping" -v i="$init" -v s="$stateless" -v k="$keyed" 'BEGIN {
  printf "\nratio gateway/ceiling: tools/list %.2f  ping %.2f  initialize %.2f  tools/list(2026) %.2f  with a virtual key %.2f\n", l/f, p/f, i/f, s/f, k/f }'
