/* The admin REST API endpoint (SetHandler mcp-gateway-admin). */
#ifndef MCPGW_HANDLER_ADMIN_H
#define MCPGW_HANDLER_ADMIN_H

#include "httpd.h"

#define MCPGW_HANDLER_ADMIN "mcp-gateway-admin"

int mcpgw_handler_admin(request_rec *r);

#endif
