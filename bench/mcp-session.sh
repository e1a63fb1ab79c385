#!/usr/bin/env bash
# Prints the Mcp-Session-Id an MCP server at $1 hands out for an initialize at revision
# ${2:-2025-11-25} (the one the gateway itself negotiates with upstreams) (empty when it
# runs without sessions), after sending notifications/initialized as a client must.
set -euo pipefail
url=$1
version=${2:-2025-11-25}
hdrs=$(curl -s -D - -o /dev/null "$url" -H 'Content-Type: application/json' \
  -H 'Accept: application/json, text/event-stream' \
  -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"'"$version"'","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}')
sid=$(printf '%s' "$hdrs" | awk 'tolower($1)=="mcp-session-id:"{print $2}' | tr -d '\r')
curl -s -o /dev/null "$url" -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
  ${sid:+-H "Mcp-Session-Id: $sid"} -H "MCP-Protocol-Version: $version" \
  -d '{"jsonrpc":"2.0","method":"notifications/initialized"}'
printf '%s' "$sid"
