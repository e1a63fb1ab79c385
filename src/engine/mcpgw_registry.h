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

/* The mcp_server's start_tool_call hook. */
void mcpgw_registry_call_tool(mcpgw_tool_call_t *call, void *registry);
/* The caller left: cancel the call upstream and answer it locally. */
void mcpgw_registry_cancel_call(mcpgw_registry_t *r, mcpgw_tool_call_t *call);

#endif
