/* The gateway engine: the one process per httpd instance that owns sessions, upstream
 * connections and the tool registry. httpd's parent forks it (src/httpd/mcpgw_supervisor.c)
 * and hands it the listening UNIX socket; children talk to it in mcpgw_ipc frames. */
#ifndef MCPGW_ENGINE_H
#define MCPGW_ENGINE_H

#include <apr_network_io.h>
#include <apr_pools.h>
#include <apr_time.h>

#include "mcpgw_config.h"

/* Exit status meaning "do not restart me": the configuration cannot work as written. */
#define MCPGW_ENGINE_EXIT_CONFIG 78

typedef struct mcpgw_engine_t mcpgw_engine_t;

typedef struct {
    int listen_fd;                    /* bound, listening UNIX socket */
    const char *server_name;          /* serverInfo.name */
    const char *server_version;
    unsigned tools_page_size;         /* tools/list page size, 0 = unpaged */
    unsigned max_sessions;
    apr_interval_time_t session_idle_timeout;
    unsigned max_connections;         /* pollset size: children's requests + GET streams */
    const mcpgw_gateway_config_t *config; /* upstreams; NULL for none */
    const char *state_dir;
    /* A counter in memory shared with every httpd child: bumped whenever the virtual keys
     * change, so children may cache key checks until it moves. */
    volatile apr_uint32_t *keys_generation;
} mcpgw_engine_options_t;

/* Runs until SIGTERM (or the parent's death). Returns the process exit status. */
int mcpgw_engine_run(apr_pool_t *pool, const mcpgw_engine_options_t *options);

#endif
