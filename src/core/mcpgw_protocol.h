/* MCP protocol revisions the gateway speaks downstream, and how one is chosen. */
#ifndef MCPGW_PROTOCOL_H
#define MCPGW_PROTOCOL_H

#include <jansson.h>

/* The revision without initialize or sessions: every request carries its own _meta. */
#define MCPGW_PROTOCOL_STATELESS "2026-07-28"
#define MCPGW_PROTOCOL_LATEST_SESSION "2025-11-25"
/* What a Streamable HTTP request without MCP-Protocol-Version is assumed to speak. */
#define MCPGW_PROTOCOL_HTTP_DEFAULT "2025-03-26"

/* Newest first. NULL-terminated. */
extern const char *const mcpgw_protocol_versions[];

int mcpgw_protocol_is_supported(const char *version);

/* 1 when the revision is a session revision (initialize + Mcp-Session-Id). */
int mcpgw_protocol_uses_sessions(const char *version);

/* Revisions before 2025-06-18 still accept JSON-RPC batches. */
int mcpgw_protocol_allows_batch(const char *version);

/* The version to answer an initialize with: the client's own when we speak it, else the
 * newest session revision we speak (the client then decides whether to carry on). */
const char *mcpgw_protocol_negotiate(const char *requested);

/* A JSON array of the supported versions, newest first (new reference). */
json_t *mcpgw_protocol_versions_json(void);

#endif
