/* Routes the core's log shim (mcpgw_log) to httpd's error log. */
#ifndef MCPGW_LOG_BRIDGE_H
#define MCPGW_LOG_BRIDGE_H

#include "httpd.h"

void mcpgw_log_bridge_install(server_rec *s);

#endif
