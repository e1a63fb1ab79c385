/* The /mcp endpoint (SetHandler mcp-gateway): the Streamable HTTP transport's door. */
#ifndef MCPGW_HANDLER_MCP_H
#define MCPGW_HANDLER_MCP_H

#include "httpd.h"

#define MCPGW_HANDLER_MCP "mcp-gateway"

int mcpgw_handler_mcp(request_rec *r);

#endif
