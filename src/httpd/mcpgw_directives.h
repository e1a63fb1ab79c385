/* httpd directives of mod_mcp_gateway: names, defaults and the structures they fill. */
#ifndef MCPGW_DIRECTIVES_H
#define MCPGW_DIRECTIVES_H

#include "httpd.h"
#include "http_config.h"

#include <apr_tables.h>

#include "mcpgw_config.h"

#define MCPGW_DEFAULT_MAX_BODY        (4 * 1024 * 1024)
#define MCPGW_DEFAULT_KEEPALIVE_SEC   15
#define MCPGW_DEFAULT_ENGINE_WAIT_MS  2000
#define MCPGW_DEFAULT_PAGE_SIZE       1000
#define MCPGW_DEFAULT_MAX_SESSIONS    10000
#define MCPGW_DEFAULT_SESSION_IDLE    3600

/* Per server (only the main server's values matter: there is one engine per httpd). */
typedef struct {
    const char *config_file;   /* MCPGatewayConfigFile */
    const mcpgw_gateway_config_t *gateway; /* that file, parsed and validated */
    const char *state_dir;     /* MCPGatewayStateDir */
    const char *socket_path;   /* MCPGatewaySocket, default <state dir>/engine.sock */
    int tools_page_size;       /* -1 = unset */
    int max_sessions;
    int session_idle_sec;
    int engine_wait_ms;        /* how long a child waits for a silent engine */
} mcpgw_server_conf_t;

/* Per directory (the <Location> serving /mcp). */
typedef struct {
    apr_off_t max_body;                    /* MCPGatewayMaxBodySize, -1 = unset */
    int keepalive_sec;                     /* MCPGatewayKeepAliveInterval, -1 = unset */
    apr_array_header_t *allowed_origins;   /* MCPGatewayAllowedOrigins, NULL = unset */
    const char *location;                  /* the <Location> path (admin routes are relative) */
    int admin_anonymous;                   /* MCPGatewayAdminAllowAnonymous, -1 = unset */
    apr_array_header_t *admin_commands;    /* MCPGatewayAdminAllowCommand, NULL = none */
} mcpgw_dir_conf_t;

extern module AP_MODULE_DECLARE_DATA mcp_gateway_module;
extern const command_rec mcpgw_directives[];

void *mcpgw_directives_create_server(apr_pool_t *p, server_rec *s);
void *mcpgw_directives_merge_server(apr_pool_t *p, void *base, void *add);
void *mcpgw_directives_create_dir(apr_pool_t *p, char *dir);
void *mcpgw_directives_merge_dir(apr_pool_t *p, void *base, void *add);

/* The main server's settings with defaults applied. */
const mcpgw_server_conf_t *mcpgw_directives_main(server_rec *main_server);

apr_off_t mcpgw_dir_max_body(const mcpgw_dir_conf_t *d);
int mcpgw_dir_keepalive_sec(const mcpgw_dir_conf_t *d);

#endif
