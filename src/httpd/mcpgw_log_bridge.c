#include "mcpgw_log_bridge.h"
#include "mcpgw_log.h"

#include "http_log.h"

APLOG_USE_MODULE(mcp_gateway);

static server_rec *log_server;

static void to_error_log(mcpgw_log_level_e level, const char *message)
{
    ap_log_error(APLOG_MARK, (int)level, 0, log_server, "%s", message);
}

void mcpgw_log_bridge_install(server_rec *s)
{
    int max = APLOG_MODULE_IS_LEVEL(s, APLOG_MODULE_INDEX, APLOG_DEBUG) ? MCPGW_LOG_DEBUG
              : APLOG_MODULE_IS_LEVEL(s, APLOG_MODULE_INDEX, APLOG_INFO) ? MCPGW_LOG_INFO
                                                                         : MCPGW_LOG_NOTICE;
    log_server = s;
    mcpgw_log_set_sink(to_error_log, (mcpgw_log_level_e)max);
}
