#include "mcpgw_state.h"
#include "mcpgw_json.h"
#include "mcpgw_vkeys.h"

#include <apr_file_io.h>
#include <apr_strings.h>
#include <string.h>

static json_t *empty_state(void)
{
    return json_pack("{s:i, s:[], s:[], s:[], s:[]}", "version", 1, "clients", "deleted", "keys",
                     "deleted_keys");
}

apr_status_t mcpgw_state_load(apr_pool_t *pool, const char *path, json_t **state,
                              const char **error)
{
    apr_file_t *f;
    apr_finfo_t fi;
    apr_size_t len;
    char *buf;
    const char *why = NULL;
    json_t *root;

    if (apr_file_open(&f, path, APR_FOPEN_READ, 0, pool) != APR_SUCCESS) {
        *state = mcpgw_json_own(pool, empty_state());
        return APR_SUCCESS;
    }
    apr_file_info_get(&fi, APR_FINFO_SIZE, f);
    len = (apr_size_t)fi.size;
    buf = apr_palloc(pool, len + 1);
    if (len && apr_file_read_full(f, buf, len, &len) != APR_SUCCESS) {
        apr_file_close(f);
        *error = apr_psprintf(pool, "state file %s: cannot read it", path);
        return APR_EGENERAL;
    }
    apr_file_close(f);
    root = mcpgw_json_load(pool, buf, len, &why);
    if (!root) {
        *error = apr_psprintf(pool, "state file %s is corrupt (%s); fix or remove it - the "
                                    "gateway will not start over it and lose admin changes",
                              path, why);
        return APR_EINVAL;
    }
    if (!json_is_object(root) || !json_is_array(json_object_get(root, "clients")) ||
        !json_is_array(json_object_get(root, "deleted"))) {
        *error = apr_psprintf(pool, "state file %s is corrupt: expected {\"clients\":[...], "
                                    "\"deleted\":[...]}", path);
        return APR_EINVAL;
    }
    /* Older state files have no keys yet. */
    if (!json_object_get(root, "keys"))
        json_object_set_new(root, "keys", json_array());
    if (!json_object_get(root, "deleted_keys"))
        json_object_set_new(root, "deleted_keys", json_array());
    if (!json_is_array(json_object_get(root, "keys")) || !json_is_array(json_object_get(root, "deleted_keys"))) {
        *error = apr_psprintf(pool, "state file %s is corrupt: keys and deleted_keys must be arrays", path);
        return APR_EINVAL;
    }
    *state = root;
    return APR_SUCCESS;
}

apr_status_t mcpgw_state_save(apr_pool_t *pool, const char *path, const json_t *state,
                              const char **error)
{
    const char *tmp = apr_pstrcat(pool, path, ".tmp", NULL);
    apr_size_t len;
    const char *text = mcpgw_json_dump(pool, state, &len);
    apr_file_t *f = NULL;
    apr_status_t rv;

    /* 0600: the file may hold header values and env entries as the admin gave them. */
    rv = apr_file_open(&f, tmp, APR_FOPEN_WRITE | APR_FOPEN_CREATE | APR_FOPEN_TRUNCATE,
                       APR_FPROT_UREAD | APR_FPROT_UWRITE, pool);
    if (rv == APR_SUCCESS)
        rv = apr_file_write_full(f, text, len, NULL);
    if (rv == APR_SUCCESS)
        rv = apr_file_sync(f);
    if (f)
        apr_file_close(f);
    if (rv == APR_SUCCESS)
        rv = apr_file_rename(tmp, path, pool);
    if (rv != APR_SUCCESS) {
        char err[128];
        *error = apr_psprintf(pool, "cannot write state file %s: %s", path,
                              apr_strerror(rv, err, sizeof(err)));
        apr_file_remove(tmp, pool);
    }
    return rv;
}

static int listed(const json_t *arr, const char *id)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
        if (json_is_string(v) && strcmp(json_string_value(v), id) == 0)
            return 1;
    return 0;
}

apr_status_t mcpgw_state_apply(apr_pool_t *pool, mcpgw_gateway_config_t *cfg,
                               const json_t *state, const char **error)
{
    json_t *clients = json_object_get(state, "clients");
    json_t *deleted = json_object_get(state, "deleted");
    apr_array_header_t *merged = apr_array_make(pool, 8, sizeof(mcpgw_upstream_config_t *));
    apr_array_header_t *overrides = apr_array_make(pool, 8, sizeof(mcpgw_upstream_config_t *));
    size_t i;
    json_t *c;

    json_array_foreach(clients, i, c) {
        mcpgw_upstream_config_t *u;
        const char *path = apr_psprintf(pool, "state file: clients[%lu]", (unsigned long)i);
        if (mcpgw_config_parse_upstream(pool, c, path, &u, error) != APR_SUCCESS)
            return APR_EINVAL;
        if (!u->client_id) {
            *error = apr_pstrcat(pool, path, ": client_id is missing", NULL);
            return APR_EINVAL;
        }
        APR_ARRAY_PUSH(overrides, mcpgw_upstream_config_t *) = u;
    }
    for (int j = 0; j < cfg->upstreams->nelts; j++) {
        mcpgw_upstream_config_t *u = APR_ARRAY_IDX(cfg->upstreams, j, mcpgw_upstream_config_t *);
        int replaced = 0;
        if (listed(deleted, u->client_id))
            continue;
        for (int k = 0; k < overrides->nelts; k++) {
            mcpgw_upstream_config_t *o = APR_ARRAY_IDX(overrides, k, mcpgw_upstream_config_t *);
            if (o && strcmp(o->client_id, u->client_id) == 0) {
                APR_ARRAY_PUSH(merged, mcpgw_upstream_config_t *) = o;
                APR_ARRAY_IDX(overrides, k, mcpgw_upstream_config_t *) = NULL;
                replaced = 1;
            }
        }
        if (!replaced)
            APR_ARRAY_PUSH(merged, mcpgw_upstream_config_t *) = u;
    }
    for (int k = 0; k < overrides->nelts; k++) {
        mcpgw_upstream_config_t *o = APR_ARRAY_IDX(overrides, k, mcpgw_upstream_config_t *);
        if (o)
            APR_ARRAY_PUSH(merged, mcpgw_upstream_config_t *) = o;
    }
    cfg->upstreams = merged;
    return APR_SUCCESS;
}

static void drop_by(json_t *arr, const char *field, const char *value)
{
    size_t i = json_array_size(arr);
    while (i-- > 0) {
        json_t *v = json_array_get(arr, i);
        const char *id = field ? mcpgw_json_string(v, field) : json_string_value(v);
        if (id && strcmp(id, value) == 0)
            json_array_remove(arr, i);
    }
}

apr_status_t mcpgw_state_apply_keys(apr_pool_t *pool, mcpgw_gateway_config_t *cfg,
                                    const json_t *state, const char **error)
{
    json_t *keys = json_object_get(state, "keys"), *deleted = json_object_get(state, "deleted_keys"), *k;
    apr_array_header_t *merged = apr_array_make(pool, 8, sizeof(mcpgw_vkey_t *));
    size_t i;
    for (int j = 0; cfg->vkeys && j < cfg->vkeys->nelts; j++) {
        mcpgw_vkey_t *v = APR_ARRAY_IDX(cfg->vkeys, j, mcpgw_vkey_t *);
        int overridden = 0;
        json_array_foreach(keys, i, k)
            overridden |= mcpgw_json_string(k, "name") && strcmp(mcpgw_json_string(k, "name"), v->name) == 0;
        if (!listed(deleted, v->name) && !overridden)
            APR_ARRAY_PUSH(merged, mcpgw_vkey_t *) = v;
    }
    json_array_foreach(keys, i, k) {
        mcpgw_vkey_t *v;
        if (mcpgw_vkey_parse(pool, k, apr_psprintf(pool, "state file: keys[%lu]", (unsigned long)i), 1, &v,
                             error) != APR_SUCCESS)
            return APR_EINVAL;
        APR_ARRAY_PUSH(merged, mcpgw_vkey_t *) = v;
    }
    cfg->vkeys = merged;
    return APR_SUCCESS;
}

/* The state keeps, per kind of object, a list of records and a list of tombstones (ids of
 * deleted objects). Recording one removes its tombstone; deleting one removes its record. */
static void put_record(json_t *state, const char *list, const char *tombstones,
                       const char *id_field, json_t *record)
{
    const char *id = mcpgw_json_string(record, id_field);
    drop_by(json_object_get(state, list), id_field, id);
    drop_by(json_object_get(state, tombstones), NULL, id);
    json_array_append_new(json_object_get(state, list), record);
}

static void bury(json_t *state, const char *list, const char *tombstones, const char *id_field,
                 const char *id)
{
    drop_by(json_object_get(state, list), id_field, id);
    drop_by(json_object_get(state, tombstones), NULL, id);
    json_array_append_new(json_object_get(state, tombstones), json_string(id));
}

void mcpgw_state_put_key(json_t *state, json_t *key_state_json)
{
    put_record(state, "keys", "deleted_keys", "name", key_state_json);
}

void mcpgw_state_delete_key(json_t *state, const char *name)
{
    bury(state, "keys", "deleted_keys", "name", name);
}

void mcpgw_state_put_client(json_t *state, json_t *client_json)
{
    put_record(state, "clients", "deleted", "client_id", client_json);
}

void mcpgw_state_delete_client(json_t *state, const char *client_id)
{
    bury(state, "clients", "deleted", "client_id", client_id);
}
