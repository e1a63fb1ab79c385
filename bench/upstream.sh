#!/usr/bin/env bash
# tools/call benchmarks, one run, loopback only:
#  1. through the gateway vs straight to the same Streamable HTTP upstream
#     (@modelcontextprotocol/server-everything streamableHttp, tool "echo");
#  2. the gateway vs the npm bridges supergateway and mcp-proxy, each fronting the same
#     stdio server (server-everything stdio, tool "echo").
# Latency is measured with one connection (the added median), throughput with $CONNECTIONS.
#   DURATION=5 CONNECTIONS=16 ./bench/upstream.sh
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${DURATION:-5}
conns=${CONNECTIONS:-16}
node=$(command -v node)
everything=$PWD/node_modules/@modelcontextprotocol/server-everything/dist/index.js
port_gw=18991; port_up=18992; port_sg=18993; port_mp=18994

make -s
root=$(mktemp -d /tmp/mcpgw-bench-XXXXXX)
chmod 755 "$root"
pids=()
cleanup() {
  /usr/sbin/apache2 -f "$root/httpd.conf" -k stop >/dev/null 2>&1 || true
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 1
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$root"
}
trap cleanup EXIT

wait_port() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; return 1; }

PORT=$port_up $node "$everything" streamableHttp >/dev/null 2>&1 & pids+=($!)
node_modules/.bin/supergateway --stdio "$node $everything stdio" --outputTransport streamableHttp \
  --port $port_sg --stateful >/dev/null 2>&1 & pids+=($!)
node_modules/.bin/mcp-proxy --host 127.0.0.1 --port $port_mp --server stream -- $node "$everything" stdio \
  >/dev/null 2>&1 & pids+=($!)

cat > "$root/gateway.json" <<JSON
{"mcp":{"client_configs":[
  {"name":"up","connection_type":"http","connection_string":"http://127.0.0.1:$port_up/mcp","tools_to_execute":["echo"]},
  {"name":"local","connection_type":"stdio","stdio_config":{"command":"$node","args":["$everything","stdio"],"envs":["PATH"]},"tools_to_execute":["echo"]}
]}}
JSON
scripts/httpd-conf.sh "$root" "$port_gw" "$root/gateway.json" warn | sed 's|^CustomLog.*||' > "$root/httpd.conf"
wait_port $port_up; wait_port $port_sg; wait_port $port_mp
/usr/sbin/apache2 -f "$root/httpd.conf" -k start
wait_port $port_gw
sleep 3 # upstreams connect and list their tools

call() { # tool name
  printf '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"%s","arguments":{"message":"bench"}}}' "$1"
}
run() { # label url tool connections
  local sid out
  sid=$(bench/mcp-session.sh "$2")
  # Sanity: one call must answer the echo before we measure.
  curl -s "$2" -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
    ${sid:+-H "Mcp-Session-Id: $sid"} -H "MCP-Protocol-Version: 2025-11-25" -d "$(call "$3")" \
    | grep -q 'Echo: bench' || { echo "$1: the echo call failed" >&2; return 1; }
  out=$(BODY="$(call "$3")" SESSION="$sid" PROTO=2025-11-25 \
        wrk -t1 -c"$4" -d"${duration}s" -s bench/post.lua "$2" | grep '^BENCH')
  printf '%-34s c=%-3s %s\n' "$1" "$4" "$out" >&2
  echo "$out"
}
field() { echo "$1" | sed "s/.*$2=\([0-9.]*\).*/\1/"; }

echo "== tools/call: gateway vs the Streamable HTTP upstream itself (wrk, ${duration}s each)" >&2
d1=$(run "direct upstream" "http://127.0.0.1:$port_up/mcp" echo 1)
g1=$(run "gateway -> upstream" "http://127.0.0.1:$port_gw/mcp" up_echo 1)
dN=$(run "direct upstream" "http://127.0.0.1:$port_up/mcp" echo "$conns")
gN=$(run "gateway -> upstream" "http://127.0.0.1:$port_gw/mcp" up_echo "$conns")
awk -v d="$(field "$d1" p50_us)" -v g="$(field "$g1" p50_us)" -v dr="$(field "$dN" rps)" -v gr="$(field "$gN" rps)" \
  'BEGIN { printf "added median latency: %d us   throughput kept: %.0f%%\n\n", g - d, 100 * gr / dr }' >&2

echo "== tools/call: fronting one stdio server (server-everything stdio, echo)" >&2
gs=$(run "mod_mcp_gateway" "http://127.0.0.1:$port_gw/mcp" local_echo "$conns")
sg=$(run "supergateway (stateful)" "http://127.0.0.1:$port_sg/mcp" echo "$conns")
mp=$(run "mcp-proxy" "http://127.0.0.1:$port_mp/mcp" echo "$conns")
gs1=$(run "mod_mcp_gateway" "http://127.0.0.1:$port_gw/mcp" local_echo 1)
sg1=$(run "supergateway (stateful)" "http://127.0.0.1:$port_sg/mcp" echo 1)
mp1=$(run "mcp-proxy" "http://127.0.0.1:$port_mp/mcp" echo 1)
printf '\n| bridge | calls/s (c=%s) | median us (c=1) |\n|---|---|---|\n' "$conns"
printf '| mod_mcp_gateway | %s | %s |\n' "$(field "$gs" rps)" "$(field "$gs1" p50_us)"
printf '| supergateway | %s | %s |\n' "$(field "$sg" rps)" "$(field "$sg1" p50_us)"
printf '| mcp-proxy | %s | %s |\n' "$(field "$mp" rps)" "$(field "$mp1" p50_us)"
