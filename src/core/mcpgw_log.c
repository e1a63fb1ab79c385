#include "mcpgw_log.h"

#include <apr_strings.h>
#include <stdarg.h>
#include <stdio.h>

static mcpgw_log_sink_fn log_sink;
static mcpgw_log_level_e log_max = MCPGW_LOG_NOTICE;

void mcpgw_log_set_sink(mcpgw_log_sink_fn sink, mcpgw_log_level_e max_level)
{
    log_sink = sink;
    log_max = max_level;
}

int mcpgw_log_enabled(mcpgw_log_level_e level)
{
    return log_sink && level <= log_max;
}

void mcpgw_log(mcpgw_log_level_e level, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    if (!mcpgw_log_enabled(level))
        return;
    va_start(ap, fmt);
    apr_vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    log_sink(level, buf);
}
