/* Request path: stateless header checks (mcpgw_http_rules) -> read the body under its
 * limit -> one REQUEST frame to the engine -> relay HEAD/DATA/END back, flushing at once
 * for event streams and sending keep-alive comments while a stream is idle. */
#include "mcpgw_handler_mcp.h"
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

/* A JSON-RPC error without id, the body of every refusal made before the engine. */
static int send_refusal(request_rec *r, int status, int code, const char *message)
{
    json_t *err = mcpgw_jsonrpc_error(NULL, code, message, NULL);
    apr_size_t len;
    const char *body = mcpgw_json_dump(r->pool, err, &len);
    json_decref(err);
    r->status = status;
    ap_set_content_type(r, "application/json");
    ap_set_content_length(r, (apr_off_t)len);
    ap_rwrite(body, (int)len, r);
    return OK;
}

static int engine_unavailable(request_rec *r);
static int read_body(request_rec *r, apr_off_t max, char **body, apr_size_t *len);

int mcpgw_handler_engine_unavailable(request_rec *r)
{
    return engine_unavailable(r);
}

static int engine_unavailable(request_rec *r)
{
    apr_table_setn(r->err_headers_out, "Retry-After", "2");
    return send_refusal(r, HTTP_SERVICE_UNAVAILABLE, MCPGW_JSONRPC_INTERNAL_ERROR,
                        "Service Unavailable: the gateway engine is not running");
}

/* Reads the whole body, refusing (413) as soon as it passes max without reading on. */
int mcpgw_handler_read_body(request_rec *r, apr_off_t max, char **body, apr_size_t *len)
{
    return read_body(r, max, body, len);
}

static int read_body(request_rec *r, apr_off_t max, char **body, apr_size_t *len)
{
    const char *cl = apr_table_get(r->headers_in, "Content-Length");
    apr_bucket_brigade *bb;
    apr_size_t total = 0, cap;
    char *buf;
    int seen_eos = 0;

    if (cl) {
        char *end;
        apr_off_t declared;
        if (apr_strtoff(&declared, cl, &end, 10) != APR_SUCCESS || *end || declared < 0)
            return HTTP_BAD_REQUEST;
        if (declared > max)
            return HTTP_REQUEST_ENTITY_TOO_LARGE;
        cap = (apr_size_t)declared;
    }
    else
        cap = 8192;
    buf = apr_palloc(r->pool, cap + 1);
    bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    while (!seen_eos) {
        apr_status_t rv = ap_get_brigade(r->input_filters, bb, AP_MODE_READBYTES, APR_BLOCK_READ,
                                         65536);
        if (rv != APR_SUCCESS)
            return ap_map_http_request_error(rv, HTTP_BAD_REQUEST);
        for (apr_bucket *b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb);
             b = APR_BUCKET_NEXT(b)) {
            const char *data;
            apr_size_t n;
            if (APR_BUCKET_IS_EOS(b)) {
                seen_eos = 1;
                break;
            }
            if (apr_bucket_read(b, &data, &n, APR_BLOCK_READ) != APR_SUCCESS)
                return HTTP_BAD_REQUEST;
            if ((apr_off_t)(total + n) > max)
                return HTTP_REQUEST_ENTITY_TOO_LARGE;
            if (total + n > cap) {
                char *bigger;
                while (total + n > cap)
                    cap *= 2;
                bigger = apr_palloc(r->pool, cap + 1);
                memcpy(bigger, buf, total);
                buf = bigger;
            }
            memcpy(buf + total, data, n);
            total += n;
        }
        apr_brigade_cleanup(bb);
    }
    buf[total] = '\0';
    *body = buf;
    *len = total;
    return OK;
}

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

/* Applies a HEAD frame: status and headers chosen by the engine. Returns 1 for an event
 * stream (flush every DATA frame). */
static int apply_head(request_rec *r, const char *payload, apr_size_t len)
{
    json_t *head = mcpgw_json_load(r->pool, payload, len, NULL);
    json_t *headers = json_object_get(head, "headers");
    json_t *status = json_object_get(head, "status");
    const char *key;
    json_t *value;
    int streaming = 0;

    r->status = json_is_integer(status) ? (int)json_integer_value(status) : 500;
    json_object_foreach(headers, key, value) {
        const char *v = json_string_value(value);
        if (!v)
            continue;
        if (strcasecmp(key, "Content-Type") == 0) {
            ap_set_content_type(r, apr_pstrdup(r->pool, v));
            streaming = strncmp(v, "text/event-stream", 17) == 0;
        }
        else
            apr_table_set(r->headers_out, key, v);
    }
    return streaming;
}

/* The client's socket, when it can be watched for a hang-up (not inside HTTP/2, whose
 * connection socket carries other streams too). */
static int client_fd(request_rec *r)
{
    apr_socket_t *s = ap_get_conn_socket(r->connection);
    apr_os_sock_t fd;
    if (r->connection->master || !s || apr_os_sock_get(&fd, s) != APR_SUCCESS)
        return -1;
    return fd;
}

static int client_hung_up(int fd)
{
    char c;
    ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

static int flush_out(request_rec *r)
{
    return ap_rflush(r) == 0 && !r->connection->aborted;
}

int mcpgw_handler_relay(request_rec *r, mcpgw_ipc_client_t *ipc,
                        const mcpgw_server_conf_t *sconf, const mcpgw_dir_conf_t *dconf)
{
    int streaming = 0, head_seen = 0, accepted = 0, watch = client_fd(r);
    int keepalive_ms = mcpgw_dir_keepalive_sec(dconf) * 1000;
    apr_bucket_brigade *bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);

    for (;;) {
        char type;
        const char *payload;
        apr_size_t len;
        int client_event;
        /* Before any frame: a short deadline tells a dead engine from a busy one. After
         * ACCEPTED the engine owns the deadline (it times out tool calls itself). */
        int timeout = !head_seen ? sconf->engine_wait_ms : streaming ? keepalive_ms : -1;
        /* While a stream is open or a tool call is out, a client that hangs up is noticed
         * at once: closing our end tells the engine, which cancels upstream. */
        apr_status_t rv = mcpgw_ipc_client_next(ipc, timeout, (streaming || accepted) ? watch : -1,
                                                &client_event, &type, &payload, &len);
        if (rv == APR_TIMEUP && !head_seen)
            return engine_unavailable(r);
        if (rv == APR_TIMEUP) {
            /* An idle stream: a comment line keeps proxies from timing it out and tells us
             * whether the client is still there. */
            ap_rputs(": heartbeat\n", r);
            if (!flush_out(r))
                return OK;
            continue;
        }
        if (rv == APR_EOF && client_event) {
            if (client_hung_up(watch))
                return OK; /* closing ipc tells the engine the client left */
            watch = -1;    /* pipelined bytes, not a hang-up: stop watching */
            continue;
        }
        if (rv != APR_SUCCESS) {
            if (!head_seen)
                return engine_unavailable(r);
            r->connection->keepalive = AP_CONN_CLOSE;
            return OK; /* mid-answer: nothing better than ending the response */
        }
        switch (type) {
        case MCPGW_IPC_ACCEPTED:
            head_seen = 1; /* not really a head, but the engine is alive and on it */
            accepted = 1;
            break;
        case MCPGW_IPC_HEAD:
            head_seen = 1;
            streaming = apply_head(r, payload, len);
            if (streaming) {
                /* mod_deflate and friends must not hold events back. */
                apr_table_setn(r->subprocess_env, "no-gzip", "1");
                apr_table_setn(r->subprocess_env, "no-brotli", "1");
                r->no_local_copy = 1;
                if (!flush_out(r))
                    return OK;
            }
            break;
        case MCPGW_IPC_DATA:
            if (streaming) {
                ap_rwrite(payload, (int)len, r);
                if (!flush_out(r))
                    return OK;
            }
            else
                apr_brigade_write(bb, NULL, NULL, payload, len);
            break;
        case MCPGW_IPC_END:
            ipc->reusable = 1;
            if (!streaming) {
                apr_off_t total = 0;
                apr_brigade_length(bb, 1, &total);
                ap_set_content_length(r, total);
                APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(r->connection->bucket_alloc));
                ap_pass_brigade(r->output_filters, bb);
            }
            return OK;
        default:
            r->connection->keepalive = AP_CONN_CLOSE;
            return OK;
        }
    }
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
        return send_refusal(r, HTTP_UNAUTHORIZED, -32001,
                            "Unauthorized: a valid virtual key is required");
    }
    mcpgw_http_rules_check(r->pool, &head, origin_policy(r, dconf), &verdict);
    if (verdict.status) {
        if (verdict.allow)
            apr_table_setn(r->headers_out, "Allow", verdict.allow);
        return send_refusal(r, verdict.status, MCPGW_MCP_BAD_REQUEST, verdict.reason);
    }

    if (r->method_number == M_POST) {
        status = read_body(r, mcpgw_dir_max_body(dconf), &body, &body_len);
        if (status == HTTP_REQUEST_ENTITY_TOO_LARGE) {
            /* Stop here: the rest of the body is never read, so the connection cannot be
             * reused. */
            r->connection->keepalive = AP_CONN_CLOSE;
            return send_refusal(r, status, MCPGW_JSONRPC_INVALID_REQUEST,
                                "Request body too large");
        }
        if (status != OK)
            return send_refusal(r, status, MCPGW_JSONRPC_PARSE_ERROR,
                                "Parse error: unreadable request body");
    }
    else
        ap_discard_request_body(r);

    meta = request_meta(r, &meta_len);
    if (mcpgw_ipc_client_acquire(r->pool, sconf->socket_path, &ipc) != APR_SUCCESS)
        return engine_unavailable(r);
    /* The meta line ends with '\n'; the body follows it verbatim. */
    meta = apr_pstrcat(r->pool, meta, "\n", NULL);
    if (mcpgw_ipc_client_send(ipc, MCPGW_IPC_REQUEST, meta, meta_len + 1, body, body_len) !=
        APR_SUCCESS)
        return engine_unavailable(r);
    return mcpgw_handler_relay(r, ipc, sconf, dconf);
}
