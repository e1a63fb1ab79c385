/* Request path: virtual-key enforcement -> stateless header checks (mcpgw_http_rules) ->
 * read the body under its limit -> one REQUEST frame to the engine -> relay the answer
 * back (mcpgw_relay.c). */
#include "mcpgw_handler_mcp.h"
#include "mcpgw_relay.h"
#include "mcpgw_auth.h"
#include "mcpgw_directives.h"
#include "mcpgw_http_rules.h"
#include "mcpgw_ipc_client.h"
#include "mcpgw_json.h"
#include "mcpgw_jsonrpc.h"

#include "http_connection.h"
#include "http_core.h"
#include "http_log.h"
#include "http_main.h"
#include "http_protocol.h"
#include "http_request.h"

#include <apr_portable.h>
#include <apr_strings.h>
#include <errno.h>
#include <sys/socket.h>

APLOG_USE_MODULE(mcp_gateway);

static const char *request_meta(request_rec *r, apr_size_t *len)
{
    json_t *meta = json_pack("{s:s}", "method", r->method);
    const char *v;
    const char *text;
#define COPY_HEADER(key, header)                                                             \
    if ((v = apr_table_get(r->headers_in, header)) != NULL)                                  \
        json_object_set_new(meta, key, json_string(v));
    COPY_HEADER("session", "Mcp-Session-Id");
    COPY_HEADER("version", "MCP-Protocol-Version");
    COPY_HEADER("mcp_method", "Mcp-Method");
    COPY_HEADER("mcp_name", "Mcp-Name");
    COPY_HEADER("accept", "Accept");
    COPY_HEADER("last_event_id", "Last-Event-ID");
#undef COPY_HEADER
    if (r->user)
        json_object_set_new(meta, "principal", json_string(r->user));
    if (mcpgw_auth_by_key(r))
        json_object_set_new(meta, "key", json_string(r->user));
    text = mcpgw_json_dump(r->pool, meta, len);
    json_decref(meta);
    return text;
}

static const mcpgw_origin_policy_t *origin_policy(request_rec *r, const mcpgw_dir_conf_t *d)
{
    mcpgw_origin_policy_t *p = apr_pcalloc(r->pool, sizeof(*p));
    apr_array_header_t *own = apr_array_make(r->pool, 4, sizeof(const char *));
    p->allowed_origins = d->allowed_origins;
    if (r->server->server_hostname)
        APR_ARRAY_PUSH(own, const char *) = r->server->server_hostname;
    for (int i = 0; r->server->names && i < r->server->names->nelts; i++)
        APR_ARRAY_PUSH(own, const char *) = APR_ARRAY_IDX(r->server->names, i, const char *);
    p->own_hosts = own;
    return p;
}

int mcpgw_handler_mcp(request_rec *r)
{
    const mcpgw_dir_conf_t *dconf;
    const mcpgw_server_conf_t *sconf;
    mcpgw_http_head_t head;
    mcpgw_http_verdict_t verdict;
    mcpgw_ipc_client_t *ipc;
    char *body = NULL;
    apr_size_t body_len = 0, meta_len;
    const char *meta;
    int status;

    if (!r->handler || strcmp(r->handler, MCPGW_HANDLER_MCP) != 0)
        return DECLINED;
    dconf = ap_get_module_config(r->per_dir_config, &mcp_gateway_module);
    sconf = mcpgw_directives_main(ap_server_conf);

    head.method = r->method;
    head.accept = apr_table_get(r->headers_in, "Accept");
    head.content_type = apr_table_get(r->headers_in, "Content-Type");
    head.origin = apr_table_get(r->headers_in, "Origin");
    head.host = apr_table_get(r->headers_in, "Host");
    head.protocol_version = apr_table_get(r->headers_in, "MCP-Protocol-Version");
    /* A safety net under the authentication phase: with enforcement on, nothing passes
     * without a virtual key, even where AuthType MCPGatewayKey was forgotten. */
    if (mcpgw_auth_enforced() && !mcpgw_auth_by_key(r)) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "no virtual key (enforce_auth_on_inference; "
                      "the /mcp Location needs AuthType MCPGatewayKey)");
        apr_table_setn(r->err_headers_out, "WWW-Authenticate", "Bearer realm=\"mcp-gateway\"");
        return mcpgw_relay_refuse(r, HTTP_UNAUTHORIZED, -32001,
                            MCPGW_AUTH_REFUSAL);
    }
    mcpgw_http_rules_check(r->pool, &head, origin_policy(r, dconf), &verdict);
    if (verdict.status) {
        if (verdict.allow)
            apr_table_setn(r->headers_out, "Allow", verdict.allow);
        return mcpgw_relay_refuse(r, verdict.status, MCPGW_MCP_BAD_REQUEST, verdict.reason);
    }

    if (r->method_number == M_POST) {
        status = mcpgw_relay_read_body(r, mcpgw_dir_max_body(dconf), &body, &body_len);
        if (status == HTTP_REQUEST_ENTITY_TOO_LARGE) {
            /* Stop here: the rest of the body is never read, so the connection cannot be
             * reused. */
            r->connection->keepalive = AP_CONN_CLOSE;
            return mcpgw_relay_refuse(r, status, MCPGW_JSONRPC_INVALID_REQUEST,
                                "Request body too large");
        }
        if (status != OK)
            return mcpgw_relay_refuse(r, status, MCPGW_JSONRPC_PARSE_ERROR,
                                "Parse error: unreadable request body");
    }
    else
        ap_discard_request_body(r);

    meta = request_meta(r, &meta_len);
    if (mcpgw_ipc_client_acquire(r->pool, sconf->socket_path, &ipc) != APR_SUCCESS)
        return mcpgw_relay_engine_unavailable(r);
    /* The meta line ends with '\n'; the body follows it verbatim. */
    meta = apr_pstrcat(r->pool, meta, "\n", NULL);
    if (mcpgw_ipc_client_send(ipc, MCPGW_IPC_REQUEST, meta, meta_len + 1, body, body_len) !=
        APR_SUCCESS)
        return mcpgw_relay_engine_unavailable(r);
    return mcpgw_relay_answer(r, ipc, sconf, dconf);
}
