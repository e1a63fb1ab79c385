#include "mcpgw_mcp_server.h"
#include "mcpgw_json.h"
#include "mcpgw_jsonrpc.h"
#include "mcpgw_protocol.h"

#include <apr_base64.h>
#include <apr_strings.h>
#include <string.h>

/* Where a stateless (2026-07-28) request names its revision when no header does. */
#define META_PROTOCOL_VERSION "io.modelcontextprotocol/protocolVersion"
#define META_CLIENT_CAPABILITIES "io.modelcontextprotocol/clientCapabilities"

struct mcpgw_mcp_server_t {
    apr_pool_t *pool;
    mcpgw_mcp_server_options_t opts;
    mcpgw_session_store_t *sessions;
    mcpgw_catalog_t *catalog;
    json_t *server_info_json; /* {"name","version"}, owned by pool */
};

static json_t *server_info(const mcpgw_mcp_server_t *s);

/* What one request is being handled under. */
typedef struct {
    mcpgw_mcp_server_t *server;
    const mcpgw_mcp_request_t *req;
    mcpgw_exchange_t *ex;
    mcpgw_session_t *session; /* NULL for stateless requests */
    const char *version;      /* revision in force */
    int stateless;
} request_ctx_t;

mcpgw_mcp_server_t *mcpgw_mcp_server_create(apr_pool_t *pool,
                                            const mcpgw_mcp_server_options_t *options)
{
    mcpgw_mcp_server_t *s = apr_pcalloc(pool, sizeof(*s));
    s->pool = pool;
    s->opts = *options;
    s->sessions = mcpgw_session_store_create(pool, options->max_sessions,
                                             options->session_idle_timeout);
    s->catalog = mcpgw_catalog_create(pool, 0, 1);
    s->server_info_json = mcpgw_json_own(pool, server_info(s));
    return s;
}

mcpgw_session_store_t *mcpgw_mcp_server_sessions(mcpgw_mcp_server_t *server)
{
    return server->sessions;
}

void mcpgw_mcp_server_set_catalog(mcpgw_mcp_server_t *server, mcpgw_catalog_t *catalog)
{
    mcpgw_catalog_t *old = server->catalog;
    server->catalog = catalog;
    if (old != catalog)
        mcpgw_catalog_destroy(old);
}

mcpgw_catalog_t *mcpgw_mcp_server_catalog(mcpgw_mcp_server_t *server)
{
    return server->catalog;
}

const char *mcpgw_mcp_server_stream_opened_event(void)
{
    return "{\"jsonrpc\":\"2.0\",\"method\":\"connection/opened\"}";
}

json_t *mcpgw_tool_error_result(const char *message)
{
    return json_pack("{s:[{s:s, s:s}], s:b}", "content", "type", "text", "text", message,
                     "isError", 1);
}

/* ---- replies ---------------------------------------------------------------------- */

static void reply_error(request_ctx_t *c, json_t *id, int code, const char *message)
{
    unsigned slot = mcpgw_exchange_reserve(c->ex);
    mcpgw_exchange_fill(c->ex, slot, mcpgw_jsonrpc_error(id, code, message, NULL));
}

static void stamp_stateless_result(const mcpgw_mcp_server_t *s, json_t *result);

static void reply_result(request_ctx_t *c, json_t *id, json_t *result)
{
    unsigned slot = mcpgw_exchange_reserve(c->ex);
    if (c->stateless)
        stamp_stateless_result(c->server, result);
    mcpgw_exchange_fill(c->ex, slot, mcpgw_jsonrpc_result(id, result));
}

static json_t *server_capabilities(void)
{
    return json_pack("{s:{s:b}}", "tools", "listChanged", 1);
}

static json_t *server_info(const mcpgw_mcp_server_t *s)
{
    return json_pack("{s:s, s:s}", "name", s->opts.name, "version", s->opts.version);
}

/* ---- methods ---------------------------------------------------------------------- */

static void do_initialize(request_ctx_t *c, const mcpgw_jsonrpc_msg_t *m)
{
    const char *requested = mcpgw_json_string(m->params, "protocolVersion");
    json_t *caps = json_is_object(m->params) ? json_object_get(m->params, "capabilities") : NULL;
    json_t *info = json_is_object(m->params) ? json_object_get(m->params, "clientInfo") : NULL;
    const char *version;
    mcpgw_session_t *session;
    json_t *result;

    if (!json_is_object(m->params) || !requested) {
        reply_error(c, m->id, MCPGW_JSONRPC_INVALID_PARAMS,
                    "Invalid params: initialize needs params.protocolVersion (a string)");
        return;
    }
    if ((caps && !json_is_object(caps)) || (info && !json_is_object(info))) {
        reply_error(c, m->id, MCPGW_JSONRPC_INVALID_PARAMS,
                    "Invalid params: capabilities and clientInfo must be objects");
        return;
    }
    version = mcpgw_protocol_negotiate(requested);
    session = mcpgw_session_create(c->server->sessions, version, c->req->principal,
                                   apr_time_now());
    if (!session) {
        reply_error(c, m->id, MCPGW_JSONRPC_INTERNAL_ERROR, "Internal error: no session id");
        return;
    }
    if (caps)
        session->client_capabilities = mcpgw_json_own(session->pool, json_incref(caps));
    if (info)
        session->client_info = mcpgw_json_own(session->pool, json_incref(info));
    c->ex->session_id = apr_pstrdup(c->ex->pool, session->id);
    result = json_pack("{s:s, s:o, s:o}", "protocolVersion", version, "capabilities",
                       server_capabilities(), "serverInfo", server_info(c->server));
    if (c->server->opts.instructions)
        json_object_set_new(result, "instructions", json_string(c->server->opts.instructions));
    reply_result(c, m->id, result);
}

static void do_discover(request_ctx_t *c, const mcpgw_jsonrpc_msg_t *m)
{
    /* Cacheable for an hour: the capabilities only change with a new gateway version. */
    json_t *result = json_pack("{s:o, s:o, s:O, s:i, s:s}", "supportedVersions",
                               mcpgw_protocol_versions_json(), "capabilities",
                               server_capabilities(), "serverInfo", server_info(c->server),
                               "ttlMs", 3600000, "cacheScope", "public");
    json_decref(json_object_get(result, "serverInfo"));
    if (c->server->opts.instructions)
        json_object_set_new(result, "instructions", json_string(c->server->opts.instructions));
    reply_result(c, m->id, result);
}

typedef struct {
    mcpgw_mcp_server_t *server;
    const char *key;
} visibility_t;

static int visible_to_key(const mcpgw_catalog_tool_t *tool, void *baton)
{
    visibility_t *v = baton;
    return v->server->opts.tool_visible(v->key, tool, v->server->opts.tool_visible_baton);
}

static void do_tools_list(request_ctx_t *c, const mcpgw_jsonrpc_msg_t *m)
{
    const char *cursor = NULL;
    const char *page;
    apr_size_t page_len, len;
    const char *text;
    unsigned slot;

    if (m->params && json_is_object(m->params)) {
        json_t *cur = json_object_get(m->params, "cursor");
        if (cur && !json_is_string(cur)) {
            reply_error(c, m->id, MCPGW_JSONRPC_INVALID_PARAMS,
                        "Invalid params: cursor must be a string");
            return;
        }
        cursor = cur ? json_string_value(cur) : NULL;
    }
    if (c->req->key && c->server->opts.tool_visible) {
        visibility_t v = { c->server, c->req->key };
        page = mcpgw_catalog_page(c->server->catalog, c->ex->pool, cursor, visible_to_key, &v,
                                  &page_len);
    }
    else
        page = mcpgw_catalog_page(c->server->catalog, c->ex->pool, cursor, NULL, NULL, &page_len);
    if (!page) {
        reply_error(c, m->id, MCPGW_JSONRPC_INVALID_PARAMS, "Invalid params: unknown cursor");
        return;
    }
    if (c->stateless) {
        /* Splice the stateless stamp into the cached text instead of re-encoding it. */
        /* Private: what a caller sees depends on its key. A minute: list_changed tells
         * listening clients sooner. */
        const char *stamp = apr_psprintf(
            c->ex->pool,
            "{\"resultType\":\"complete\",\"ttlMs\":60000,\"cacheScope\":\"private\","
            "\"_meta\":{\"io.modelcontextprotocol/serverInfo\":%s},",
            mcpgw_json_dump(c->ex->pool, c->server->server_info_json, NULL));
        apr_size_t stamp_len = strlen(stamp);
        char *stamped = apr_palloc(c->ex->pool, page_len + stamp_len);
        memcpy(stamped, stamp, stamp_len);
        memcpy(stamped + stamp_len, page + 1, page_len - 1);
        page_len += stamp_len - 1;
        stamped[page_len] = '\0';
        page = stamped;
    }
    text = mcpgw_exchange_result_text(c->ex->pool, m->id, page, page_len, &len);
    slot = mcpgw_exchange_reserve(c->ex);
    mcpgw_exchange_fill_text(c->ex, slot, text, len);
}

static void do_tools_call(request_ctx_t *c, const mcpgw_jsonrpc_msg_t *m)
{
    const char *name = mcpgw_json_string(m->params, "name");
    json_t *args = json_is_object(m->params) ? json_object_get(m->params, "arguments") : NULL;
    json_t *meta = json_is_object(m->params) ? json_object_get(m->params, "_meta") : NULL;
    const mcpgw_catalog_tool_t *tool;
    mcpgw_tool_call_t *call;

    if (!name) {
        reply_error(c, m->id, MCPGW_JSONRPC_INVALID_PARAMS,
                    "Invalid params: tools/call needs params.name (a string)");
        return;
    }
    if (args && !json_is_object(args)) {
        reply_error(c, m->id, MCPGW_JSONRPC_INVALID_PARAMS,
                    "Invalid params: arguments must be an object");
        return;
    }
    tool = mcpgw_catalog_find(c->server->catalog, name);
    /* A tool outside the caller's key is answered exactly like one that does not exist. */
    if (tool && c->req->key && c->server->opts.tool_visible &&
        !c->server->opts.tool_visible(c->req->key, tool, c->server->opts.tool_visible_baton))
        tool = NULL;
    if (!tool || !c->server->opts.start_tool_call) {
        reply_error(c, m->id, MCPGW_JSONRPC_INVALID_PARAMS,
                    apr_psprintf(c->ex->pool, "Unknown tool: %s", name));
        return;
    }
    call = apr_pcalloc(c->ex->pool, sizeof(*call));
    call->exchange = c->ex;
    call->request_id = mcpgw_json_own(c->ex->pool, json_incref(m->id));
    call->upstream = apr_pstrdup(c->ex->pool, tool->upstream);
    call->tool_name = apr_pstrdup(c->ex->pool, tool->tool_name);
    call->arguments = args ? mcpgw_json_own(c->ex->pool, json_incref(args)) : NULL;
    call->principal = c->req->principal;
    call->session_id = c->session ? apr_pstrdup(c->ex->pool, c->session->id) : NULL;
    if (json_is_object(meta)) {
        json_t *token = json_object_get(meta, "progressToken");
        if (json_is_string(token) || json_is_integer(token))
            call->progress_token = mcpgw_json_own(c->ex->pool, json_incref(token));
    }
    call->slot = mcpgw_exchange_reserve(c->ex);
    APR_ARRAY_PUSH(c->ex->calls, mcpgw_tool_call_t *) = call;
    c->server->opts.start_tool_call(call, c->server->opts.start_tool_call_baton);
}

void mcpgw_tool_call_progress(mcpgw_tool_call_t *call, json_t *params)
{
    mcpgw_exchange_t *ex = call->exchange;
    json_t *note;
    apr_size_t len;
    const char *text;
    if (call->finished || !call->progress_token || !ex->on_event)
        return;
    /* The caller's own token goes back in place of the one we gave the upstream. */
    note = mcpgw_jsonrpc_notification("notifications/progress", json_deep_copy(params));
    json_object_set(json_object_get(note, "params"), "progressToken", call->progress_token);
    text = mcpgw_json_dump(ex->pool, note, &len);
    json_decref(note);
    ex->on_event(ex, text, len, ex->on_done_baton);
}

void mcpgw_tool_call_finish(mcpgw_tool_call_t *call, json_t *result, json_t *error)
{
    json_t *reply;
    if (call->finished) {
        json_decref(result);
        json_decref(error);
        return;
    }
    call->finished = 1;
    call->upstream_data = NULL;
    if (error) {
        const char *msg = mcpgw_json_string(error, "message");
        json_t *code = json_object_get(error, "code");
        reply = mcpgw_jsonrpc_error(call->request_id,
                                    json_is_integer(code) ? (int)json_integer_value(code)
                                                          : MCPGW_JSONRPC_INTERNAL_ERROR,
                                    msg ? msg : "Upstream error", NULL);
        if (json_object_get(error, "data"))
            json_object_set(json_object_get(reply, "error"), "data",
                            json_object_get(error, "data"));
        json_decref(error);
    }
    else {
        reply = mcpgw_jsonrpc_result(call->request_id, result);
    }
    mcpgw_exchange_fill(call->exchange, call->slot, reply);
}

/* subscriptions/listen: the exchange turns into a notification stream (the engine opens
 * it); no reply slot is used until the stream ends. */
static void do_listen(request_ctx_t *c, const mcpgw_jsonrpc_msg_t *m)
{
    json_t *wanted = json_is_object(m->params) ? json_object_get(m->params, "notifications") : NULL;
    unsigned topics = 0;
    if (wanted && !json_is_object(wanted)) {
        reply_error(c, m->id, MCPGW_JSONRPC_INVALID_PARAMS,
                    "Invalid params: notifications must be an object");
        return;
    }
    if (json_is_true(json_object_get(wanted, "toolsListChanged")))
        topics |= MCPGW_TOPIC_TOOLS_LIST_CHANGED;
    if (json_is_true(json_object_get(wanted, "promptsListChanged")))
        topics |= MCPGW_TOPIC_PROMPTS_LIST_CHANGED;
    if (json_is_true(json_object_get(wanted, "resourcesListChanged")))
        topics |= MCPGW_TOPIC_RESOURCES_LIST_CHANGED;
    c->ex->listen_id = mcpgw_json_own(c->ex->pool, json_incref(m->id));
    c->ex->listen_topics = topics;
}

static void dispatch_request(request_ctx_t *c, const mcpgw_jsonrpc_msg_t *m)
{
    const char *method = m->method;

    if (strcmp(method, "tools/call") == 0)
        do_tools_call(c, m);
    else if (strcmp(method, "tools/list") == 0)
        do_tools_list(c, m);
    else if (strcmp(method, "ping") == 0)
        reply_result(c, m->id, json_object());
    else if (strcmp(method, "initialize") == 0)
        do_initialize(c, m); /* stateless requests never get here (admit_stateless: 404) */
    else if (strcmp(method, "server/discover") == 0)
        do_discover(c, m);
    else if (c->stateless && strcmp(method, "subscriptions/listen") == 0)
        do_listen(c, m);
    else
        reply_error(c, m->id, MCPGW_JSONRPC_METHOD_NOT_FOUND,
                    apr_psprintf(c->ex->pool, "Method not found: %s", method));
}

static void dispatch_notification(request_ctx_t *c, const mcpgw_jsonrpc_msg_t *m)
{
    if (strcmp(m->method, "notifications/initialized") == 0 && c->session)
        c->session->initialized = 1;
    else if (strcmp(m->method, "notifications/cancelled") == 0 && c->session &&
             c->server->opts.cancel_request) {
        json_t *id = json_is_object(m->params) ? json_object_get(m->params, "requestId") : NULL;
        if (json_is_string(id) || json_is_integer(id))
            c->server->opts.cancel_request(c->session->id, id, c->server->opts.cancel_request_baton);
    }
}

/* ---- the stateless revision ------------------------------------------------------- */

static json_t *request_meta(const json_t *message)
{
    json_t *params = json_object_get(message, "params");
    json_t *meta = json_is_object(params) ? json_object_get(params, "_meta") : NULL;
    return json_is_object(meta) ? meta : NULL;
}

static const char *meta_version(const json_t *message)
{
    return mcpgw_json_string(request_meta(message), META_PROTOCOL_VERSION);
}

/* The name a stateless request must repeat in Mcp-Name, or NULL when its method has none. */
static int needs_routing_name(const char *method, const char **key)
{
    if (strcmp(method, "tools/call") == 0 || strcmp(method, "prompts/get") == 0) {
        *key = "name";
        return 1;
    }
    if (strcmp(method, "resources/read") == 0) {
        *key = "uri";
        return 1;
    }
    return 0;
}

/* Header values that are not plain ASCII travel as "=?base64?<b64>?=". */
static const char *decode_header_value(apr_pool_t *pool, const char *value)
{
    size_t n = value ? strlen(value) : 0;
    if (n >= 12 && strncmp(value, "=?base64?", 9) == 0 && strcmp(value + n - 2, "?=") == 0) {
        const char *b64 = apr_pstrmemdup(pool, value + 9, n - 11);
        char *out = apr_palloc(pool, (apr_size_t)apr_base64_decode_len(b64) + 1);
        int len = apr_base64_decode(out, b64);
        out[len] = '\0';
        return out;
    }
    return value;
}

/* Stateless requests repeat their method (and target) in headers so that proxies can
 * route without reading bodies; a missing or disagreeing header is refused, never guessed. */
static const char *header_mismatch(apr_pool_t *pool, const mcpgw_mcp_request_t *req,
                                   const mcpgw_jsonrpc_msg_t *m, const char *meta_ver)
{
    const char *key, *body_name, *header_name;
    if (req->protocol_version && meta_ver && strcmp(req->protocol_version, meta_ver) != 0)
        return apr_psprintf(pool, "Header mismatch: MCP-Protocol-Version header value '%s' "
                                  "does not match body value '%s'",
                            req->protocol_version, meta_ver);
    if (!req->mcp_method)
        return "Header mismatch: Mcp-Method header is required";
    if (strcmp(req->mcp_method, m->method) != 0)
        return apr_psprintf(pool, "Header mismatch: Mcp-Method header value '%s' does not "
                                  "match body value '%s'", req->mcp_method, m->method);
    if (!needs_routing_name(m->method, &key))
        return NULL;
    body_name = mcpgw_json_string(m->params, key);
    header_name = decode_header_value(pool, req->mcp_name);
    if (!header_name)
        return "Header mismatch: Mcp-Name header is required";
    if (!body_name || strcmp(header_name, body_name) != 0)
        return apr_psprintf(pool, "Header mismatch: Mcp-Name header value '%s' does not "
                                  "match body value '%s'", header_name,
                            body_name ? body_name : "");
    return NULL;
}

/* Results of the stateless revision say they are complete and who answered. */
static void stamp_stateless_result(const mcpgw_mcp_server_t *s, json_t *result)
{
    json_t *meta = json_object_get(result, "_meta");
    if (!json_is_object(meta)) {
        meta = json_object();
        json_object_set_new(result, "_meta", meta);
    }
    json_object_set_new(result, "resultType", json_string("complete"));
    json_object_set_new(meta, "io.modelcontextprotocol/serverInfo", server_info(s));
}

/* ---- POST ------------------------------------------------------------------------- */

static void refuse_with(mcpgw_exchange_t *ex, int status, json_t *error_reply)
{
    unsigned slot;
    ex->status = status;
    ex->is_batch = 0;
    apr_array_clear(ex->replies);
    ex->pending = 0;
    slot = mcpgw_exchange_reserve(ex);
    mcpgw_exchange_fill(ex, slot, error_reply);
}

static void refuse(mcpgw_exchange_t *ex, int status, int code, const char *message)
{
    refuse_with(ex, status, mcpgw_jsonrpc_error(NULL, code, message, NULL));
}

static int is_initialize(const json_t *msg)
{
    const char *method = mcpgw_json_string(msg, "method");
    return method && strcmp(method, "initialize") == 0;
}

/* Methods the stateless revision keeps; the others (initialize, ping, logging/setLevel,
 * ...) are gone from it, and a method we lack is "not found" with HTTP 404 there. */
static int is_stateless_method(const char *method)
{
    static const char *const known[] = { "tools/list", "tools/call", "server/discover",
                                         "subscriptions/listen", NULL };
    for (const char *const *k = known; *k; k++)
        if (strcmp(*k, method) == 0)
            return 1;
    return 0;
}

/* A stateless request: one message, everything it needs in _meta and headers. Returns 0
 * when it was refused (ex already holds the refusal). */
static int admit_stateless(request_ctx_t *c, json_t *body, const mcpgw_jsonrpc_msg_t *m)
{
    mcpgw_exchange_t *ex = c->ex;
    json_t *meta = request_meta(body);
    const char *meta_ver = mcpgw_json_string(meta, META_PROTOCOL_VERSION);
    const char *requested = meta_ver ? meta_ver : c->req->protocol_version;
    const char *mismatch;

    if (ex->is_batch) {
        refuse(ex, 400, MCPGW_JSONRPC_INVALID_REQUEST,
               "Invalid Request: batches are not part of this protocol revision");
        return 0;
    }
    if (m->kind == MCPGW_MSG_RESPONSE) {
        refuse(ex, 400, MCPGW_JSONRPC_INVALID_REQUEST,
               "Invalid Request: the stateless revision accepts no responses");
        return 0;
    }
    if (m->kind != MCPGW_MSG_REQUEST)
        return 1; /* notifications and invalid messages take the common path */
    /* Headers first: a header that disagrees with the body is a mismatch whatever the
     * versions involved. */
    mismatch = header_mismatch(ex->pool, c->req, m, meta_ver);
    if (mismatch) {
        refuse_with(ex, 400, mcpgw_jsonrpc_error(m->id, MCPGW_MCP_HEADER_MISMATCH, mismatch,
                                                 NULL));
        return 0;
    }
    if (requested && !mcpgw_protocol_is_supported(requested)) {
        refuse_with(ex, 400,
                    mcpgw_jsonrpc_error(m->id, MCPGW_MCP_UNSUPPORTED_VERSION,
                                        "Unsupported protocol version",
                                        json_pack("{s:o, s:s}", "supported",
                                                  mcpgw_protocol_versions_json(), "requested",
                                                  requested)));
        return 0;
    }
    if (!meta_ver || !json_is_object(json_object_get(meta, META_CLIENT_CAPABILITIES))) {
        refuse_with(ex, 400,
                    mcpgw_jsonrpc_error(m->id, MCPGW_JSONRPC_INVALID_PARAMS,
                                        "Invalid params: _meta must carry " META_PROTOCOL_VERSION
                                        " and " META_CLIENT_CAPABILITIES, NULL));
        return 0;
    }
    if (!is_stateless_method(m->method)) {
        refuse_with(ex, 404, mcpgw_jsonrpc_error(m->id, MCPGW_JSONRPC_METHOD_NOT_FOUND,
                                                 apr_psprintf(ex->pool, "Method not found: %s",
                                                              m->method), NULL));
        return 0;
    }
    return 1;
}

/* A session request: finds the session named by Mcp-Session-Id. Returns 0 when refused. */
static int admit_session(request_ctx_t *c)
{
    mcpgw_mcp_request_t const *req = c->req;
    int status = mcpgw_mcp_server_session_for(c->server, req, 1, &c->session);
    if (status == 400) {
        refuse(c->ex, 400, MCPGW_MCP_BAD_REQUEST,
               "Bad Request: Mcp-Session-Id header is required");
        return 0;
    }
    if (status == 404) {
        refuse(c->ex, 404, MCPGW_MCP_SESSION_NOT_FOUND, "Session not found");
        return 0;
    }
    if (!req->protocol_version)
        c->version = c->session->protocol_version;
    return 1;
}

void mcpgw_mcp_server_post(mcpgw_mcp_server_t *server, const mcpgw_mcp_request_t *req,
                           mcpgw_exchange_t *ex)
{
    request_ctx_t c = { server, req, ex, NULL, NULL, 0 };
    json_t *body = mcpgw_json_load(ex->pool, req->body, req->body_len, NULL);
    json_t *first;
    const char *first_meta_version;
    mcpgw_jsonrpc_msg_t first_msg;
    size_t n, i;
    int has_initialize = 0;

    if (!body) {
        refuse(ex, 400, MCPGW_JSONRPC_PARSE_ERROR, "Parse error: body is not valid JSON");
        return;
    }
    if (json_is_array(body)) {
        n = json_array_size(body);
        if (n == 0) {
            refuse(ex, 400, MCPGW_JSONRPC_INVALID_REQUEST, "Invalid Request: empty batch");
            return;
        }
        ex->is_batch = 1;
    }
    else if (json_is_object(body))
        n = 1;
    else {
        refuse(ex, 400, MCPGW_JSONRPC_INVALID_REQUEST,
               "Invalid Request: body must be a JSON-RPC object");
        return;
    }
    first = ex->is_batch ? json_array_get(body, 0) : body;
    for (i = 0; i < n; i++)
        has_initialize |= is_initialize(ex->is_batch ? json_array_get(body, i) : body);

    /* Which revision? initialize always opens a session; otherwise the header decides, and
     * a stateless request may name its revision only in _meta. */
    first_meta_version = json_is_object(first) ? meta_version(first) : NULL;
    c.version = req->protocol_version ? req->protocol_version
                : first_meta_version  ? first_meta_version
                                      : MCPGW_PROTOCOL_HTTP_DEFAULT;
    /* A request carrying the stateless revision's _meta (or its header) is served
     * statelessly, even one named initialize (which that revision no longer has). */
    c.stateless = (req->protocol_version && !mcpgw_protocol_uses_sessions(req->protocol_version)) ||
                  (first_meta_version && !req->session_id);
    if (c.stateless) {
        mcpgw_jsonrpc_classify(first, &first_msg);
        if (!admit_stateless(&c, body, &first_msg))
            return;
        c.version = MCPGW_PROTOCOL_STATELESS;
    }
    else {
        if (!mcpgw_protocol_is_supported(c.version)) {
            refuse(ex, 400, MCPGW_MCP_BAD_REQUEST, "Bad Request: Unsupported protocol version");
            return;
        }
        if (ex->is_batch && (has_initialize || !mcpgw_protocol_allows_batch(c.version))) {
            refuse(ex, 400, MCPGW_JSONRPC_INVALID_REQUEST,
                   has_initialize
                       ? "Invalid Request: initialize must not be part of a batch"
                       : "Invalid Request: batches are not part of this protocol revision");
            return;
        }
        if (!has_initialize && !admit_session(&c))
            return;
    }

    for (i = 0; i < n; i++) {
        json_t *msg = ex->is_batch ? json_array_get(body, i) : body;
        mcpgw_jsonrpc_msg_t m;
        mcpgw_jsonrpc_classify(msg, &m);
        switch (m.kind) {
        case MCPGW_MSG_INVALID:
            if (!ex->is_batch)
                ex->status = 400;
            reply_error(&c, m.id, MCPGW_JSONRPC_INVALID_REQUEST,
                        apr_pstrcat(ex->pool, "Invalid Request: ", m.invalid_reason, NULL));
            break;
        case MCPGW_MSG_REQUEST:
            dispatch_request(&c, &m);
            break;
        case MCPGW_MSG_NOTIFICATION:
            dispatch_notification(&c, &m);
            break;
        case MCPGW_MSG_RESPONSE:
            /* Answers to server-to-client requests: none are outstanding yet. */
            break;
        }
    }
    if (ex->replies->nelts == 0 && !ex->listen_id)
        ex->status = 202;
}

int mcpgw_mcp_server_session_for(mcpgw_mcp_server_t *server, const mcpgw_mcp_request_t *req,
                                 int required, mcpgw_session_t **session)
{
    *session = NULL;
    if (!req->session_id)
        return required ? 400 : 0;
    *session = mcpgw_session_find(server->sessions, req->session_id, apr_time_now());
    if (!*session)
        return 404;
    if (((*session)->principal == NULL) != (req->principal == NULL) ||
        (req->principal && strcmp((*session)->principal, req->principal) != 0)) {
        *session = NULL;
        return 404;
    }
    return 0;
}
