#include "mcpgw_registry.h"
#include "mcpgw_json.h"
#include "mcpgw_log.h"
#include "mcpgw_upstream.h"

#include <apr_hash.h>
#include <apr_strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mcpgw_registry_t {
    apr_pool_t *pool;
    const mcpgw_gateway_config_t *cfg;
    const mcpgw_loop_t *loop;
    mcpgw_mcp_server_t *server;
    unsigned page_size;
    apr_array_header_t *upstreams; /* mcpgw_upstream_t * */
    apr_uint64_t generation;
    mcpgw_registry_changed_fn changed;
    void *changed_baton;
    int started;
    /* auto_reconnect: when each upstream may next be tried, and the current backoff */
    apr_hash_t *retry_at;
    /* Calls out, by "<session>:<request id as JSON>", for notifications/cancelled. Keys are
     * malloc'd and freed when the call leaves the table. */
    apr_hash_t *by_request;
};

typedef struct {
    apr_time_t at;
    apr_interval_time_t backoff;
} retry_t;

/* What a routed call keeps while it is out. */
typedef struct {
    mcpgw_registry_t *registry;
    mcpgw_upstream_t *upstream;
    mcpgw_upstream_call_t *upstream_call;
    mcpgw_tool_call_t *call;
    char *request_key;  /* in registry->by_request while set */
} routed_call_t;

static char *request_key(const char *session_id, const json_t *request_id)
{
    char *id = json_dumps(request_id, JSON_ENCODE_ANY | JSON_COMPACT), *key;
    size_t n;
    if (!id)
        return NULL;
    n = strlen(session_id) + strlen(id) + 2;
    key = malloc(n);
    if (key)
        snprintf(key, n, "%s:%s", session_id, id);
    free(id);
    return key;
}

static void forget_request(routed_call_t *rc)
{
    if (!rc->request_key)
        return;
    apr_hash_set(rc->registry->by_request, rc->request_key, APR_HASH_KEY_STRING, NULL);
    free(rc->request_key);
    rc->request_key = NULL;
}

static void rebuild(mcpgw_registry_t *r)
{
    mcpgw_catalog_t *c = mcpgw_catalog_create(r->pool, r->page_size, ++r->generation);
    for (int i = 0; i < r->upstreams->nelts; i++) {
        mcpgw_upstream_t *u = APR_ARRAY_IDX(r->upstreams, i, mcpgw_upstream_t *);
        const mcpgw_upstream_config_t *uc = mcpgw_upstream_config(u);
        json_t *tools = mcpgw_upstream_tools(u), *tool;
        size_t j;
        if (mcpgw_upstream_state(u) != MCPGW_UPSTREAM_CONNECTED || !tools)
            continue;
        json_array_foreach(tools, j, tool) {
            const char *name = mcpgw_json_string(tool, "name");
            const char *exposed;
            if (!name || !mcpgw_tool_filter_allows(&uc->tools_to_execute, name))
                continue;
            exposed = apr_pstrcat(r->pool, uc->name, r->cfg->name_separator, name, NULL);
            if (mcpgw_catalog_add(c, uc->name, name, exposed, tool) == APR_EEXIST) {
                const mcpgw_catalog_tool_t *first = mcpgw_catalog_find(c, exposed);
                mcpgw_log(MCPGW_LOG_WARNING,
                          "registry: tool name collision: %s (from %s's %s) is already %s's %s; "
                          "the second is not exposed", exposed, uc->name, name, first->upstream,
                          first->tool_name);
            }
        }
    }
    mcpgw_log(MCPGW_LOG_INFO, "registry: %u tools published (generation %" APR_UINT64_T_FMT ")",
              mcpgw_catalog_count(c), r->generation);
    mcpgw_mcp_server_set_catalog(r->server, c);
    if (r->started && r->changed)
        r->changed(r->changed_baton);
}

static void upstream_changed(mcpgw_upstream_t *u, void *baton)
{
    rebuild(baton);
}

mcpgw_registry_t *mcpgw_registry_create(apr_pool_t *pool, const mcpgw_gateway_config_t *cfg,
                                        const mcpgw_loop_t *loop, mcpgw_mcp_server_t *server,
                                        unsigned page_size, mcpgw_registry_changed_fn changed,
                                        void *baton)
{
    mcpgw_registry_t *r = apr_pcalloc(pool, sizeof(*r));
    r->pool = pool;
    r->cfg = cfg;
    r->loop = loop;
    r->server = server;
    r->page_size = page_size;
    r->changed = changed;
    r->changed_baton = baton;
    r->generation = 1;
    r->upstreams = apr_array_make(pool, 8, sizeof(mcpgw_upstream_t *));
    r->retry_at = apr_hash_make(pool);
    r->by_request = apr_hash_make(pool);
    for (int i = 0; cfg && i < cfg->upstreams->nelts; i++) {
        const mcpgw_upstream_config_t *uc = APR_ARRAY_IDX(cfg->upstreams, i, mcpgw_upstream_config_t *);
        mcpgw_upstream_t *u = mcpgw_upstream_create(pool, uc, loop, cfg->tool_timeout,
                                                    upstream_changed, r);
        mcpgw_upstream_set_health(u, cfg->health_interval, cfg->health_timeout,
                                  cfg->health_max_failures);
        APR_ARRAY_PUSH(r->upstreams, mcpgw_upstream_t *) = u;
    }
    return r;
}

void mcpgw_registry_start(mcpgw_registry_t *r)
{
    /* One failing upstream leaves the others serving: each starts on its own. */
    for (int i = 0; i < r->upstreams->nelts; i++)
        mcpgw_upstream_start(APR_ARRAY_IDX(r->upstreams, i, mcpgw_upstream_t *));
    r->started = 1;
}

void mcpgw_registry_stop(mcpgw_registry_t *r)
{
    r->started = 0;
    for (int i = 0; i < r->upstreams->nelts; i++)
        mcpgw_upstream_stop(APR_ARRAY_IDX(r->upstreams, i, mcpgw_upstream_t *), "gateway stopping");
}

/* auto_reconnect: a disconnected or failed upstream is tried again after 1 s, then 2, 4,
 * ... up to a minute between attempts; a success resets the backoff. */
static void auto_reconnect(mcpgw_registry_t *r, mcpgw_upstream_t *u, apr_time_t now)
{
    mcpgw_upstream_state_e st = mcpgw_upstream_state(u);
    retry_t *rt = apr_hash_get(r->retry_at, &u, sizeof(u));
    if (st == MCPGW_UPSTREAM_CONNECTED) {
        if (rt)
            rt->backoff = 0;
        return;
    }
    if (st == MCPGW_UPSTREAM_CONNECTING)
        return;
    if (!rt) {
        rt = apr_pcalloc(r->pool, sizeof(*rt));
        apr_hash_set(r->retry_at, apr_pmemdup(r->pool, &u, sizeof(u)), sizeof(u), rt);
    }
    if (!rt->backoff) {
        rt->backoff = apr_time_from_sec(1);
        rt->at = now + rt->backoff;
        return;
    }
    if (now < rt->at)
        return;
    mcpgw_log(MCPGW_LOG_NOTICE, "registry: reconnecting %s (auto_reconnect)", mcpgw_upstream_name(u));
    rt->backoff = rt->backoff * 2 > apr_time_from_sec(60) ? apr_time_from_sec(60) : rt->backoff * 2;
    rt->at = now + rt->backoff;
    mcpgw_upstream_start(u);
}

void mcpgw_registry_tick(mcpgw_registry_t *r, apr_time_t now)
{
    for (int i = 0; i < r->upstreams->nelts; i++) {
        mcpgw_upstream_t *u = APR_ARRAY_IDX(r->upstreams, i, mcpgw_upstream_t *);
        mcpgw_upstream_tick(u, now);
        if (r->cfg && r->cfg->auto_reconnect && r->started)
            auto_reconnect(r, u, now);
    }
}

const apr_array_header_t *mcpgw_registry_upstreams(mcpgw_registry_t *r)
{
    return r->upstreams;
}

mcpgw_upstream_t *mcpgw_registry_find(mcpgw_registry_t *r, const char *id_or_name)
{
    for (int i = 0; i < r->upstreams->nelts; i++) {
        mcpgw_upstream_t *u = APR_ARRAY_IDX(r->upstreams, i, mcpgw_upstream_t *);
        const mcpgw_upstream_config_t *c = mcpgw_upstream_config(u);
        if ((c->client_id && strcmp(c->client_id, id_or_name) == 0) || strcmp(c->name, id_or_name) == 0)
            return u;
    }
    return NULL;
}

apr_pool_t *mcpgw_registry_config_pool(mcpgw_registry_t *r)
{
    apr_pool_t *p;
    apr_pool_create(&p, r->pool);
    return p;
}

mcpgw_upstream_t *mcpgw_registry_add(mcpgw_registry_t *r, const mcpgw_upstream_config_t *cfg,
                                     apr_pool_t *cfg_pool, mcpgw_upstream_settled_fn settled,
                                     void *baton)
{
    mcpgw_upstream_t *u = mcpgw_upstream_create(r->pool, cfg, r->loop, r->cfg->tool_timeout,
                                                upstream_changed, r);
    mcpgw_upstream_set_config(u, cfg, cfg_pool);
    mcpgw_upstream_set_health(u, r->cfg->health_interval, r->cfg->health_timeout,
                              r->cfg->health_max_failures);
    APR_ARRAY_PUSH(r->upstreams, mcpgw_upstream_t *) = u;
    mcpgw_upstream_when_settled(u, settled, baton);
    mcpgw_upstream_start(u);
    return u;
}

void mcpgw_registry_remove(mcpgw_registry_t *r, mcpgw_upstream_t *u)
{
    if (mcpgw_upstream_destroyed(u))
        return; /* removed already (a waiter reacting to the removal itself) */
    for (int i = 0; i < r->upstreams->nelts; i++) {
        if (APR_ARRAY_IDX(r->upstreams, i, mcpgw_upstream_t *) != u)
            continue;
        memmove(&APR_ARRAY_IDX(r->upstreams, i, mcpgw_upstream_t *),
                &APR_ARRAY_IDX(r->upstreams, i + 1, mcpgw_upstream_t *),
                sizeof(mcpgw_upstream_t *) * (size_t)(r->upstreams->nelts - i - 1));
        r->upstreams->nelts--;
        break;
    }
    apr_hash_set(r->retry_at, &u, sizeof(u), NULL);
    mcpgw_upstream_destroy(u);
    rebuild(r);
}

void mcpgw_registry_reconnect(mcpgw_registry_t *r, mcpgw_upstream_t *u,
                              mcpgw_upstream_settled_fn settled, void *baton)
{
    /* Stopped first, so that the waiter hears of the new attempt, not the old one. An
     * earlier waiter may remove the upstream on hearing of the stop. */
    mcpgw_upstream_stop(u, "reconnect requested");
    if (mcpgw_upstream_destroyed(u))
        return;
    apr_hash_set(r->retry_at, &u, sizeof(u), NULL);
    mcpgw_upstream_when_settled(u, settled, baton);
    mcpgw_upstream_start(u);
}

void mcpgw_registry_republish(mcpgw_registry_t *r)
{
    rebuild(r);
}

static mcpgw_upstream_t *find(mcpgw_registry_t *r, const char *name)
{
    for (int i = 0; i < r->upstreams->nelts; i++) {
        mcpgw_upstream_t *u = APR_ARRAY_IDX(r->upstreams, i, mcpgw_upstream_t *);
        if (strcmp(mcpgw_upstream_name(u), name) == 0)
            return u;
    }
    return NULL;
}

static void fail(mcpgw_tool_call_t *call, const char *message)
{
    mcpgw_tool_call_finish(call, mcpgw_tool_error_result(
                                     apr_pstrcat(call->exchange->pool,
                                                 "Tool execution failed: ", message, NULL)),
                           NULL);
}

static void on_reply(void *baton, json_t *result, json_t *error)
{
    routed_call_t *rc = baton;
    mcpgw_tool_call_t *call = rc->call;
    call->upstream_data = NULL;
    forget_request(rc);
    if (error) {
        json_t *code = json_object_get(error, "code");
        const char *msg = mcpgw_json_string(error, "message");
        if (json_is_integer(code) && json_integer_value(code) == MCPGW_UPSTREAM_ERR_TIMEOUT)
            fail(call, apr_psprintf(call->exchange->pool,
                                    "timed out after %" APR_TIME_T_FMT " ms "
                                    "(tool_execution_timeout)",
                                    apr_time_as_msec(rc->registry->cfg->tool_timeout)));
        else
            fail(call, msg ? msg : "upstream error");
        json_decref(error);
        return;
    }
    mcpgw_tool_call_finish(call, result, NULL);
}

static void on_progress(void *baton, json_t *params)
{
    routed_call_t *rc = baton;
    mcpgw_tool_call_progress(rc->call, params);
}

void mcpgw_registry_call_tool(mcpgw_tool_call_t *call, void *registry)
{
    mcpgw_registry_t *r = registry;
    mcpgw_upstream_t *u = find(r, call->upstream);
    routed_call_t *rc;
    json_t *params;

    if (!u || mcpgw_upstream_state(u) != MCPGW_UPSTREAM_CONNECTED) {
        fail(call, apr_psprintf(call->exchange->pool, "MCP client %s is %s", call->upstream,
                                u ? mcpgw_upstream_state_name(mcpgw_upstream_state(u)) : "gone"));
        return;
    }
    rc = apr_pcalloc(call->exchange->pool, sizeof(*rc));
    rc->registry = r;
    rc->upstream = u;
    rc->call = call;
    params = json_pack("{s:s, s:O}", "name", call->tool_name, "arguments",
                       call->arguments ? call->arguments : json_object());
    if (!call->arguments)
        json_decref(json_object_get(params, "arguments"));
    rc->upstream_call = mcpgw_upstream_request(u, "tools/call", params, r->cfg->tool_timeout,
                                               on_reply, call->progress_token ? on_progress : NULL,
                                               rc);
    if (!rc->upstream_call) {
        fail(call, apr_psprintf(call->exchange->pool, "MCP client %s is not connected",
                                call->upstream));
        return;
    }
    call->upstream_data = rc;
    if (call->session_id && (rc->request_key = request_key(call->session_id, call->request_id))) {
        if (apr_hash_get(r->by_request, rc->request_key, APR_HASH_KEY_STRING)) {
            /* The same id twice in one session: only the newest can be cancelled by id. */
            routed_call_t *older = apr_hash_get(r->by_request, rc->request_key, APR_HASH_KEY_STRING);
            forget_request(older);
        }
        apr_hash_set(r->by_request, rc->request_key, APR_HASH_KEY_STRING, rc);
    }
}

void mcpgw_registry_cancel_request(mcpgw_registry_t *r, const char *session_id,
                                   const json_t *request_id)
{
    char *key = request_key(session_id, request_id);
    routed_call_t *rc = key ? apr_hash_get(r->by_request, key, APR_HASH_KEY_STRING) : NULL;
    free(key);
    if (!rc)
        return; /* finished already, or never ours: nothing to do */
    mcpgw_log(MCPGW_LOG_INFO, "registry: the client cancelled a call to %s", rc->call->upstream);
    mcpgw_registry_cancel_call(r, rc->call);
}

void mcpgw_registry_cancel_call(mcpgw_registry_t *r, mcpgw_tool_call_t *call)
{
    routed_call_t *rc = call->upstream_data;
    if (!rc || call->finished)
        return;
    forget_request(rc);
    mcpgw_upstream_cancel(rc->upstream, rc->upstream_call, "cancelled by the client");
    fail(call, "cancelled by the client");
}
