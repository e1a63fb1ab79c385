/* One upstream MCP server seen from the gateway: the client side of the protocol. It
 * initializes with the newest revision both sides know, keeps the server's tool list
 * (following nextCursor and notifications/tools/list_changed), multiplexes any number of
 * concurrent requests over one transport by renumbering their ids, times them out, and
 * forwards progress and cancellation. Lives on the engine's loop thread. */
#ifndef MCPGW_UPSTREAM_H
#define MCPGW_UPSTREAM_H

#include "mcpgw_config.h"
#include "mcpgw_loop.h"

#include <apr_pools.h>
#include <jansson.h>

typedef enum {
    MCPGW_UPSTREAM_CONNECTING,
    MCPGW_UPSTREAM_CONNECTED,
    MCPGW_UPSTREAM_DISCONNECTED,
    MCPGW_UPSTREAM_ERROR
} mcpgw_upstream_state_e;

typedef struct mcpgw_upstream_t mcpgw_upstream_t;
typedef struct mcpgw_upstream_call_t mcpgw_upstream_call_t;

/* The registry's hook: state or tool list changed. */
typedef void (*mcpgw_upstream_changed_fn)(mcpgw_upstream_t *u, void *baton);

/* A request's outcome: exactly one of result and error (a JSON-RPC error object) is set;
 * both references are the callee's to keep or release. */
typedef void (*mcpgw_upstream_reply_fn)(void *baton, json_t *result, json_t *error);
typedef void (*mcpgw_upstream_progress_fn)(void *baton, json_t *params);

/* Error codes of failures the gateway itself detects (JSON-RPC implementation range). */
#define MCPGW_UPSTREAM_ERR_TIMEOUT      (-32001)
#define MCPGW_UPSTREAM_ERR_DISCONNECTED (-32002)

mcpgw_upstream_t *mcpgw_upstream_create(apr_pool_t *parent, const mcpgw_upstream_config_t *cfg,
                                        const mcpgw_loop_t *loop,
                                        apr_interval_time_t request_timeout,
                                        mcpgw_upstream_changed_fn on_change, void *baton);
void mcpgw_upstream_start(mcpgw_upstream_t *u);
/* Stops the transport (killing a stdio server's process group); pending requests fail. */
void mcpgw_upstream_stop(mcpgw_upstream_t *u, const char *reason);
void mcpgw_upstream_destroy(mcpgw_upstream_t *u);

mcpgw_upstream_state_e mcpgw_upstream_state(const mcpgw_upstream_t *u);
const char *mcpgw_upstream_state_name(mcpgw_upstream_state_e state);
const char *mcpgw_upstream_name(const mcpgw_upstream_t *u);
const mcpgw_upstream_config_t *mcpgw_upstream_config(const mcpgw_upstream_t *u);
/* The server's tools as last listed (borrowed), NULL before the first list. */
json_t *mcpgw_upstream_tools(const mcpgw_upstream_t *u);

/* Sends a request. params is stolen. With on_progress set, a progress token is attached
 * and the server's notifications/progress for it are passed on. Returns NULL when the
 * upstream is not connected (on_reply is not called then). */
mcpgw_upstream_call_t *mcpgw_upstream_request(mcpgw_upstream_t *u, const char *method,
                                              json_t *params, apr_interval_time_t timeout,
                                              mcpgw_upstream_reply_fn on_reply,
                                              mcpgw_upstream_progress_fn on_progress,
                                              void *baton);
/* The caller lost interest: notifications/cancelled goes upstream, on_reply never runs. */
void mcpgw_upstream_cancel(mcpgw_upstream_t *u, mcpgw_upstream_call_t *call, const char *reason);

/* Times out overdue requests and runs health checks. The loop calls it a few times a
 * second. */
void mcpgw_upstream_tick(mcpgw_upstream_t *u, apr_time_t now);

/* Health checks: every interval a ping (tools/list for a server without ping) with its own
 * timeout; after max_failures in a row the upstream is disconnected. interval 0 = none. */
void mcpgw_upstream_set_health(mcpgw_upstream_t *u, apr_interval_time_t interval,
                               apr_interval_time_t timeout, int max_failures);

/* Called once, when the upstream next leaves "connecting" (ok = connected). */
typedef void (*mcpgw_upstream_settled_fn)(void *baton, int ok, const char *error);
void mcpgw_upstream_when_settled(mcpgw_upstream_t *u, mcpgw_upstream_settled_fn fn, void *baton);

/* How long a request may take (tool_execution_timeout). */
apr_interval_time_t mcpgw_upstream_request_timeout(const mcpgw_upstream_t *u);

/* 1 once mcpgw_upstream_destroy ran (the struct lives until the loop's round ends). */
int mcpgw_upstream_destroyed(const mcpgw_upstream_t *u);

/* Why the upstream last failed (NULL when it never did). */
const char *mcpgw_upstream_last_error(const mcpgw_upstream_t *u);

/* Replaces the configuration (owned by cfg_pool, which the upstream takes over). The
 * caller restarts the upstream when the connection changed. */
void mcpgw_upstream_set_config(mcpgw_upstream_t *u, const mcpgw_upstream_config_t *cfg,
                               apr_pool_t *cfg_pool);

/* ---- for transports ------------------------------------------------------------------ */

typedef struct mcpgw_transport_t mcpgw_transport_t;
struct mcpgw_transport_t {
    apr_status_t (*start)(mcpgw_transport_t *t, const char **why);
    apr_status_t (*send)(mcpgw_transport_t *t, const char *msg, apr_size_t len);
    /* After stop returns, the transport makes no more upcalls. */
    void (*stop)(mcpgw_transport_t *t);
    /* Told once the handshake settled (HTTP transports send it as a header). */
    void (*negotiated)(mcpgw_transport_t *t, const char *protocol_version);
};

/* One message (a line from stdio, an HTTP body or an SSE event) from the server. */
void mcpgw_upstream_on_message(mcpgw_upstream_t *u, const char *text, apr_size_t len);
/* The connection is gone (process exited, stream closed, server unreachable). */
void mcpgw_upstream_on_closed(mcpgw_upstream_t *u, const char *reason);

mcpgw_transport_t *mcpgw_transport_stdio_create(apr_pool_t *pool, mcpgw_upstream_t *u,
                                                const mcpgw_upstream_config_t *cfg,
                                                const mcpgw_loop_t *loop);
/* Once per process, before any thread starts. */
void mcpgw_transport_http_global_init(void);
mcpgw_transport_t *mcpgw_transport_http_create(apr_pool_t *pool, mcpgw_upstream_t *u,
                                               const mcpgw_upstream_config_t *cfg,
                                               const mcpgw_loop_t *loop);
mcpgw_transport_t *mcpgw_transport_sse_create(apr_pool_t *pool, mcpgw_upstream_t *u,
                                              const mcpgw_upstream_config_t *cfg,
                                              const mcpgw_loop_t *loop);

#endif
