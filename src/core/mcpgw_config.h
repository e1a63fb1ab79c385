/* The gateway JSON file (the reference product's shape) as a validated model.
 *
 *   mcp.client_configs[]            upstream MCP servers
 *   mcp.tool_manager_config         tool_execution_timeout
 *   mcp.health_monitor_config       check_interval, check_timeout, max_consecutive_failures
 *   mcp.tool_name_separator         "_" (ours; "-" gives the product's current style)
 *   governance.virtual_keys[]       (virtual keys; a later issue)
 *   client.enforce_auth_on_inference
 *
 * Errors name the JSON path and the problem ("$.mcp.client_configs[1].name: ..."). */
#ifndef MCPGW_CONFIG_MODEL_H
#define MCPGW_CONFIG_MODEL_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>
#include <jansson.h>

typedef enum {
    MCPGW_CONN_STDIO,
    MCPGW_CONN_HTTP,
    MCPGW_CONN_SSE
} mcpgw_conn_type_e;

/* A tool list: "*" for all, otherwise exactly the names listed (none when empty). */
typedef struct {
    int all;
    apr_array_header_t *names; /* const char * */
} mcpgw_tool_filter_t;

typedef struct {
    const char *name;
    const char *client_id;
    mcpgw_conn_type_e type;
    /* stdio */
    const char *command;
    apr_array_header_t *args;     /* const char * */
    apr_array_header_t *env_pass; /* names copied from the gateway's environment */
    apr_array_header_t *env_set;  /* "KEY=value" entries */
    /* http / sse */
    const char *url;              /* resolved (may hold a secret) */
    const char *url_source;       /* as written: "env.NAME" or the literal */
    apr_table_t *headers;         /* resolved values (secrets) */
    apr_table_t *header_sources;  /* as written */
    mcpgw_tool_filter_t tools_to_execute;
    mcpgw_tool_filter_t tools_to_auto_execute;
} mcpgw_upstream_config_t;

typedef struct {
    apr_array_header_t *upstreams; /* mcpgw_upstream_config_t * */
    apr_interval_time_t tool_timeout;
    apr_interval_time_t health_interval;
    apr_interval_time_t health_timeout;
    int health_max_failures;
    int auto_reconnect;            /* ours: reconnect a disconnected client with backoff */
    const char *name_separator;
    int enforce_auth;
    apr_array_header_t *vkeys;     /* mcpgw_vkey_t * (see mcpgw_vkeys.h) */
} mcpgw_gateway_config_t;

/* Parses and validates root. env.NAME references are resolved from the environment; a
 * missing variable is an error naming the client and the variable. */
apr_status_t mcpgw_config_parse(apr_pool_t *pool, const json_t *root,
                                mcpgw_gateway_config_t **out, const char **error);

/* Validates one client config (the admin API uses it too). path prefixes error messages. */
apr_status_t mcpgw_config_parse_upstream(apr_pool_t *pool, const json_t *obj, const char *path,
                                         mcpgw_upstream_config_t **out, const char **error);

/* The reference product's name rules; NULL when valid, else its exact message. */
const char *mcpgw_config_check_name(const char *name);

/* "10s", "500ms", "2m", "1h", or a bare number of seconds. -1 when unreadable. */
apr_interval_time_t mcpgw_config_parse_duration(const char *text);

/* The client as JSON in the reference shape. With redact, secrets are masked the way the
 * reference product masks them (see mcpgw_redact); without, values are as written
 * (env.NAME references stay references) - the form persisted to the state directory. */
json_t *mcpgw_config_upstream_to_json(const mcpgw_upstream_config_t *u, int redact);

/* A secret for display: up to 8 characters all '*', else the first 4, 24 '*', the last 4. */
const char *mcpgw_redact(apr_pool_t *pool, const char *secret);

/* A fresh random (version 4) UUID. */
const char *mcpgw_uuid4(apr_pool_t *pool);

/* A stable UUID-shaped id derived from a client name, for clients the JSON file lists
 * without a client_id: the same name gets the same id across restarts. */
const char *mcpgw_uuid_from_name(apr_pool_t *pool, const char *name);

/* 1 when the filter admits the tool. */
int mcpgw_tool_filter_allows(const mcpgw_tool_filter_t *f, const char *tool);

#endif
