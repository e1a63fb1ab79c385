/* The admin REST API (SetHandler mcp-gateway-admin), child side: who may call it, which
 * stdio commands it may start, then the same relay to the engine as /mcp. The routes
 * themselves are in src/engine/mcpgw_engine_admin.c. */
#include "mcpgw_handler_admin.h"
#include "mcpgw_admin_reply.h"
#include "mcpgw_relay.h"
#include "mcpgw_json.h"

#include "http_core.h"
#include "http_log.h"
#include "http_main.h"
#include "http_protocol.h"

#include <apr_strings.h>

APLOG_USE_MODULE(mcp_gateway);

/* The reference product's error body. */
static int refuse(request_rec *r, int status, const char *message)
{
    json_t *body = mcpgw_admin_reply_error(status, message);
    apr_size_t len;
    const char *text = mcpgw_json_dump(r->pool, body, &len);
    json_decref(body);
    r->status = status;
    ap_set_content_type(r, "application/json");
    ap_set_content_length(r, (apr_off_t)len);
    ap_rwrite(text, (int)len, r);
    return OK;
}

/* Creating or changing a stdio client runs a command on this server: only commands the
 * operator listed may be started this way. Returns the refusal message, or NULL. */
static const char *stdio_refusal(request_rec *r, const mcpgw_dir_conf_t *d, const char *body,
                                 apr_size_t len)
{
    json_t *json = mcpgw_json_load(r->pool, body, len, NULL);
    const char *type = mcpgw_json_string(json, "connection_type");
    const char *command = mcpgw_json_string(json_object_get(json, "stdio_config"), "command");
    if (!type || strcasecmp(type, "stdio") != 0)
        return NULL;
    for (int i = 0; command && d->admin_commands && i < d->admin_commands->nelts; i++)
        if (strcmp(APR_ARRAY_IDX(d->admin_commands, i, const char *), command) == 0)
            return NULL;
    return apr_psprintf(r->pool,
                        "stdio clients run a command on this server: '%s' is not allowed "
                        "through the admin API (list it in MCPGatewayAdminAllowCommand)",
                        command ? command : "(none)");
}

int mcpgw_handler_admin(request_rec *r)
{
    const mcpgw_dir_conf_t *dconf;
    const mcpgw_server_conf_t *sconf;
    mcpgw_ipc_client_t *ipc;
    const char *path, *meta, *why;
    char *body = NULL;
    apr_size_t body_len = 0, meta_len;
    json_t *m;
    int status;

    if (!r->handler || strcmp(r->handler, MCPGW_HANDLER_ADMIN) != 0)
        return DECLINED;
    dconf = ap_get_module_config(r->per_dir_config, &mcp_gateway_module);
    sconf = mcpgw_directives_main(ap_server_conf);

    /* httpd's own authentication decides who the caller is; anonymous needs an explicit Yes. */
    if (!r->user && dconf->admin_anonymous != 1)
        return refuse(r, HTTP_FORBIDDEN,
                      "the admin API needs an authenticated user: protect it with AuthType and "
                      "Require, or set MCPGatewayAdminAllowAnonymous On");

    path = r->uri;
    if (dconf->location && strncmp(path, dconf->location, strlen(dconf->location)) == 0)
        path += strlen(dconf->location);
    if (!*path)
        path = "/";

    if (r->method_number == M_POST || r->method_number == M_PUT) {
        status = mcpgw_relay_read_body(r, mcpgw_dir_max_body(dconf), &body, &body_len);
        if (status != OK)
            return refuse(r, status, status == HTTP_REQUEST_ENTITY_TOO_LARGE
                                         ? "Request body too large" : "Unreadable request body");
        if ((why = stdio_refusal(r, dconf, body, body_len)) != NULL) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                          "admin: refused a stdio client for user %s: command not allow-listed",
                          r->user ? r->user : "(anonymous)");
            return refuse(r, HTTP_FORBIDDEN, why);
        }
    }
    else
        ap_discard_request_body(r);

    m = json_pack("{s:b, s:s, s:s}", "admin", 1, "method", r->method, "path", path);
    if (r->user)
        json_object_set_new(m, "principal", json_string(r->user));
    meta = apr_pstrcat(r->pool, mcpgw_json_dump(r->pool, m, &meta_len), "\n", NULL);
    json_decref(m);
    if (mcpgw_ipc_client_acquire(r->pool, sconf->socket_path, &ipc) != APR_SUCCESS ||
        mcpgw_ipc_client_send(ipc, MCPGW_IPC_REQUEST, meta, meta_len + 1, body, body_len) !=
            APR_SUCCESS)
        return mcpgw_relay_engine_unavailable(r);
    return mcpgw_relay_answer(r, ipc, sconf, dconf);
}
