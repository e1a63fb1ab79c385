/* Virtual keys in the engine: answering a child's authentication question (the child
 * sends the SHA-256 of the presented key, never the key), filtering tools per key, and the
 * admin routes for keys:
 *
 *   GET    /keys           every key (value redacted)
 *   POST   /key            create; the value (given, or generated) is shown in this answer
 *                          only, and only its hash is kept
 *   PUT    /key/{name}     change is_active and mcp_configs (and the value, if given)
 *   DELETE /key/{name}     remove */
#include "mcpgw_engine_internal.h"
#include "mcpgw_admin_reply.h"
#include "mcpgw_json.h"
#include "mcpgw_log.h"
#include "mcpgw_state.h"
#include "mcpgw_vkeys.h"

#include <apr_atomic.h>
#include <apr_strings.h>
#include <string.h>

void engine_admin_answer(engine_conn_t *conn, int status, json_t *body);
void engine_admin_error(engine_conn_t *conn, int status, const char *message);
int engine_admin_persist(mcpgw_engine_t *engine);

void engine_keys_authenticate(engine_conn_t *conn, const char *key_sha256_hex)
{
    unsigned char hash[MCPGW_SHA256_LEN];
    const mcpgw_vkey_t *k = NULL;
    const char *headers[] = { "X-Key-Name", NULL, NULL, NULL };
    if (mcpgw_digest_from_hex(key_sha256_hex, hash))
        k = mcpgw_vkeys_find(conn->engine->keys, hash);
    engine_conn_cork(conn);
    if (k && k->is_active) {
        headers[1] = k->name;
        engine_conn_send_head(conn, 200, headers);
    }
    else
        engine_conn_send_head(conn, 401, NULL); /* unknown and inactive look the same */
    engine_conn_finish(conn);
    engine_conn_uncork(conn);
}

int engine_keys_tool_visible(const char *key, const mcpgw_catalog_tool_t *tool, void *baton)
{
    mcpgw_engine_t *engine = baton;
    /* One lookup per request, not per tool: the same key asks for every tool of a list. */
    static const mcpgw_vkey_t *last;
    static const char *last_name;
    static const apr_array_header_t *last_keys;
    if (!last || last_name != key || last_keys != engine->keys || strcmp(last->name, key) != 0) {
        last = mcpgw_vkeys_named(engine->keys, key);
        last_name = key;
        last_keys = engine->keys;
    }
    return last && last->is_active && mcpgw_vkey_allows(last, tool->upstream, tool->tool_name);
}

/* Replaces (or adds, or with k == NULL removes) the key named name. */
static void install(mcpgw_engine_t *engine, const char *name, mcpgw_vkey_t *k, apr_pool_t *pool)
{
    apr_array_header_t *keys = apr_array_make(engine->pool, engine->keys->nelts + 1, sizeof(void *));
    apr_pool_t *old;
    for (int i = 0; i < engine->keys->nelts; i++) {
        mcpgw_vkey_t *o = APR_ARRAY_IDX(engine->keys, i, mcpgw_vkey_t *);
        if (strcmp(o->name, name) != 0)
            APR_ARRAY_PUSH(keys, mcpgw_vkey_t *) = o;
    }
    if (k)
        APR_ARRAY_PUSH(keys, mcpgw_vkey_t *) = k;
    engine->keys = keys;
    old = apr_hash_get(engine->key_pools, name, APR_HASH_KEY_STRING);
    apr_hash_set(engine->key_pools, name, APR_HASH_KEY_STRING, NULL);
    if (old)
        apr_pool_destroy(old);
    if (k)
        apr_hash_set(engine->key_pools, k->name, APR_HASH_KEY_STRING, pool);
    if (engine->opts.keys_generation)
        apr_atomic_inc32(engine->opts.keys_generation); /* children drop cached checks */
    /* What each key sees may have changed: clients refresh their lists. */
    engine_streams_notify(engine, "notifications/tools/list_changed", MCPGW_TOPIC_TOOLS_LIST_CHANGED);
}

static void create_or_update(engine_conn_t *conn, const char *name, const char *body,
                             apr_size_t len)
{
    mcpgw_engine_t *engine = conn->engine;
    const mcpgw_vkey_t *existing = name ? mcpgw_vkeys_named(engine->keys, name) : NULL;
    const char *why = NULL, *value = NULL;
    json_t *json = mcpgw_json_load(conn->req_pool, body, len, &why), *result;
    mcpgw_vkey_t *k;
    apr_pool_t *pool;

    if (name && !existing) {
        engine_admin_error(conn, 404, apr_psprintf(conn->req_pool, "virtual key not found: %s", name));
        return;
    }
    if (!json_is_object(json)) {
        engine_admin_error(conn, 400, why ? apr_psprintf(conn->req_pool, "Invalid request body: %s", why)
                                          : "Invalid request body: expected an object");
        return;
    }
    json = json_deep_copy(json);
    if (existing && !json_object_get(json, "name"))
        json_object_set_new(json, "name", json_string(existing->name));
    if (!json_object_get(json, "value") && !existing) {
        /* No value given: a fresh one, 256 random bits. */
        json_object_set_new(json, "value", json_string(mcpgw_vkey_generate_value(conn->req_pool)));
    }
    value = mcpgw_json_string(json, "value");
    apr_pool_create(&pool, engine->pool);
    if (json_object_get(json, "value")) {
        if (mcpgw_vkey_parse(pool, json, "$", 0, &k, &why) != APR_SUCCESS)
            goto invalid;
    }
    else {
        /* Changed without a new value: keep the old hash. */
        json_t *st = mcpgw_vkey_to_json(existing, 1);
        json_object_update(st, json);
        json_object_del(st, "value");
        if (mcpgw_vkey_parse(pool, st, "$", 1, &k, &why) != APR_SUCCESS) {
            json_decref(st);
            goto invalid;
        }
        json_decref(st);
    }
    if ((!existing || strcmp(existing->name, k->name) != 0) && mcpgw_vkeys_named(engine->keys, k->name)) {
        why = apr_psprintf(conn->req_pool, "virtual key '%s' already exists", k->name);
        goto invalid;
    }
    if (mcpgw_vkeys_find(engine->keys, k->hash) && (!existing || memcmp(existing->hash, k->hash, sizeof(k->hash)) != 0)) {
        why = "another virtual key has this value";
        goto invalid;
    }
    if (existing && strcmp(existing->name, k->name) != 0) {
        mcpgw_state_delete_key(engine->state, existing->name);
        install(engine, existing->name, NULL, NULL);
    }
    install(engine, k->name, k, pool);
    mcpgw_state_put_key(engine->state, mcpgw_vkey_to_json(k, 1));
    engine_admin_persist(engine);
    result = mcpgw_vkey_to_json(k, 0);
    /* Shown once, now; after this only its hash exists. */
    if (!existing && value && strncmp(value, "env.", 4) != 0)
        json_object_set_new(result, "value", json_string(value));
    engine_admin_answer(conn, 200, json_pack("{s:s, s:s, s:o}", "status", "success", "message",
                                             existing ? "Virtual key updated successfully"
                                                      : "Virtual key created successfully",
                                             "virtual_key", result));
    json_decref(json);
    return;
invalid:
    json_decref(json);
    apr_pool_destroy(pool);
    engine_admin_error(conn, 400, why);
}

void engine_keys_admin(engine_conn_t *conn, const char *method, const char *path,
                       const char *body, apr_size_t len)
{
    mcpgw_engine_t *engine = conn->engine;
    if (strcmp(path, "/keys") == 0) {
        json_t *arr = json_array();
        if (strcmp(method, "GET") != 0) {
            engine_admin_error(conn, 405, "Method not allowed");
            return;
        }
        for (int i = 0; i < engine->keys->nelts; i++)
            json_array_append_new(arr, mcpgw_vkey_to_json(APR_ARRAY_IDX(engine->keys, i, mcpgw_vkey_t *), 0));
        engine_admin_answer(conn, 200, arr);
        return;
    }
    if (strcmp(path, "/key") == 0) {
        if (strcmp(method, "POST") == 0)
            create_or_update(conn, NULL, body, len);
        else
            engine_admin_error(conn, 405, "Method not allowed");
        return;
    }
    if (strncmp(path, "/key/", 5) == 0 && path[5]) {
        const char *name = path + 5;
        if (strcmp(method, "PUT") == 0)
            create_or_update(conn, name, body, len);
        else if (strcmp(method, "DELETE") == 0) {
            if (!mcpgw_vkeys_named(engine->keys, name)) {
                engine_admin_error(conn, 404, apr_psprintf(conn->req_pool, "virtual key not found: %s", name));
                return;
            }
            name = apr_pstrdup(conn->req_pool, name);
            install(engine, name, NULL, NULL);
            mcpgw_state_delete_key(engine->state, name);
            engine_admin_persist(engine);
            engine_admin_answer(conn, 200, mcpgw_admin_reply_success("Virtual key removed successfully"));
        }
        else
            engine_admin_error(conn, 405, "Method not allowed");
        return;
    }
    engine_admin_error(conn, 404, "Not found");
}
