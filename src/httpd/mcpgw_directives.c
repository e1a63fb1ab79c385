#include "mcpgw_directives.h"
#include "mcpgw_json.h"

#include "http_log.h"

#include <apr_strings.h>
#include <stdlib.h>

APLOG_USE_MODULE(mcp_gateway);

void *mcpgw_directives_create_server(apr_pool_t *p, server_rec *s)
{
    mcpgw_server_conf_t *c = apr_pcalloc(p, sizeof(*c));
    c->tools_page_size = -1;
    c->max_sessions = -1;
    c->session_idle_sec = -1;
    c->engine_wait_ms = -1;
    return c;
}

#define PICK(field, unset) (add->field != (unset) ? add->field : base->field)

void *mcpgw_directives_merge_server(apr_pool_t *p, void *basev, void *addv)
{
    mcpgw_server_conf_t *base = basev, *add = addv, *c = apr_pcalloc(p, sizeof(*c));
    c->config_file = PICK(config_file, NULL);
    c->gateway = PICK(gateway, NULL);
    c->state_dir = PICK(state_dir, NULL);
    c->socket_path = PICK(socket_path, NULL);
    c->tools_page_size = PICK(tools_page_size, -1);
    c->max_sessions = PICK(max_sessions, -1);
    c->session_idle_sec = PICK(session_idle_sec, -1);
    c->engine_wait_ms = PICK(engine_wait_ms, -1);
    return c;
}

void *mcpgw_directives_create_dir(apr_pool_t *p, char *dir)
{
    mcpgw_dir_conf_t *d = apr_pcalloc(p, sizeof(*d));
    d->max_body = -1;
    d->keepalive_sec = -1;
    d->admin_anonymous = -1;
    d->location = dir ? apr_pstrdup(p, dir) : NULL;
    return d;
}

void *mcpgw_directives_merge_dir(apr_pool_t *p, void *basev, void *addv)
{
    mcpgw_dir_conf_t *base = basev, *add = addv, *d = apr_pcalloc(p, sizeof(*d));
    d->max_body = PICK(max_body, -1);
    d->keepalive_sec = PICK(keepalive_sec, -1);
    d->allowed_origins = PICK(allowed_origins, NULL);
    d->location = PICK(location, NULL);
    d->admin_anonymous = PICK(admin_anonymous, -1);
    d->admin_commands = PICK(admin_commands, NULL);
    return d;
}

const mcpgw_server_conf_t *mcpgw_directives_main(server_rec *main_server)
{
    mcpgw_server_conf_t *c = ap_get_module_config(main_server->module_config,
                                                  &mcp_gateway_module);
    /* Defaults are filled in once, the first time anyone asks (post_config). */
    if (!c->state_dir)
        c->state_dir = ap_runtime_dir_relative(main_server->process->pconf, "mcp_gateway");
    if (!c->socket_path)
        c->socket_path = apr_pstrcat(main_server->process->pconf, c->state_dir, "/engine.sock",
                                     NULL);
    if (c->tools_page_size < 0)
        c->tools_page_size = MCPGW_DEFAULT_PAGE_SIZE;
    if (c->max_sessions < 0)
        c->max_sessions = MCPGW_DEFAULT_MAX_SESSIONS;
    if (c->session_idle_sec < 0)
        c->session_idle_sec = MCPGW_DEFAULT_SESSION_IDLE;
    if (c->engine_wait_ms < 0)
        c->engine_wait_ms = MCPGW_DEFAULT_ENGINE_WAIT_MS;
    return c;
}

apr_off_t mcpgw_dir_max_body(const mcpgw_dir_conf_t *d)
{
    return d->max_body >= 0 ? d->max_body : MCPGW_DEFAULT_MAX_BODY;
}

int mcpgw_dir_keepalive_sec(const mcpgw_dir_conf_t *d)
{
    return d->keepalive_sec >= 0 ? d->keepalive_sec : MCPGW_DEFAULT_KEEPALIVE_SEC;
}

/* ---- directive handlers --------------------------------------------------------------- */

static mcpgw_server_conf_t *server_conf(cmd_parms *cmd)
{
    return ap_get_module_config(cmd->server->module_config, &mcp_gateway_module);
}

static const char *set_config_file(cmd_parms *cmd, void *dummy, const char *arg)
{
    const char *path = ap_server_root_relative(cmd->pool, arg);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    apr_file_t *f;
    apr_finfo_t fi;
    char *buf;
    apr_size_t len;
    const char *why = NULL;
    json_t *root;
    mcpgw_gateway_config_t *gateway;

    if (err)
        return err;
    if (!path)
        return apr_pstrcat(cmd->pool, "MCPGatewayConfigFile: invalid path ", arg, NULL);
    /* Read and validated here, while directives are parsed, so that "apachectl configtest"
     * (which never reaches post_config) fails on a bad file. */
    if (apr_file_open(&f, path, APR_FOPEN_READ, 0, cmd->temp_pool) != APR_SUCCESS ||
        apr_file_info_get(&fi, APR_FINFO_SIZE, f) != APR_SUCCESS)
        return apr_pstrcat(cmd->pool, "MCPGatewayConfigFile: cannot read ", path, NULL);
    len = (apr_size_t)fi.size;
    buf = apr_palloc(cmd->temp_pool, len + 1);
    if (len && apr_file_read_full(f, buf, len, &len) != APR_SUCCESS)
        return apr_pstrcat(cmd->pool, "MCPGatewayConfigFile: cannot read ", path, NULL);
    apr_file_close(f);
    root = mcpgw_json_load(cmd->temp_pool, buf, len, &why);
    if (!root)
        return apr_psprintf(cmd->pool, "MCPGatewayConfigFile %s: not valid JSON: %s", path, why);
    /* The model lives in the configuration pool; the engine, forked later, inherits it. */
    if (mcpgw_config_parse(cmd->pool, root, &gateway, &why) != APR_SUCCESS)
        return apr_psprintf(cmd->pool, "MCPGatewayConfigFile %s: %s", path, why);
    server_conf(cmd)->config_file = path;
    server_conf(cmd)->gateway = gateway;
    return NULL;
}

static const char *set_state_dir(cmd_parms *cmd, void *dummy, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    if (err)
        return err;
    server_conf(cmd)->state_dir = ap_server_root_relative(cmd->pool, arg);
    return NULL;
}

static const char *set_socket(cmd_parms *cmd, void *dummy, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    if (err)
        return err;
    server_conf(cmd)->socket_path = ap_runtime_dir_relative(cmd->pool, arg);
    return NULL;
}

static const char *parse_count(cmd_parms *cmd, const char *arg, long min, long max, int *out)
{
    char *end;
    long v = strtol(arg, &end, 10);
    if (end == arg || *end || v < min || v > max)
        return apr_psprintf(cmd->pool, "%s: expected a whole number from %ld to %ld, got '%s'",
                            cmd->cmd->name, min, max, arg);
    *out = (int)v;
    return NULL;
}

static const char *set_page_size(cmd_parms *cmd, void *dummy, const char *arg)
{
    return parse_count(cmd, arg, 0, 1000000, &server_conf(cmd)->tools_page_size);
}

static const char *set_max_sessions(cmd_parms *cmd, void *dummy, const char *arg)
{
    return parse_count(cmd, arg, 1, 10000000, &server_conf(cmd)->max_sessions);
}

static const char *set_session_idle(cmd_parms *cmd, void *dummy, const char *arg)
{
    return parse_count(cmd, arg, 0, 86400 * 30, &server_conf(cmd)->session_idle_sec);
}

static const char *set_engine_wait(cmd_parms *cmd, void *dummy, const char *arg)
{
    return parse_count(cmd, arg, 10, 600000, &server_conf(cmd)->engine_wait_ms);
}

static const char *set_max_body(cmd_parms *cmd, void *dconf, const char *arg)
{
    mcpgw_dir_conf_t *d = dconf;
    char *end;
    apr_off_t v;
    if (apr_strtoff(&v, arg, &end, 10) != APR_SUCCESS || *end || v < 1)
        return "MCPGatewayMaxBodySize: expected a positive number of bytes";
    d->max_body = v;
    return NULL;
}

static const char *set_keepalive(cmd_parms *cmd, void *dconf, const char *arg)
{
    return parse_count(cmd, arg, 1, 3600, &((mcpgw_dir_conf_t *)dconf)->keepalive_sec);
}

static const char *add_allowed_origin(cmd_parms *cmd, void *dconf, const char *arg)
{
    mcpgw_dir_conf_t *d = dconf;
    if (!d->allowed_origins)
        d->allowed_origins = apr_array_make(cmd->pool, 4, sizeof(const char *));
    APR_ARRAY_PUSH(d->allowed_origins, const char *) = apr_pstrdup(cmd->pool, arg);
    return NULL;
}

static const char *set_admin_anonymous(cmd_parms *cmd, void *dconf, int on)
{
    ((mcpgw_dir_conf_t *)dconf)->admin_anonymous = on;
    return NULL;
}

static const char *add_admin_command(cmd_parms *cmd, void *dconf, const char *arg)
{
    mcpgw_dir_conf_t *d = dconf;
    if (arg[0] != '/')
        return "MCPGatewayAdminAllowCommand: give the command's absolute path";
    if (!d->admin_commands)
        d->admin_commands = apr_array_make(cmd->pool, 4, sizeof(const char *));
    APR_ARRAY_PUSH(d->admin_commands, const char *) = apr_pstrdup(cmd->pool, arg);
    return NULL;
}

const command_rec mcpgw_directives[] = {
    AP_INIT_TAKE1("MCPGatewayConfigFile", set_config_file, NULL, RSRC_CONF,
                  "The gateway's JSON configuration (mcp, governance, client sections)"),
    AP_INIT_TAKE1("MCPGatewayStateDir", set_state_dir, NULL, RSRC_CONF,
                  "Directory the gateway writes to (default: <runtime dir>/mcp_gateway)"),
    AP_INIT_TAKE1("MCPGatewaySocket", set_socket, NULL, RSRC_CONF,
                  "UNIX socket between httpd children and the engine "
                  "(default: <state dir>/engine.sock)"),
    AP_INIT_TAKE1("MCPGatewayToolsPageSize", set_page_size, NULL, RSRC_CONF,
                  "Tools per tools/list page; 0 lists all at once (default 1000)"),
    AP_INIT_TAKE1("MCPGatewayMaxSessions", set_max_sessions, NULL, RSRC_CONF,
                  "Most MCP sessions held at once; the least recently used go first "
                  "(default 10000)"),
    AP_INIT_TAKE1("MCPGatewaySessionIdleTimeout", set_session_idle, NULL, RSRC_CONF,
                  "Seconds an unused MCP session lives; 0 = forever (default 3600)"),
    AP_INIT_TAKE1("MCPGatewayEngineTimeout", set_engine_wait, NULL, RSRC_CONF,
                  "Milliseconds a child waits for a silent engine before answering 503 "
                  "(default 2000)"),
    AP_INIT_TAKE1("MCPGatewayMaxBodySize", set_max_body, NULL, OR_ALL,
                  "Largest request body in bytes; larger gets 413 (default 4194304)"),
    AP_INIT_TAKE1("MCPGatewayKeepAliveInterval", set_keepalive, NULL, OR_ALL,
                  "Seconds between keep-alive comments on an SSE stream (default 15)"),
    AP_INIT_ITERATE("MCPGatewayAllowedOrigins", add_allowed_origin, NULL, OR_ALL,
                    "Origins allowed to call /mcp from a browser, or * (default: loopback "
                    "origins and this server's names)"),
    AP_INIT_FLAG("MCPGatewayAdminAllowAnonymous", set_admin_anonymous, NULL, OR_ALL,
                 "Let callers without an authenticated user (r->user) use the admin API "
                 "(default Off: protect it with AuthType/Require)"),
    AP_INIT_ITERATE("MCPGatewayAdminAllowCommand", add_admin_command, NULL, OR_ALL,
                    "Absolute paths of commands the admin API may start as stdio clients "
                    "(default: none - a stdio client through the API runs a command here)"),
    { NULL }
};
