/* The admin REST API, engine side (the routes of the reference product, relative to the
 * Location that has SetHandler mcp-gateway-admin):
 *
 *   GET    /clients                 every client: config (secrets redacted), tools, state
 *   POST   /client                  add a client; answered once it connected (or failed,
 *                                   in which case nothing of it is left)
 *   PUT    /client/{id}             change it; reconnects only when the connection changed
 *   DELETE /client/{id}             remove it
 *   POST   /client/{id}/reconnect   reconnect it
 *
 * Every change is persisted (mcpgw_state) before it is answered. Authentication and the
 * stdio command allow-list are checked by the httpd child before a request gets here. */
#include "mcpgw_engine_internal.h"
#include "mcpgw_admin_reply.h"
#include "mcpgw_json.h"
#include "mcpgw_log.h"
#include "mcpgw_state.h"

#include <apr_strings.h>
#include <string.h>

void engine_admin_answer(engine_conn_t *conn, int status, json_t *body);
void engine_admin_error(engine_conn_t *conn, int status, const char *message);
int engine_admin_persist(mcpgw_engine_t *engine);

static void answer(engine_conn_t *conn, int status, json_t *body)
{
    static const char *const headers[] = { "Content-Type", "application/json", NULL, NULL };
    apr_size_t len;
    const char *text = mcpgw_json_dump(conn->req_pool, body, &len);
    json_decref(body);
    engine_conn_cork(conn);
    engine_conn_send_head(conn, status, headers);
    engine_conn_send(conn, MCPGW_IPC_DATA, text, len);
    engine_conn_finish(conn);
    engine_conn_uncork(conn);
}

/* The reference product's error body (its clients parse it). */
static void answer_error(engine_conn_t *conn, int status, const char *message)
{
    answer(conn, status, mcpgw_admin_reply_error(status, message));
}

static void answer_success(engine_conn_t *conn, const char *message)
{
    answer(conn, 200, mcpgw_admin_reply_success(message));
}

static int persist(mcpgw_engine_t *engine)
{
    apr_pool_t *p;
    const char *error = NULL;
    int ok;
    apr_pool_create(&p, engine->pool);
    ok = mcpgw_state_save(p, engine->state_path, engine->state, &error) == APR_SUCCESS;
    if (!ok)
        mcpgw_log(MCPGW_LOG_ERR, "admin: %s", error);
    apr_pool_destroy(p);
    return ok;
}

static json_t *client_json(mcpgw_upstream_t *u)
{
    json_t *tools = json_array(), *all = mcpgw_upstream_tools(u), *t;
    size_t i;
    json_array_foreach(all, i, t) {
        json_t *entry = json_pack("{s:O?}", "name", json_object_get(t, "name"));
        if (json_object_get(t, "description"))
            json_object_set(entry, "description", json_object_get(t, "description"));
        json_array_append_new(tools, entry);
    }
    return json_pack("{s:o, s:o, s:s}", "config",
                     mcpgw_config_upstream_to_json(mcpgw_upstream_config(u), 1), "tools", tools,
                     "state", mcpgw_upstream_state_name(mcpgw_upstream_state(u)));
}

static void list_clients(engine_conn_t *conn)
{
    const apr_array_header_t *ups = mcpgw_registry_upstreams(conn->engine->registry);
    json_t *arr = json_array();
    for (int i = 0; i < ups->nelts; i++)
        json_array_append_new(arr, client_json(APR_ARRAY_IDX(ups, i, mcpgw_upstream_t *)));
    answer(conn, 200, arr);
}

/* Parses a client body into a configuration owned by a fresh pool. */
static const mcpgw_upstream_config_t *parse_body(engine_conn_t *conn, const char *body,
                                                 apr_size_t len, apr_pool_t **cfg_pool)
{
    const char *why = NULL;
    json_t *json = mcpgw_json_load(conn->req_pool, body, len, &why);
    mcpgw_upstream_config_t *cfg;
    apr_pool_t *p;

    if (!json) {
        answer_error(conn, 400, apr_psprintf(conn->req_pool, "Invalid request body: %s", why));
        return NULL;
    }
    p = mcpgw_registry_config_pool(conn->engine->registry);
    if (mcpgw_config_parse_upstream(p, json, "$", &cfg, &why) != APR_SUCCESS) {
        /* "$.name: Invalid client name: ..." -> the reference's bare message. */
        const char *msg = strstr(why, ": ");
        answer_error(conn, 400, msg && strncmp(why, "$.name", 6) == 0 ? msg + 2 : why);
        apr_pool_destroy(p);
        return NULL;
    }
    *cfg_pool = p;
    return cfg;
}

/* Another client already uses this name or id? */
static const char *conflict(engine_conn_t *conn, const mcpgw_upstream_config_t *cfg,
                            const mcpgw_upstream_t *self)
{
    const apr_array_header_t *ups = mcpgw_registry_upstreams(conn->engine->registry);
    for (int i = 0; i < ups->nelts; i++) {
        const mcpgw_upstream_t *u = APR_ARRAY_IDX(ups, i, mcpgw_upstream_t *);
        const mcpgw_upstream_config_t *c = mcpgw_upstream_config(u);
        if (u == self)
            continue;
        if (strcmp(c->name, cfg->name) == 0)
            return apr_psprintf(conn->req_pool, "MCP client with name '%s' already exists", cfg->name);
        if (cfg->client_id && c->client_id && strcmp(c->client_id, cfg->client_id) == 0)
            return apr_psprintf(conn->req_pool, "MCP client with id '%s' already exists",
                                cfg->client_id);
    }
    return NULL;
}

/* ---- waiting for a connection ------------------------------------------------------- */

typedef struct {
    engine_conn_t *conn;
    mcpgw_upstream_t *upstream;
    int remove_on_failure;
    int persist_config;
    const char *success;
    const char *failure;
} waiter_t;

static void settled(void *baton, int ok, const char *error)
{
    waiter_t *w = baton;
    mcpgw_engine_t *engine = w->conn->engine;
    const mcpgw_upstream_config_t *cfg = mcpgw_upstream_config(w->upstream);

    if (!ok && w->remove_on_failure) {
        /* A client that cannot connect leaves nothing behind. */
        mcpgw_log(MCPGW_LOG_WARNING, "admin: client %s not added: %s", cfg->name, error);
        mcpgw_registry_remove(engine->registry, w->upstream);
    }
    else if (w->persist_config && !mcpgw_upstream_destroyed(w->upstream)) {
        mcpgw_state_put_client(engine->state, mcpgw_config_upstream_to_json(cfg, 0));
        persist(engine);
    }
    if (w->conn->closed) {
        engine_conn_release(w->conn);
        return;
    }
    w->conn->state = CONN_IDLE;
    if (ok)
        answer_success(w->conn, w->success);
    else
        answer_error(w->conn, 502, apr_psprintf(w->conn->req_pool, "%s: %s", w->failure, error));
}

static void wait_for(engine_conn_t *conn, mcpgw_upstream_t *u, int remove_on_failure,
                     int persist_config, const char *success, const char *failure)
{
    waiter_t *w = apr_pcalloc(conn->req_pool, sizeof(*w));
    w->conn = conn;
    w->upstream = u;
    w->remove_on_failure = remove_on_failure;
    w->persist_config = persist_config;
    w->success = success;
    w->failure = failure;
    /* Busy until settled: a child that leaves meanwhile is released by settled(). */
    conn->state = CONN_BUSY;
    conn->admin_waiter = 1;
    engine_conn_send(conn, MCPGW_IPC_ACCEPTED, NULL, 0);
    mcpgw_upstream_when_settled(u, settled, w);
}

/* ---- the routes --------------------------------------------------------------------- */

static void add_client(engine_conn_t *conn, const char *body, apr_size_t len)
{
    apr_pool_t *cfg_pool;
    mcpgw_upstream_config_t *cfg = (mcpgw_upstream_config_t *)parse_body(conn, body, len, &cfg_pool);
    const char *clash;
    mcpgw_upstream_t *u;
    if (!cfg)
        return;
    if (!cfg->client_id)
        cfg->client_id = mcpgw_uuid4(cfg_pool);
    if ((clash = conflict(conn, cfg, NULL)) != NULL) {
        apr_pool_destroy(cfg_pool);
        answer_error(conn, 400, clash);
        return;
    }
    u = mcpgw_registry_add(conn->engine->registry, cfg, cfg_pool, NULL, NULL);
    if (mcpgw_upstream_state(u) != MCPGW_UPSTREAM_CONNECTING) {
        /* Failed at once (the command does not exist, ...). */
        const char *why = mcpgw_upstream_last_error(u);
        const char *msg = apr_psprintf(conn->req_pool, "failed to connect MCP client: %s",
                                       why ? why : "unknown error");
        mcpgw_registry_remove(conn->engine->registry, u);
        answer_error(conn, 502, msg);
        return;
    }
    wait_for(conn, u, 1, 1, "MCP client connected successfully", "failed to connect MCP client");
}

static int same_connection(const mcpgw_upstream_config_t *a, const mcpgw_upstream_config_t *b)
{
    json_t *ja = mcpgw_config_upstream_to_json(a, 0), *jb = mcpgw_config_upstream_to_json(b, 0);
    int same;
    /* Everything but the name and the tool lists decides the connection. */
    for (json_t **j = (json_t *[]){ ja, jb, NULL }; *j; j++) {
        json_object_del(*j, "tools_to_execute");
        json_object_del(*j, "tools_to_auto_execute");
        json_object_del(*j, "client_id");
    }
    same = json_equal(ja, jb);
    json_decref(ja);
    json_decref(jb);
    return same;
}

static void update_client(engine_conn_t *conn, mcpgw_upstream_t *u, const char *body,
                          apr_size_t len)
{
    apr_pool_t *cfg_pool;
    mcpgw_upstream_config_t *cfg = (mcpgw_upstream_config_t *)parse_body(conn, body, len, &cfg_pool);
    const mcpgw_upstream_config_t *old;
    const char *clash;
    int reconnect;
    if (!cfg)
        return;
    old = mcpgw_upstream_config(u);
    cfg->client_id = apr_pstrdup(cfg_pool, old->client_id); /* the URL names it */
    if ((clash = conflict(conn, cfg, u)) != NULL) {
        apr_pool_destroy(cfg_pool);
        answer_error(conn, 400, clash);
        return;
    }
    reconnect = !same_connection(old, cfg) || strcmp(old->name, cfg->name) != 0;
    mcpgw_upstream_set_config(u, cfg, cfg_pool);
    if (reconnect) {
        mcpgw_registry_reconnect(conn->engine->registry, u, NULL, NULL);
        if (mcpgw_upstream_state(u) == MCPGW_UPSTREAM_CONNECTING) {
            wait_for(conn, u, 0, 1, "MCP client updated successfully",
                     "MCP client updated but failed to reconnect");
            return;
        }
    }
    else
        mcpgw_registry_republish(conn->engine->registry); /* tool lists may have changed */
    mcpgw_state_put_client(conn->engine->state, mcpgw_config_upstream_to_json(cfg, 0));
    persist(conn->engine);
    if (reconnect && mcpgw_upstream_state(u) != MCPGW_UPSTREAM_CONNECTED)
        answer_error(conn, 502, apr_psprintf(conn->req_pool, "MCP client updated but failed to reconnect: %s",
                                             mcpgw_upstream_last_error(u) ? mcpgw_upstream_last_error(u) : "?"));
    else
        answer_success(conn, "MCP client updated successfully");
}

static void remove_client(engine_conn_t *conn, mcpgw_upstream_t *u)
{
    mcpgw_state_delete_client(conn->engine->state,
                              apr_pstrdup(conn->req_pool, mcpgw_upstream_config(u)->client_id));
    mcpgw_registry_remove(conn->engine->registry, u);
    persist(conn->engine);
    answer_success(conn, "MCP client removed successfully");
}

static void reconnect_client(engine_conn_t *conn, mcpgw_upstream_t *u)
{
    mcpgw_registry_reconnect(conn->engine->registry, u, NULL, NULL);
    if (mcpgw_upstream_state(u) != MCPGW_UPSTREAM_CONNECTING) {
        answer_error(conn, 502, apr_psprintf(conn->req_pool, "failed to reconnect MCP client: %s",
                                             mcpgw_upstream_last_error(u) ? mcpgw_upstream_last_error(u) : "?"));
        return;
    }
    wait_for(conn, u, 0, 0, "MCP client reconnected successfully", "failed to reconnect MCP client");
}

void engine_admin_handle(engine_conn_t *conn, const char *method, const char *path,
                         const char *body, apr_size_t len)
{
    mcpgw_registry_t *r = conn->engine->registry;
    const char *rest;
    char *id, *slash;
    mcpgw_upstream_t *u;

    if (strcmp(path, "/clients") == 0 || strcmp(path, "/clients/") == 0) {
        if (strcmp(method, "GET") == 0)
            list_clients(conn);
        else
            answer_error(conn, 405, "Method not allowed");
        return;
    }
    if (strcmp(path, "/client") == 0 || strcmp(path, "/client/") == 0) {
        if (strcmp(method, "POST") == 0)
            add_client(conn, body, len);
        else
            answer_error(conn, 405, "Method not allowed");
        return;
    }
    if (strcmp(path, "/keys") == 0 || strncmp(path, "/key", 4) == 0) {
        engine_keys_admin(conn, method, path, body, len);
        return;
    }
    if (strncmp(path, "/client/", 8) != 0) {
        answer_error(conn, 404, "Not found");
        return;
    }
    id = apr_pstrdup(conn->req_pool, path + 8);
    slash = strchr(id, '/');
    rest = "";
    if (slash) {
        *slash = '\0';
        rest = slash + 1;
    }
    u = *id ? mcpgw_registry_find(r, id) : NULL;
    if (!u) {
        answer_error(conn, 404, apr_psprintf(conn->req_pool, "MCP client not found: %s", id));
        return;
    }
    if (strcmp(rest, "reconnect") == 0 && strcmp(method, "POST") == 0)
        reconnect_client(conn, u);
    else if (!*rest && strcmp(method, "PUT") == 0)
        update_client(conn, u, body, len);
    else if (!*rest && strcmp(method, "DELETE") == 0)
        remove_client(conn, u);
    else if (!*rest && strcmp(method, "GET") == 0)
        answer(conn, 200, client_json(u));
    else
        answer_error(conn, *rest && strcmp(rest, "reconnect") != 0 ? 404 : 405,
                     "Method not allowed");
}

void engine_admin_answer(engine_conn_t *conn, int status, json_t *body)
{
    answer(conn, status, body);
}

void engine_admin_error(engine_conn_t *conn, int status, const char *message)
{
    answer_error(conn, status, message);
}

int engine_admin_persist(mcpgw_engine_t *engine)
{
    return persist(engine);
}
