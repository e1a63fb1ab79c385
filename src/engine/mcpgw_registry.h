/* The aggregated registry: every configured upstream, and the catalog built from the
 * tools of those that are connected (names "<client><sep><tool>", filtered by each
 * client's tools_to_execute). Tool calls are routed here to the right upstream. */
#ifndef MCPGW_REGISTRY_H
#define MCPGW_REGISTRY_H

#include "mcpgw_config.h"
#include "mcpgw_loop.h"
#include "mcpgw_mcp_server.h"

typedef struct mcpgw_registry_t mcpgw_registry_t;

/* Told after the catalog changed (to send notifications/tools/list_changed). */
typedef void (*mcpgw_registry_changed_fn)(void *baton);

mcpgw_registry_t *mcpgw_registry_create(apr_pool_t *pool, const mcpgw_gateway_config_t *cfg,
                                        const mcpgw_loop_t *loop, mcpgw_mcp_server_t *server,
                                        unsigned page_size, mcpgw_registry_changed_fn changed,
                                        void *baton);
void mcpgw_registry_start(mcpgw_registry_t *r);
void mcpgw_registry_stop(mcpgw_registry_t *r);
void mcpgw_registry_tick(mcpgw_registry_t *r, apr_time_t now);

/* ---- management (the admin API) ----------------------------------------------------- */

#include "mcpgw_upstream.h"

/* Every upstream, in configuration order. */
const apr_array_header_t *mcpgw_registry_upstreams(mcpgw_registry_t *r);
/* By client_id, or by name. */
mcpgw_upstream_t *mcpgw_registry_find(mcpgw_registry_t *r, const char *id_or_name);

/* Adds and starts an upstream (cfg owned by cfg_pool, which the registry takes over);
 * settled runs once it is connected or has failed. */
mcpgw_upstream_t *mcpgw_registry_add(mcpgw_registry_t *r, const mcpgw_upstream_config_t *cfg,
                                     apr_pool_t *cfg_pool, mcpgw_upstream_settled_fn settled,
                                     void *baton);
void mcpgw_registry_remove(mcpgw_registry_t *r, mcpgw_upstream_t *u);
/* Restarts the upstream; settled as for add. */
void mcpgw_registry_reconnect(mcpgw_registry_t *r, mcpgw_upstream_t *u,
                              mcpgw_upstream_settled_fn settled, void *baton);
/* Publishes the catalog again (after a change of tools_to_execute). */
void mcpgw_registry_republish(mcpgw_registry_t *r);
/* A pool for a new client configuration (handed back through add or set_config). */
apr_pool_t *mcpgw_registry_config_pool(mcpgw_registry_t *r);

/* The mcp_server's start_tool_call hook. */
void mcpgw_registry_call_tool(mcpgw_tool_call_t *call, void *registry);
/* A client cancelled its request (session, JSON-RPC id): cancel the call it started. */
void mcpgw_registry_cancel_request(mcpgw_registry_t *r, const char *session_id,
                                   const json_t *request_id);

/* The caller left: cancel the call upstream and answer it locally. */
void mcpgw_registry_cancel_call(mcpgw_registry_t *r, mcpgw_tool_call_t *call);

#endif
