/* The MCP server the gateway presents downstream: turns one HTTP request (already past
 * the stateless checks of mcpgw_http_rules) into JSON-RPC replies. Sessions, version
 * negotiation, the stateless revision and method dispatch all live here; tool calls are
 * handed to the upstream layer through a hook and answered later. */
#ifndef MCPGW_MCP_SERVER_H
#define MCPGW_MCP_SERVER_H

#include "mcpgw_catalog.h"
#include "mcpgw_exchange.h"
#include "mcpgw_session.h"

#include <apr_pools.h>
#include <jansson.h>

typedef struct mcpgw_mcp_server_t mcpgw_mcp_server_t;

/* A tools/call on its way to an upstream. Strings live in the exchange's pool. */
typedef struct mcpgw_tool_call_t {
    mcpgw_exchange_t *exchange;
    unsigned slot;
    json_t *request_id;      /* the client's id (owned by the exchange pool) */
    const char *upstream;
    const char *tool_name;   /* the upstream's name */
    json_t *arguments;       /* may be NULL */
    json_t *progress_token;  /* NULL unless the client asked for progress */
    const char *principal;
    const char *session_id;  /* the session it was made in (NULL when stateless) */
    void *upstream_data;     /* the upstream layer's handle while the call is out */
    int finished;
} mcpgw_tool_call_t;

/* Passes a progress notification from the upstream to the caller (when it listens). */
void mcpgw_tool_call_progress(mcpgw_tool_call_t *call, json_t *params);

/* Starts a call; the upstream layer answers later with mcpgw_tool_call_finish(). */
typedef void (*mcpgw_start_tool_call_fn)(mcpgw_tool_call_t *call, void *baton);

typedef struct {
    const char *name;          /* serverInfo.name */
    const char *version;       /* serverInfo.version */
    const char *instructions;  /* NULL for none */
    unsigned max_sessions;
    apr_interval_time_t session_idle_timeout;
    mcpgw_start_tool_call_fn start_tool_call;
    void *start_tool_call_baton;
    /* A client's notifications/cancelled for one of its calls (session revisions). */
    void (*cancel_request)(const char *session_id, const json_t *request_id, void *baton);
    void *cancel_request_baton;
    /* Virtual-key filtering: whether the caller's key may see a tool. NULL shows all. */
    int (*tool_visible)(const char *key, const mcpgw_catalog_tool_t *tool, void *baton);
    void *tool_visible_baton;
} mcpgw_mcp_server_options_t;

/* An HTTP request as the engine received it from a child. */
typedef struct {
    const char *http_method;
    const char *session_id;       /* Mcp-Session-Id */
    const char *protocol_version; /* MCP-Protocol-Version */
    const char *mcp_method;       /* Mcp-Method (stateless revision) */
    const char *mcp_name;         /* Mcp-Name (stateless revision) */
    const char *accept;
    const char *principal;        /* the authenticated user (r->user), NULL when anonymous */
    const char *key;              /* the virtual key's name when one authenticated the caller */
    const char *body;
    apr_size_t body_len;
} mcpgw_mcp_request_t;

mcpgw_mcp_server_t *mcpgw_mcp_server_create(apr_pool_t *pool,
                                            const mcpgw_mcp_server_options_t *options);

mcpgw_session_store_t *mcpgw_mcp_server_sessions(mcpgw_mcp_server_t *server);

/* Installs a new catalog (the server takes ownership and destroys the previous one). */
void mcpgw_mcp_server_set_catalog(mcpgw_mcp_server_t *server, mcpgw_catalog_t *catalog);
mcpgw_catalog_t *mcpgw_mcp_server_catalog(mcpgw_mcp_server_t *server);

/* Handles a POST. Fills ex (status, session id, replies). Replies still pending when it
 * returns are deferred tool calls: ex->on_done fires when the last one arrives. */
void mcpgw_mcp_server_post(mcpgw_mcp_server_t *server, const mcpgw_mcp_request_t *req,
                           mcpgw_exchange_t *ex);

/* Resolves the session of a GET or DELETE. Returns the HTTP status to answer with when the
 * request must be refused (400 missing id for DELETE, 404 unknown) or 0, with *session set
 * (NULL for a GET without a session). */
int mcpgw_mcp_server_session_for(mcpgw_mcp_server_t *server, const mcpgw_mcp_request_t *req,
                                 int required, mcpgw_session_t **session);

/* The upstream layer's answer to a call: exactly one of result and error is non-NULL
 * (both stolen). An error is a JSON-RPC error object. */
void mcpgw_tool_call_finish(mcpgw_tool_call_t *call, json_t *result, json_t *error);

/* A failed call in the shape clients expect: an isError result with one text block. */
json_t *mcpgw_tool_error_result(const char *message);

/* The first event of a GET stream, as the reference gateway sends it. */
const char *mcpgw_mcp_server_stream_opened_event(void);

#endif
