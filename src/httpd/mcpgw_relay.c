/* What both child-side handlers (/mcp and the admin API) do around the engine: read a
 * request body under its limit, relay the engine's HEAD/DATA/END frames to the client
 * (flushing event streams at once, sending keep-alive comments while they idle, noticing a
 * client that hangs up), and answer 503 when the engine is away. */
#include "mcpgw_relay.h"
#include "mcpgw_json.h"
#include "mcpgw_jsonrpc.h"

#include "http_connection.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"

#include <apr_portable.h>
#include <apr_strings.h>
#include <errno.h>
#include <sys/socket.h>

APLOG_USE_MODULE(mcp_gateway);

/* A JSON-RPC error without id, the body of every refusal made before the engine. */
int mcpgw_relay_refuse(request_rec *r, int status, int code, const char *message)
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

int mcpgw_relay_engine_unavailable(request_rec *r)
{
    apr_table_setn(r->err_headers_out, "Retry-After", "2");
    return mcpgw_relay_refuse(r, HTTP_SERVICE_UNAVAILABLE, MCPGW_JSONRPC_INTERNAL_ERROR,
                        "Service Unavailable: the gateway engine is not running");
}

/* Reads the whole body, refusing (413) as soon as it passes max without reading on. */
int mcpgw_relay_read_body(request_rec *r, apr_off_t max, char **body, apr_size_t *len)
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

int mcpgw_relay_answer(request_rec *r, mcpgw_ipc_client_t *ipc,
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
            return mcpgw_relay_engine_unavailable(r);
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
                return mcpgw_relay_engine_unavailable(r);
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

