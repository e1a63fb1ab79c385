/* The HTTP-level rules of the Streamable HTTP transport that need no state: allowed
 * methods, Content-Type, Accept and Origin. (MCP-Protocol-Version is judged by the engine:
 * the stateless revision answers a bad one with the request's own id.) httpd children apply them before
 * anything crosses to the engine, so a bad request costs no IPC round trip. */
#ifndef MCPGW_HTTP_RULES_H
#define MCPGW_HTTP_RULES_H

#include <apr_pools.h>
#include <apr_tables.h>

typedef struct {
    const char *method;           /* "POST", "GET", "DELETE", ... */
    const char *accept;           /* NULL when absent */
    const char *content_type;
    const char *origin;
    const char *host;             /* Host header */
    const char *protocol_version; /* MCP-Protocol-Version */
} mcpgw_http_head_t;

typedef struct {
    /* Exact origins ("https://app.example.com") the operator allows; NULL or empty means
     * the default: loopback origins and the server's own names. */
    const apr_array_header_t *allowed_origins;
    /* Host names of this server (ServerName, ServerAlias) that count as same-origin. */
    const apr_array_header_t *own_hosts;
} mcpgw_origin_policy_t;

/* A rejection: HTTP status plus a one-line reason for the JSON-RPC error body. */
typedef struct {
    int status;        /* 0 when the request may proceed */
    const char *reason;
    const char *allow; /* the Allow header value for 405 */
} mcpgw_http_verdict_t;

void mcpgw_http_rules_check(apr_pool_t *pool, const mcpgw_http_head_t *head,
                            const mcpgw_origin_policy_t *policy, mcpgw_http_verdict_t *out);

/* 1 when the Accept header admits the media type (wildcards and q=0 honoured).
 * An absent header admits everything. */
int mcpgw_http_accepts(const char *accept, const char *media_type);

/* 1 when the origin ("scheme://host[:port]") passes the policy. */
int mcpgw_http_origin_allowed(const char *origin, const mcpgw_origin_policy_t *policy);

#endif
