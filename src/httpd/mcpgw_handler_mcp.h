/* The /mcp endpoint (SetHandler mcp-gateway): the Streamable HTTP transport's door. */
#ifndef MCPGW_HANDLER_MCP_H
#define MCPGW_HANDLER_MCP_H

#include "httpd.h"

#define MCPGW_HANDLER_MCP "mcp-gateway"

int mcpgw_handler_mcp(request_rec *r);

/* Shared with the admin handler. */
#include "mcpgw_directives.h"
#include "mcpgw_ipc_client.h"
int mcpgw_handler_relay(request_rec *r, mcpgw_ipc_client_t *ipc,
                        const mcpgw_server_conf_t *sconf, const mcpgw_dir_conf_t *dconf);
int mcpgw_handler_read_body(request_rec *r, apr_off_t max, char **body, apr_size_t *len);
int mcpgw_handler_engine_unavailable(request_rec *r);

#endif
