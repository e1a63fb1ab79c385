/* Logging without httpd: the core, the engine and the upstream layer log through this
 * shim; src/httpd installs a sink that writes to the error log with the module's tags.
 * Unit tests install their own sink (or none: messages are dropped). Never pass a secret. */
#ifndef MCPGW_LOG_H
#define MCPGW_LOG_H

#include <apr.h>

typedef enum {
    MCPGW_LOG_ERR = 3,
    MCPGW_LOG_WARNING = 4,
    MCPGW_LOG_NOTICE = 5,
    MCPGW_LOG_INFO = 6,
    MCPGW_LOG_DEBUG = 7
} mcpgw_log_level_e;

typedef void (*mcpgw_log_sink_fn)(mcpgw_log_level_e level, const char *message);

void mcpgw_log_set_sink(mcpgw_log_sink_fn sink, mcpgw_log_level_e max_level);
int mcpgw_log_enabled(mcpgw_log_level_e level);

void mcpgw_log(mcpgw_log_level_e level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
