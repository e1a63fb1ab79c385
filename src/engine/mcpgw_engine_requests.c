/* What the engine does with a child's REQUEST frame: POST goes through the MCP server and
 * is answered when every reply is in; GET becomes an event stream; DELETE ends a session. */
#include "mcpgw_engine_internal.h"
#include "mcpgw_json.h"
#include "mcpgw_jsonrpc.h"
#include "mcpgw_log.h"
#include "mcpgw_http_rules.h"
#include "mcpgw_protocol.h"

#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>

static const char *meta_field(json_t *meta, const char *key)
{
    return mcpgw_json_string(meta, key);
}

static void send_event(engine_conn_t *conn, const char *json, apr_size_t len)
{
    char *event = malloc(len + 9);
    if (!event)
        abort();
    memcpy(event, "data: ", 6);
    memcpy(event + 6, json, len);
    memcpy(event + 6 + len, "\n\n", 2);
    engine_conn_send(conn, MCPGW_IPC_DATA, event, len + 8);
    free(event);
}

/* A listen stream's notifications name the subscription they belong to. */
static void send_notification(engine_conn_t *conn, const char *method)
{
    char buf[512];
    int n;
    if (conn->subscription_id)
        n = apr_snprintf(buf, sizeof(buf),
                         "{\"jsonrpc\":\"2.0\",\"method\":\"%s\",\"params\":{\"_meta\":"
                         "{\"io.modelcontextprotocol/subscriptionId\":%s}}}",
                         method, conn->subscription_id);
    else
        n = apr_snprintf(buf, sizeof(buf), "{\"jsonrpc\":\"2.0\",\"method\":\"%s\"}", method);
    send_event(conn, buf, (apr_size_t)n);
}

static void send_json_answer(engine_conn_t *conn, int status, const char *session_id,
                             const char *body, apr_size_t len)
{
    const char *headers[] = { "Content-Type", "application/json", NULL, NULL, NULL };
    if (session_id) {
        headers[2] = "Mcp-Session-Id";
        headers[3] = session_id;
    }
    engine_conn_cork(conn);
    engine_conn_send_head(conn, status, body ? headers : NULL);
    if (body)
        engine_conn_send(conn, MCPGW_IPC_DATA, body, len);
    engine_conn_finish(conn);
    engine_conn_uncork(conn);
}

static void send_error_answer(engine_conn_t *conn, int status, int code, const char *message)
{
    apr_size_t len;
    json_t *err = mcpgw_jsonrpc_error(NULL, code, message, NULL);
    const char *body = mcpgw_json_dump(conn->req_pool, err, &len);
    json_decref(err);
    send_json_answer(conn, status, NULL, body, len);
}

static const char *const event_stream_headers[] = { "Content-Type", "text/event-stream",
                                                     "Cache-Control", "no-cache",
                                                     "X-Accel-Buffering", "no", NULL, NULL };

/* A progress notification for a caller that accepts an event stream: the answer turns
 * into one (head now, events as they come, the replies as the last events). */
static void exchange_event(mcpgw_exchange_t *ex, const char *json, apr_size_t len, void *baton)
{
    engine_conn_t *conn = baton;
    if (conn->closed)
        return;
    if (!conn->events_started) {
        conn->events_started = 1;
        engine_conn_send_head(conn, 200, event_stream_headers);
    }
    send_event(conn, json, len);
}

static void exchange_done(mcpgw_exchange_t *ex, void *baton)
{
    engine_conn_t *conn = baton;
    apr_size_t len = 0;
    const char *body;

    if (conn->closed) {
        engine_conn_release(conn);
        return;
    }
    body = mcpgw_exchange_body(ex, &len);
    if (conn->events_started) {
        /* A batch's replies go one event each; a single reply is one event. */
        if (ex->is_batch)
            for (int i = 0; i < ex->replies->nelts; i++) {
                apr_size_t n;
                const char *text = mcpgw_exchange_reply(ex, (unsigned)i, &n);
                send_event(conn, text, n);
            }
        else
            send_event(conn, body, len);
        engine_conn_finish(conn);
        return;
    }
    send_json_answer(conn, ex->status, ex->session_id, body, len);
}

static void start_stream(engine_conn_t *conn, mcpgw_session_t *session, unsigned topics,
                         const char *subscription_id)
{
    const char *const *headers = event_stream_headers;
    conn->state = CONN_STREAMING;
    conn->session = session;
    conn->topics = topics;
    conn->subscription_id = subscription_id;
    APR_RING_INSERT_TAIL(&conn->engine->streams, conn, engine_conn_t, link);
    engine_conn_send_head(conn, 200, headers);
}

static void handle_post(engine_conn_t *conn, const mcpgw_mcp_request_t *req)
{
    mcpgw_exchange_t *ex = mcpgw_exchange_create(conn->req_pool);
    conn->exchange = ex;
    conn->state = CONN_BUSY;
    mcpgw_mcp_server_post(conn->engine->server, req, ex);
    if (ex->listen_id && ex->pending == 0) {
        /* subscriptions/listen: acknowledged first, then only what was asked for. */
        const char *id = mcpgw_json_dump(conn->req_pool, ex->listen_id, NULL);
        conn->exchange = NULL;
        start_stream(conn, NULL, ex->listen_topics, id);
        send_notification(conn, "notifications/subscriptions/acknowledged");
        return;
    }
    if (ex->pending == 0) {
        exchange_done(ex, conn);
        return;
    }
    if (!req->accept || mcpgw_http_accepts(req->accept, "text/event-stream"))
        ex->on_event = exchange_event;
    /* Set only now (replies filled during dispatch must not answer a half-built batch),
     * but before anything is written: a failed write abandons the request, and its last
     * reply must find on_done to release the connection. */
    ex->on_done = exchange_done;
    ex->on_done_baton = conn;
    engine_conn_send(conn, MCPGW_IPC_ACCEPTED, NULL, 0);
}

/* Refuses a GET or DELETE whose MCP-Protocol-Version we do not speak; 1 when refused. */
static int refuse_bad_version(engine_conn_t *conn, const mcpgw_mcp_request_t *req)
{
    if (!req->protocol_version || mcpgw_protocol_is_supported(req->protocol_version))
        return 0;
    send_error_answer(conn, 400, MCPGW_MCP_BAD_REQUEST, "Bad Request: Unsupported protocol version");
    return 1;
}

static void handle_get(engine_conn_t *conn, const mcpgw_mcp_request_t *req)
{
    mcpgw_session_t *session;
    const char *opened = mcpgw_mcp_server_stream_opened_event();
    int status;

    if (refuse_bad_version(conn, req))
        return;
    if (req->protocol_version && !mcpgw_protocol_uses_sessions(req->protocol_version)) {
        /* The stateless revision has no GET stream (it listens through a POST). */
        const char *h[] = { "Allow", "POST", NULL, NULL };
        engine_conn_send_head(conn, 405, h);
        engine_conn_finish(conn);
        return;
    }
    status = mcpgw_mcp_server_session_for(conn->engine->server, req, 0, &session);
    if (status) {
        send_error_answer(conn, status,
                          status == 404 ? MCPGW_MCP_SESSION_NOT_FOUND : MCPGW_MCP_BAD_REQUEST,
                          status == 404 ? "Session not found" : "Bad Request");
        return;
    }
    start_stream(conn, session, ~0u, NULL);
    send_event(conn, opened, strlen(opened));
}

static void handle_delete(engine_conn_t *conn, const mcpgw_mcp_request_t *req)
{
    mcpgw_session_t *session;
    int status;
    if (refuse_bad_version(conn, req))
        return;
    status = mcpgw_mcp_server_session_for(conn->engine->server, req, 1, &session);
    if (status) {
        send_error_answer(conn, status,
                          status == 404 ? MCPGW_MCP_SESSION_NOT_FOUND : MCPGW_MCP_BAD_REQUEST,
                          status == 404 ? "Session not found"
                                        : "Bad Request: Mcp-Session-Id header is required");
        return;
    }
    mcpgw_session_remove(mcpgw_mcp_server_sessions(conn->engine->server), session);
    engine_conn_send_head(conn, 200, NULL);
    engine_conn_finish(conn);
}

void engine_request_handle(engine_conn_t *conn, const char *payload, apr_size_t len)
{
    const char *nl = memchr(payload, '\n', len);
    mcpgw_mcp_request_t req = { 0 };
    json_t *meta;

    meta = nl ? mcpgw_json_load(conn->req_pool, payload, (apr_size_t)(nl - payload), NULL)
              : NULL;
    if (!json_is_object(meta)) {
        mcpgw_log(MCPGW_LOG_WARNING, "engine: unreadable request frame from a child");
        engine_conn_close(conn);
        return;
    }
    req.http_method = meta_field(meta, "method");
    req.session_id = meta_field(meta, "session");
    req.protocol_version = meta_field(meta, "version");
    req.mcp_method = meta_field(meta, "mcp_method");
    req.mcp_name = meta_field(meta, "mcp_name");
    req.accept = meta_field(meta, "accept");
    req.principal = meta_field(meta, "principal");
    req.key = meta_field(meta, "key");
    req.body = nl + 1;
    req.body_len = len - (apr_size_t)(nl + 1 - payload);

    if (!req.http_method)
        engine_conn_close(conn);
    else if (json_is_true(json_object_get(meta, "auth")))
        engine_keys_authenticate(conn, meta_field(meta, "key_sha256"));
    else if (json_is_true(json_object_get(meta, "admin")))
        engine_admin_handle(conn, req.http_method, meta_field(meta, "path") ? meta_field(meta, "path") : "",
                            req.body, req.body_len);
    else if (strcmp(req.http_method, "POST") == 0)
        handle_post(conn, &req);
    else if (strcmp(req.http_method, "GET") == 0)
        handle_get(conn, &req);
    else if (strcmp(req.http_method, "DELETE") == 0)
        handle_delete(conn, &req);
    else
        send_error_answer(conn, 405, MCPGW_MCP_BAD_REQUEST, "Method not allowed");
}

void engine_request_abandon(engine_conn_t *conn)
{
    mcpgw_exchange_t *ex = conn->exchange;
    if (!ex)
        return;
    /* Each cancelled call is answered locally; the last answer runs exchange_done, which
     * releases the connection. The calls live in the exchange's pool and the connection is
     * freed only after this round, so walking the list stays safe. */
    int n = ex->calls->nelts;
    for (int i = 0; i < n; i++)
        mcpgw_registry_cancel_call(conn->engine->registry,
                                   APR_ARRAY_IDX(ex->calls, i, mcpgw_tool_call_t *));
}

void engine_streams_notify(mcpgw_engine_t *engine, const char *method, unsigned topic)
{
    engine_conn_t *conn, *next;
    for (conn = APR_RING_FIRST(&engine->streams);
         conn != APR_RING_SENTINEL(&engine->streams, engine_conn_t, link); conn = next) {
        next = APR_RING_NEXT(conn, link);
        if (conn->topics & topic)
            send_notification(conn, method);
    }
}

void engine_streams_close_session(mcpgw_engine_t *engine, mcpgw_session_t *session)
{
    engine_conn_t *conn, *next;
    for (conn = APR_RING_FIRST(&engine->streams); conn != APR_RING_SENTINEL(&engine->streams,
                                                                             engine_conn_t, link);
         conn = next) {
        next = APR_RING_NEXT(conn, link);
        if (conn->session == session)
            engine_conn_finish(conn);
    }
}
