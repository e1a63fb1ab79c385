#!/usr/bin/env bash
# Runs httpd (one process, -X) and its engine under valgrind, drives the gateway through
# sessions, tool calls, progress, a GET stream, the stateless revision, virtual keys and the
# admin API, stops it, and fails on any invalid memory access or definite leak reported for
# either process. Loopback only; bounded in time.
set -euo pipefail
cd "$(dirname "$0")/.."
make -s
root=$(mktemp -d /tmp/mcpgw-valgrind-XXXXXX)
chmod 755 "$root"
port=${PORT:-18777}
node=$(command -v node)
fault=$PWD/test/servers/fault-server.mjs
cat > "$root/gateway.json" <<JSON
{"mcp":{"client_configs":[{"name":"a","connection_type":"stdio","stdio_config":{"command":"$node","args":["$fault","stdio"],"envs":["PATH"]},"tools_to_execute":["*"]}]},
 "governance":{"virtual_keys":[{"name":"k","value":"vk_valgrind_123456","mcp_configs":[{"mcp_client_name":"a","tools_to_execute":["echo"]}]}]}}
JSON
scripts/httpd-conf.sh "$root" "$port" "$root/gateway.json" info "" \
  "$(printf '<Location /api/mcp>\n SetHandler mcp-gateway-admin\n MCPGatewayAdminAllowAnonymous On\n MCPGatewayAdminAllowCommand %s\n</Location>' "$node")" \
  > "$root/httpd.conf"

valgrind --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
  --log-file="$root/vg.%p.log" /usr/sbin/apache2 -X -f "$root/httpd.conf" >/dev/null 2>&1 &
vg=$!
for _ in $(seq 300); do curl -fs -o /dev/null "http://127.0.0.1:$port/api/mcp/clients" && break; sleep 0.2; done

url=http://127.0.0.1:$port/mcp
h=(-H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream')
sid=$(curl -s -D - -o /dev/null "$url" "${h[@]}" -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25"}}' \
      | awk 'tolower($1)=="mcp-session-id:"{print $2}' | tr -d '\r')
for i in 1 2 3; do
  curl -s -o /dev/null "$url" "${h[@]}" -H "Mcp-Session-Id: $sid" -d '{"jsonrpc":"2.0","id":2,"method":"tools/list"}'
  curl -s -o /dev/null "$url" "${h[@]}" -H "Mcp-Session-Id: $sid" -d '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"a_echo","arguments":{"text":"v"}}}'
done
curl -s -o /dev/null "$url" "${h[@]}" -H "Mcp-Session-Id: $sid" -d '{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"a_slow","arguments":{"ms":50},"_meta":{"progressToken":1}}}'
curl -s -o /dev/null "$url" "${h[@]}" -H 'X-Api-Key: vk_valgrind_123456' -H 'MCP-Protocol-Version: 2026-07-28' -H 'Mcp-Method: tools/list' \
  -d '{"jsonrpc":"2.0","id":5,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}'
timeout 2 curl -sN -o /dev/null "$url" -H 'Accept: text/event-stream' || true
curl -s -o /dev/null -X POST "http://127.0.0.1:$port/api/mcp/client" -d "{\"name\":\"dies\",\"connection_type\":\"stdio\",\"stdio_config\":{\"command\":\"$node\",\"args\":[\"-e\",\"process.exit(1)\"]}}"
curl -s -o /dev/null -X POST "http://127.0.0.1:$port/api/mcp/key" -d '{"name":"k2"}'
curl -s -o /dev/null -X DELETE "http://127.0.0.1:$port/api/mcp/key/k2"
curl -s -o /dev/null -X DELETE "$url" -H "Mcp-Session-Id: $sid"
curl -s -o /dev/null "$url" "${h[@]}" -d '{bad'
kill -TERM "$(cat "$root/httpd.pid")"
wait $vg || true
sleep 1

status=0
for log in "$root"/vg.*.log; do
  summary=$(grep -E 'ERROR SUMMARY' "$log" | tail -1)
  echo "$(basename "$log"): $summary"
  if grep -qE 'Invalid (read|write|free)|Process terminating' "$log" ||
     ! grep -qE 'ERROR SUMMARY: 0 errors' "$log"; then
    grep -B3 -A20 -E 'Invalid|definitely lost in' "$log" | head -80
    status=1
  fi
done
[ $status -eq 0 ] && rm -rf "$root"
exit $status
