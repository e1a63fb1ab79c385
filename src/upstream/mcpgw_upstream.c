#include "mcpgw_upstream.h"
#include "mcpgw_json.h"
#include "mcpgw_jsonrpc.h"
#include "mcpgw_log.h"
#include "mcpgw_version.h"

#include <apr_hash.h>
#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>

/* Revisions we can speak to a server, newest first; we offer the first. */
static const char *const client_versions[] = { "2025-11-25", "2025-06-18", "2025-03-26",
                                               "2024-11-05", NULL };

struct mcpgw_upstream_call_t {
    apr_int64_t id;
    apr_time_t deadline;
    mcpgw_upstream_reply_fn on_reply;
    mcpgw_upstream_progress_fn on_progress;
    void *baton;
};

struct mcpgw_upstream_t {
    apr_pool_t *pool;
    apr_pool_t *conn_pool;             /* one connection's lifetime (transport, tools) */
    const mcpgw_upstream_config_t *cfg;
    const mcpgw_loop_t *loop;
    apr_interval_time_t request_timeout;
    mcpgw_upstream_changed_fn on_change;
    void *on_change_baton;
    mcpgw_upstream_state_e state;
    mcpgw_transport_t *transport;
    apr_int64_t next_id;
    apr_hash_t *pending;               /* id -> mcpgw_upstream_call_t* (malloc'd) */
    json_t *tools;                     /* owned by conn_pool */
    json_t *listing;                   /* tools being collected across pages */
    int relist;                        /* list_changed arrived while listing */
    const char *protocol_version;
    apr_pool_t *cfg_pool;              /* owns cfg when set through mcpgw_upstream_set_config */
    char last_error[256];
    mcpgw_upstream_settled_fn settled;
    void *settled_baton;
    /* health */
    apr_interval_time_t health_interval, health_timeout;
    int health_max_failures;
    int health_failures;
    int health_use_list;               /* the server has no ping */
    int health_in_flight;
    apr_time_t health_next;
    int destroyed;                     /* removed: its memory goes at the end of the round */
};

const char *mcpgw_upstream_state_name(mcpgw_upstream_state_e state)
{
    switch (state) {
    case MCPGW_UPSTREAM_CONNECTING: return "connecting";
    case MCPGW_UPSTREAM_CONNECTED: return "connected";
    case MCPGW_UPSTREAM_DISCONNECTED: return "disconnected";
    default: return "error";
    }
}

mcpgw_upstream_state_e mcpgw_upstream_state(const mcpgw_upstream_t *u) { return u->state; }
const char *mcpgw_upstream_name(const mcpgw_upstream_t *u) { return u->cfg->name; }
const mcpgw_upstream_config_t *mcpgw_upstream_config(const mcpgw_upstream_t *u) { return u->cfg; }
json_t *mcpgw_upstream_tools(const mcpgw_upstream_t *u) { return u->tools; }

mcpgw_upstream_t *mcpgw_upstream_create(apr_pool_t *parent, const mcpgw_upstream_config_t *cfg,
                                        const mcpgw_loop_t *loop,
                                        apr_interval_time_t request_timeout,
                                        mcpgw_upstream_changed_fn on_change, void *baton)
{
    apr_pool_t *pool;
    mcpgw_upstream_t *u;
    apr_pool_create(&pool, parent);
    u = apr_pcalloc(pool, sizeof(*u));
    u->pool = pool;
    u->cfg = cfg;
    u->loop = loop;
    u->request_timeout = request_timeout;
    u->on_change = on_change;
    u->on_change_baton = baton;
    u->state = MCPGW_UPSTREAM_DISCONNECTED;
    u->pending = apr_hash_make(pool);
    u->next_id = 1;
    return u;
}

static void destroy_pool_later(void *pool);

static void set_state(mcpgw_upstream_t *u, mcpgw_upstream_state_e state)
{
    mcpgw_upstream_settled_fn settled = u->settled;
    if (u->state == state)
        return;
    mcpgw_log(state == MCPGW_UPSTREAM_CONNECTED ? MCPGW_LOG_NOTICE : MCPGW_LOG_WARNING,
              "upstream %s: %s -> %s", u->cfg->name, mcpgw_upstream_state_name(u->state),
              mcpgw_upstream_state_name(state));
    u->state = state;
    if (state == MCPGW_UPSTREAM_CONNECTED) {
        u->health_failures = 0;
        u->health_next = apr_time_now() + u->health_interval;
    }
    if (settled && state != MCPGW_UPSTREAM_CONNECTING) {
        u->settled = NULL;
        settled(u->settled_baton, state == MCPGW_UPSTREAM_CONNECTED,
                u->last_error[0] ? u->last_error : "not connected");
    }
}

static void note_error(mcpgw_upstream_t *u, const char *what)
{
    apr_cpystrn(u->last_error, what, sizeof(u->last_error));
}

void mcpgw_upstream_when_settled(mcpgw_upstream_t *u, mcpgw_upstream_settled_fn fn, void *baton)
{
    u->settled = fn;
    u->settled_baton = baton;
}

apr_interval_time_t mcpgw_upstream_request_timeout(const mcpgw_upstream_t *u)
{
    return u->request_timeout;
}

int mcpgw_upstream_destroyed(const mcpgw_upstream_t *u)
{
    return u->destroyed;
}

const char *mcpgw_upstream_last_error(const mcpgw_upstream_t *u)
{
    return u->last_error[0] ? u->last_error : NULL;
}

void mcpgw_upstream_set_health(mcpgw_upstream_t *u, apr_interval_time_t interval,
                               apr_interval_time_t timeout, int max_failures)
{
    u->health_interval = interval;
    u->health_timeout = timeout;
    u->health_max_failures = max_failures > 0 ? max_failures : 1;
    u->health_next = apr_time_now() + interval;
}

void mcpgw_upstream_set_config(mcpgw_upstream_t *u, const mcpgw_upstream_config_t *cfg,
                               apr_pool_t *cfg_pool)
{
    apr_pool_t *old = u->cfg_pool;
    u->cfg = cfg;
    u->cfg_pool = cfg_pool;
    if (old)
        u->loop->post(u->loop->loop_baton, destroy_pool_later, old);
}

static void changed(mcpgw_upstream_t *u)
{
    if (u->on_change)
        u->on_change(u, u->on_change_baton);
}

static void destroy_pool_later(void *pool)
{
    apr_pool_destroy(pool);
}

/* ---- requests ------------------------------------------------------------------------ */

static apr_status_t send_json(mcpgw_upstream_t *u, json_t *msg)
{
    apr_status_t rv;
    char *text;
    if (!u->transport) {
        json_decref(msg);
        return APR_EGENERAL;
    }
    text = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);
    if (!text)
        return APR_ENOMEM;
    rv = u->transport->send(u->transport, text, strlen(text));
    free(text);
    return rv;
}

static mcpgw_upstream_call_t *send_request(mcpgw_upstream_t *u, const char *method,
                                           json_t *params, apr_interval_time_t timeout,
                                           mcpgw_upstream_reply_fn on_reply,
                                           mcpgw_upstream_progress_fn on_progress, void *baton)
{
    mcpgw_upstream_call_t *call = calloc(1, sizeof(*call));
    json_t *msg;
    if (!call)
        abort();
    call->id = u->next_id++;
    call->deadline = apr_time_now() + (timeout > 0 ? timeout : u->request_timeout);
    call->on_reply = on_reply;
    call->on_progress = on_progress;
    call->baton = baton;
    if (!params)
        params = json_object();
    if (on_progress) {
        /* Our own token (the request id): two clients' tokens may collide, ours cannot. */
        json_t *meta = json_object_get(params, "_meta");
        if (!json_is_object(meta)) {
            meta = json_object();
            json_object_set_new(params, "_meta", meta);
        }
        json_object_set_new(meta, "progressToken", json_integer(call->id));
    }
    msg = json_pack("{s:s, s:I, s:s, s:o}", "jsonrpc", "2.0", "id", (json_int_t)call->id,
                    "method", method, "params", params);
    apr_hash_set(u->pending, &call->id, sizeof(call->id), call);
    if (send_json(u, msg) != APR_SUCCESS) {
        /* The transport failed synchronously; it reports the closure itself. */
        mcpgw_log(MCPGW_LOG_WARNING, "upstream %s: could not send %s", u->cfg->name, method);
    }
    return call;
}

mcpgw_upstream_call_t *mcpgw_upstream_request(mcpgw_upstream_t *u, const char *method,
                                              json_t *params, apr_interval_time_t timeout,
                                              mcpgw_upstream_reply_fn on_reply,
                                              mcpgw_upstream_progress_fn on_progress,
                                              void *baton)
{
    if (u->state != MCPGW_UPSTREAM_CONNECTED) {
        json_decref(params);
        return NULL;
    }
    return send_request(u, method, params, timeout, on_reply, on_progress, baton);
}

static void forget(mcpgw_upstream_t *u, mcpgw_upstream_call_t *call)
{
    apr_hash_set(u->pending, &call->id, sizeof(call->id), NULL);
    free(call);
}

static void send_cancelled(mcpgw_upstream_t *u, apr_int64_t id, const char *reason)
{
    send_json(u, json_pack("{s:s, s:s, s:{s:I, s:s}}", "jsonrpc", "2.0", "method",
                           "notifications/cancelled", "params", "requestId", (json_int_t)id,
                           "reason", reason));
}

void mcpgw_upstream_cancel(mcpgw_upstream_t *u, mcpgw_upstream_call_t *call, const char *reason)
{
    if (u->state == MCPGW_UPSTREAM_CONNECTED)
        send_cancelled(u, call->id, reason);
    forget(u, call);
}

static void fail_call(mcpgw_upstream_t *u, mcpgw_upstream_call_t *call, int code, const char *msg)
{
    mcpgw_upstream_reply_fn fn = call->on_reply;
    void *baton = call->baton;
    forget(u, call);
    if (fn)
        fn(baton, NULL, json_pack("{s:i, s:s}", "code", code, "message", msg));
}

static void fail_all(mcpgw_upstream_t *u, const char *why)
{
    apr_hash_index_t *hi;
    while ((hi = apr_hash_first(NULL, u->pending)) != NULL)
        fail_call(u, apr_hash_this_val(hi), MCPGW_UPSTREAM_ERR_DISCONNECTED, why);
}

static void on_health_reply(void *baton, json_t *result, json_t *error)
{
    mcpgw_upstream_t *u = baton;
    json_t *code = json_object_get(error, "code");
    u->health_in_flight = 0;
    json_decref(result);
    if (!error) {
        u->health_failures = 0;
        return;
    }
    if (!u->health_use_list && json_is_integer(code) &&
        json_integer_value(code) == MCPGW_JSONRPC_METHOD_NOT_FOUND) {
        /* No ping here: tools/list answers the same question. */
        u->health_use_list = 1;
        json_decref(error);
        return;
    }
    u->health_failures++;
    mcpgw_log(MCPGW_LOG_WARNING, "upstream %s: health check failed (%d of %d): %s", u->cfg->name,
              u->health_failures, u->health_max_failures,
              mcpgw_json_string(error, "message") ? mcpgw_json_string(error, "message") : "?");
    json_decref(error);
    if (u->health_failures >= u->health_max_failures && u->state == MCPGW_UPSTREAM_CONNECTED) {
        note_error(u, apr_psprintf(u->pool, "%d consecutive health checks failed",
                                   u->health_failures));
        mcpgw_upstream_stop(u, u->last_error);
        changed(u);
    }
}

static void health_check(mcpgw_upstream_t *u, apr_time_t now)
{
    if (u->health_interval <= 0 || u->state != MCPGW_UPSTREAM_CONNECTED || u->health_in_flight ||
        now < u->health_next)
        return;
    u->health_next = now + u->health_interval;
    u->health_in_flight = 1;
    send_request(u, u->health_use_list ? "tools/list" : "ping", json_object(), u->health_timeout,
                 on_health_reply, NULL, u);
}

void mcpgw_upstream_tick(mcpgw_upstream_t *u, apr_time_t now)
{
    apr_int64_t expired[64];
    int n = 0;
    health_check(u, now);
    /* Collect first, fail after: failing a call runs callbacks that may stop the upstream
     * and free every other pending call under an iterator. */
    for (apr_hash_index_t *hi = apr_hash_first(NULL, u->pending); hi && n < 64; hi = apr_hash_next(hi)) {
        mcpgw_upstream_call_t *call = apr_hash_this_val(hi);
        if (now >= call->deadline)
            expired[n++] = call->id;
    }
    for (int i = 0; i < n; i++) {
        mcpgw_upstream_call_t *call = apr_hash_get(u->pending, &expired[i], sizeof(expired[i]));
        if (!call)
            continue; /* gone meanwhile (the upstream stopped) */
        send_cancelled(u, call->id, "timeout");
        fail_call(u, call, MCPGW_UPSTREAM_ERR_TIMEOUT, "timeout");
    }
}

/* ---- handshake and tool list --------------------------------------------------------- */

static void list_tools(mcpgw_upstream_t *u, const char *cursor);

static void on_tools_page(void *baton, json_t *result, json_t *error)
{
    mcpgw_upstream_t *u = baton;
    json_t *tools = json_object_get(result, "tools");
    const char *next = mcpgw_json_string(result, "nextCursor");
    if (error || !json_is_array(tools)) {
        mcpgw_log(MCPGW_LOG_ERR, "upstream %s: tools/list failed: %s", u->cfg->name,
                  error ? mcpgw_json_string(error, "message") : "no tools array");
        note_error(u, "tools/list failed");
        json_decref(result);
        json_decref(error);
        if (u->listing) {
            json_decref(u->listing);
            u->listing = NULL;
        }
        if (u->state == MCPGW_UPSTREAM_CONNECTING) {
            set_state(u, MCPGW_UPSTREAM_ERROR);
            mcpgw_upstream_stop(u, "tools/list failed");
        }
        return;
    }
    if (!u->listing)
        u->listing = json_array();
    json_array_extend(u->listing, tools);
    if (next) {
        list_tools(u, next);
        json_decref(result);
        return;
    }
    json_decref(result);
    u->tools = mcpgw_json_own(u->conn_pool, u->listing);
    u->listing = NULL;
    mcpgw_log(MCPGW_LOG_INFO, "upstream %s: %lu tools", u->cfg->name,
              (unsigned long)json_array_size(u->tools));
    set_state(u, MCPGW_UPSTREAM_CONNECTED);
    changed(u);
    if (u->relist) {
        u->relist = 0;
        list_tools(u, NULL);
    }
}

static void list_tools(mcpgw_upstream_t *u, const char *cursor)
{
    json_t *params = cursor ? json_pack("{s:s}", "cursor", cursor) : json_object();
    send_request(u, "tools/list", params, 0, on_tools_page, NULL, u);
}

static void on_initialized(void *baton, json_t *result, json_t *error)
{
    mcpgw_upstream_t *u = baton;
    const char *version = mcpgw_json_string(result, "protocolVersion");
    int known = 0;

    if (error) {
        mcpgw_log(MCPGW_LOG_ERR, "upstream %s: initialize failed: %s", u->cfg->name,
                  mcpgw_json_string(error, "message"));
        note_error(u, apr_psprintf(u->pool, "initialize failed: %s",
                                   mcpgw_json_string(error, "message") ? mcpgw_json_string(error, "message") : "?"));
        json_decref(error);
        set_state(u, MCPGW_UPSTREAM_ERROR);
        mcpgw_upstream_stop(u, "initialize failed");
        changed(u);
        return;
    }
    for (const char *const *v = client_versions; version && *v; v++)
        known |= strcmp(*v, version) == 0;
    if (!known) {
        mcpgw_log(MCPGW_LOG_ERR, "upstream %s: server answered with protocol version %s, "
                  "which the gateway does not speak", u->cfg->name, version ? version : "(none)");
        json_decref(result);
        set_state(u, MCPGW_UPSTREAM_ERROR);
        mcpgw_upstream_stop(u, "unsupported protocol version");
        changed(u);
        return;
    }
    u->protocol_version = apr_pstrdup(u->conn_pool, version);
    json_decref(result);
    if (u->transport->negotiated)
        u->transport->negotiated(u->transport, u->protocol_version);
    send_json(u, json_pack("{s:s, s:s}", "jsonrpc", "2.0", "method", "notifications/initialized"));
    list_tools(u, NULL);
}

void mcpgw_upstream_start(mcpgw_upstream_t *u)
{
    const char *why = "unknown";
    json_t *params;

    if (u->destroyed)
        return;

    if (u->transport)
        mcpgw_upstream_stop(u, "restart");
    /* Not a child of u->pool: a connection's pool is destroyed on its own schedule (after
     * the loop's current round), which may come after the upstream itself was removed. */
    apr_pool_create(&u->conn_pool, NULL);
    u->tools = NULL;
    u->protocol_version = NULL;
    u->last_error[0] = '\0';
    u->health_in_flight = 0;
    set_state(u, MCPGW_UPSTREAM_CONNECTING);
    switch (u->cfg->type) {
    case MCPGW_CONN_STDIO:
        u->transport = mcpgw_transport_stdio_create(u->conn_pool, u, u->cfg, u->loop);
        break;
    case MCPGW_CONN_HTTP:
        u->transport = mcpgw_transport_http_create(u->conn_pool, u, u->cfg, u->loop);
        break;
    case MCPGW_CONN_SSE:
        u->transport = mcpgw_transport_sse_create(u->conn_pool, u, u->cfg, u->loop);
        break;
    }
    if (!u->transport || u->transport->start(u->transport, &why) != APR_SUCCESS) {
        mcpgw_log(MCPGW_LOG_ERR, "upstream %s: cannot connect: %s", u->cfg->name, why);
        note_error(u, why);
        u->transport = NULL;
        apr_pool_destroy(u->conn_pool);
        u->conn_pool = NULL;
        set_state(u, MCPGW_UPSTREAM_ERROR);
        changed(u);
        return;
    }
    params = json_pack("{s:s, s:{}, s:{s:s, s:s}}", "protocolVersion", client_versions[0],
                       "capabilities", "clientInfo", "name", "mod_mcp_gateway", "version",
                       MCPGW_VERSION);
    send_request(u, "initialize", params, 0, on_initialized, NULL, u);
}

void mcpgw_upstream_stop(mcpgw_upstream_t *u, const char *reason)
{
    mcpgw_transport_t *t = u->transport;
    if (!t)
        return;
    u->transport = NULL;
    t->stop(t);
    if (u->listing) {
        json_decref(u->listing);
        u->listing = NULL;
    }
    fail_all(u, apr_psprintf(u->pool, "upstream %s disconnected: %s", u->cfg->name, reason));
    u->tools = NULL;
    /* Freed once the loop has finished the current round of events: the transport may be
     * the one calling us, and a ready event of its own may still be waiting in the batch. */
    u->loop->post(u->loop->loop_baton, destroy_pool_later, u->conn_pool);
    u->conn_pool = NULL;
    if (u->state == MCPGW_UPSTREAM_CONNECTED || u->state == MCPGW_UPSTREAM_CONNECTING)
        set_state(u, MCPGW_UPSTREAM_DISCONNECTED);
}

void mcpgw_upstream_destroy(mcpgw_upstream_t *u)
{
    mcpgw_upstream_settled_fn settled = u->settled;
    if (u->destroyed)
        return;
    u->destroyed = 1;
    u->settled = NULL;
    u->on_change = NULL;
    /* Whoever waits for this upstream to settle hears that it never will. */
    if (settled)
        settled(u->settled_baton, 0, "the client was removed");
    mcpgw_upstream_stop(u, "removed");
    if (u->cfg_pool)
        u->loop->post(u->loop->loop_baton, destroy_pool_later, u->cfg_pool);
    u->loop->post(u->loop->loop_baton, destroy_pool_later, u->pool);
}

/* ---- messages from the server -------------------------------------------------------- */

static void on_response(mcpgw_upstream_t *u, json_t *msg, const mcpgw_jsonrpc_msg_t *m)
{
    apr_int64_t id;
    mcpgw_upstream_call_t *call;
    mcpgw_upstream_reply_fn fn;
    void *baton;
    json_t *result, *error;

    if (!json_is_integer(m->id)) {
        mcpgw_log(MCPGW_LOG_WARNING, "upstream %s: response with an id we never sent", u->cfg->name);
        return;
    }
    id = (apr_int64_t)json_integer_value(m->id);
    call = apr_hash_get(u->pending, &id, sizeof(id));
    if (!call) {
        /* Late (timed out or cancelled) or invented: nothing waits for it. */
        mcpgw_log(MCPGW_LOG_DEBUG, "upstream %s: response to unknown id %" APR_INT64_T_FMT,
                  u->cfg->name, id);
        return;
    }
    result = json_object_get(msg, "result");
    error = json_object_get(msg, "error");
    fn = call->on_reply;
    baton = call->baton;
    forget(u, call);
    if (fn)
        fn(baton, result ? json_incref(result) : NULL, error ? json_incref(error) : NULL);
}

static void reply_to_server(mcpgw_upstream_t *u, json_t *id, json_t *result, int code,
                            const char *message)
{
    send_json(u, result ? mcpgw_jsonrpc_result(id, result)
                        : mcpgw_jsonrpc_error(id, code, message, NULL));
}

static void on_server_request(mcpgw_upstream_t *u, const mcpgw_jsonrpc_msg_t *m)
{
    if (strcmp(m->method, "ping") == 0)
        reply_to_server(u, m->id, json_object(), 0, NULL);
    else if (strcmp(m->method, "roots/list") == 0)
        reply_to_server(u, m->id, json_pack("{s:[]}", "roots"), 0, NULL);
    else
        reply_to_server(u, m->id, NULL, MCPGW_JSONRPC_METHOD_NOT_FOUND,
                        "Method not supported by the gateway");
}

static void on_notification(mcpgw_upstream_t *u, const mcpgw_jsonrpc_msg_t *m)
{
    if (strcmp(m->method, "notifications/tools/list_changed") == 0) {
        if (u->state != MCPGW_UPSTREAM_CONNECTED)
            return;
        if (u->listing)
            u->relist = 1;
        else
            list_tools(u, NULL);
    }
    else if (strcmp(m->method, "notifications/progress") == 0) {
        json_t *token = json_object_get(m->params, "progressToken");
        apr_int64_t id;
        mcpgw_upstream_call_t *call;
        if (!json_is_integer(token))
            return;
        id = (apr_int64_t)json_integer_value(token);
        call = apr_hash_get(u->pending, &id, sizeof(id));
        if (call && call->on_progress)
            call->on_progress(call->baton, m->params);
    }
    else if (strcmp(m->method, "notifications/message") == 0) {
        json_t *data = json_object_get(m->params, "data");
        char *text = data ? json_dumps(data, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        mcpgw_log(MCPGW_LOG_INFO, "upstream %s: log %s: %.500s", u->cfg->name,
                  mcpgw_json_string(m->params, "level") ? mcpgw_json_string(m->params, "level")
                                                        : "info",
                  text ? text : "");
        free(text);
    }
}

void mcpgw_upstream_on_message(mcpgw_upstream_t *u, const char *text, apr_size_t len)
{
    json_error_t err;
    json_t *msg = json_loadb(text, len, 0, &err);
    mcpgw_jsonrpc_msg_t m;

    if (!msg) {
        mcpgw_log(MCPGW_LOG_WARNING, "upstream %s: skipped a line that is not JSON: %.200s",
                  u->cfg->name, text);
        return;
    }
    mcpgw_jsonrpc_classify(msg, &m);
    switch (m.kind) {
    case MCPGW_MSG_RESPONSE:
        on_response(u, msg, &m);
        break;
    case MCPGW_MSG_NOTIFICATION:
        on_notification(u, &m);
        break;
    case MCPGW_MSG_REQUEST:
        on_server_request(u, &m);
        break;
    default:
        mcpgw_log(MCPGW_LOG_WARNING, "upstream %s: skipped an invalid JSON-RPC message (%s)",
                  u->cfg->name, m.invalid_reason);
    }
    json_decref(msg);
}

void mcpgw_upstream_on_closed(mcpgw_upstream_t *u, const char *reason)
{
    int was_connecting = u->state == MCPGW_UPSTREAM_CONNECTING;
    mcpgw_log(MCPGW_LOG_WARNING, "upstream %s: connection lost: %s", u->cfg->name, reason);
    note_error(u, reason);
    mcpgw_upstream_stop(u, reason);
    if (was_connecting)
        set_state(u, MCPGW_UPSTREAM_ERROR);
    changed(u);
}
