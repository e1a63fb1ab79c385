#include "mcpgw_vkeys.h"
#include "mcpgw_json.h"

#include <apr_general.h>
#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>

static apr_status_t fail(apr_pool_t *pool, const char **error, const char *path, const char *what)
{
    *error = apr_pstrcat(pool, path, ": ", what, NULL);
    return APR_EINVAL;
}

apr_status_t mcpgw_vkey_parse(apr_pool_t *pool, const json_t *obj, const char *path,
                              int from_state, mcpgw_vkey_t **out, const char **error)
{
    mcpgw_vkey_t *k = apr_pcalloc(pool, sizeof(*k));
    json_t *configs, *active, *g;
    size_t i;

    if (!json_is_object(obj))
        return fail(pool, error, path, "must be an object");
    k->name = mcpgw_json_string(obj, "name");
    if (!k->name || !*k->name)
        return fail(pool, error, apr_pstrcat(pool, path, ".name", NULL), "is required");
    k->name = apr_pstrdup(pool, k->name);
    active = json_object_get(obj, "is_active");
    if (active && !json_is_boolean(active))
        return fail(pool, error, apr_pstrcat(pool, path, ".is_active", NULL), "must be true or false");
    k->is_active = !active || json_is_true(active);

    if (from_state) {
        if (!mcpgw_digest_from_hex(mcpgw_json_string(obj, "value_sha256"), k->hash))
            return fail(pool, error, apr_pstrcat(pool, path, ".value_sha256", NULL), "is not a SHA-256");
        k->hint = apr_pstrdup(pool, mcpgw_json_string(obj, "value_hint") ? mcpgw_json_string(obj, "value_hint") : "");
        if (mcpgw_json_string(obj, "value_env"))
            k->env_var = apr_pstrdup(pool, mcpgw_json_string(obj, "value_env"));
    }
    else {
        const char *value = mcpgw_json_string(obj, "value");
        if (!value || !*value)
            return fail(pool, error, apr_pstrcat(pool, path, ".value", NULL), "is required");
        if (strncmp(value, "env.", 4) == 0) {
            const char *env = getenv(value + 4);
            if (!env || !*env)
                return fail(pool, error, apr_pstrcat(pool, path, ".value", NULL),
                            apr_psprintf(pool, "virtual key '%s' needs environment variable %s, "
                                               "which is not set", k->name, value + 4));
            k->env_var = apr_pstrdup(pool, value + 4);
            value = env;
        }
        mcpgw_sha256(value, strlen(value), k->hash);
        k->hint = mcpgw_redact(pool, value);
    }

    k->grants = apr_array_make(pool, 4, sizeof(mcpgw_vkey_grant_t));
    configs = json_object_get(obj, "mcp_configs");
    if (configs && !json_is_null(configs) && !json_is_array(configs))
        return fail(pool, error, apr_pstrcat(pool, path, ".mcp_configs", NULL), "must be an array");
    json_array_foreach(configs, i, g) {
        const char *gpath = apr_psprintf(pool, "%s.mcp_configs[%lu]", path, (unsigned long)i);
        mcpgw_vkey_grant_t *grant;
        json_t *tools = json_object_get(g, "tools_to_execute"), *t;
        size_t j;
        if (!mcpgw_json_string(g, "mcp_client_name"))
            return fail(pool, error, apr_pstrcat(pool, gpath, ".mcp_client_name", NULL), "is required");
        if (tools && !json_is_null(tools) && !json_is_array(tools))
            return fail(pool, error, apr_pstrcat(pool, gpath, ".tools_to_execute", NULL),
                        "must be an array of strings");
        grant = apr_array_push(k->grants);
        grant->client = apr_pstrdup(pool, mcpgw_json_string(g, "mcp_client_name"));
        grant->tools.all = 0;
        grant->tools.names = apr_array_make(pool, 4, sizeof(const char *));
        json_array_foreach(tools, j, t) {
            if (!json_is_string(t))
                return fail(pool, error, apr_psprintf(pool, "%s.tools_to_execute[%lu]", gpath, (unsigned long)j),
                            "must be a string");
            if (strcmp(json_string_value(t), "*") == 0)
                grant->tools.all = 1;
            APR_ARRAY_PUSH(grant->tools.names, const char *) = apr_pstrdup(pool, json_string_value(t));
        }
    }
    *out = k;
    return APR_SUCCESS;
}

json_t *mcpgw_vkey_to_json(const mcpgw_vkey_t *k, int for_state)
{
    json_t *grants = json_array(), *o;
    for (int i = 0; i < k->grants->nelts; i++) {
        const mcpgw_vkey_grant_t *g = &APR_ARRAY_IDX(k->grants, i, mcpgw_vkey_grant_t);
        json_t *tools = json_array();
        for (int j = 0; j < g->tools.names->nelts; j++)
            json_array_append_new(tools, json_string(APR_ARRAY_IDX(g->tools.names, j, const char *)));
        json_array_append_new(grants, json_pack("{s:s, s:o}", "mcp_client_name", g->client,
                                                "tools_to_execute", tools));
    }
    o = json_pack("{s:s, s:b, s:o}", "name", k->name, "is_active", k->is_active, "mcp_configs", grants);
    if (for_state) {
        char hex[2 * MCPGW_SHA256_LEN + 1];
        mcpgw_digest_to_hex(k->hash, hex);
        json_object_set_new(o, "value_sha256", json_string(hex));
        json_object_set_new(o, "value_hint", json_string(k->hint));
        if (k->env_var)
            json_object_set_new(o, "value_env", json_string(k->env_var));
    }
    else if (k->env_var)
        json_object_set_new(o, "value", json_pack("{s:s, s:s, s:b}", "value", k->hint, "env_var",
                                                  k->env_var, "from_env", 1));
    else
        json_object_set_new(o, "value", json_string(k->hint));
    return o;
}

const mcpgw_vkey_t *mcpgw_vkeys_find(const apr_array_header_t *keys,
                                     const unsigned char hash[MCPGW_SHA256_LEN])
{
    const mcpgw_vkey_t *found = NULL;
    for (int i = 0; keys && i < keys->nelts; i++) {
        const mcpgw_vkey_t *k = APR_ARRAY_IDX(keys, i, const mcpgw_vkey_t *);
        /* No early exit: how long this takes says nothing about which key matched. */
        int eq = mcpgw_digest_equal(k->hash, hash, MCPGW_SHA256_LEN);
        if (eq && !found)
            found = k;
    }
    return found;
}

const mcpgw_vkey_t *mcpgw_vkeys_named(const apr_array_header_t *keys, const char *name)
{
    for (int i = 0; keys && i < keys->nelts; i++) {
        const mcpgw_vkey_t *k = APR_ARRAY_IDX(keys, i, const mcpgw_vkey_t *);
        if (strcmp(k->name, name) == 0)
            return k;
    }
    return NULL;
}

int mcpgw_vkey_allows(const mcpgw_vkey_t *k, const char *client, const char *tool)
{
    for (int i = 0; i < k->grants->nelts; i++) {
        const mcpgw_vkey_grant_t *g = &APR_ARRAY_IDX(k->grants, i, mcpgw_vkey_grant_t);
        if (strcmp(g->client, client) == 0 && mcpgw_tool_filter_allows(&g->tools, tool))
            return 1;
    }
    return 0;
}

apr_status_t mcpgw_vkeys_parse_config(apr_pool_t *pool, const json_t *root,
                                      apr_array_header_t **keys, const char **error)
{
    json_t *arr = json_object_get(json_object_get(root, "governance"), "virtual_keys"), *v;
    size_t i;
    *keys = apr_array_make(pool, 4, sizeof(mcpgw_vkey_t *));
    if (arr && !json_is_null(arr) && !json_is_array(arr))
        return fail(pool, error, "$.governance.virtual_keys", "must be an array");
    json_array_foreach(arr, i, v) {
        mcpgw_vkey_t *k;
        const char *path = apr_psprintf(pool, "$.governance.virtual_keys[%lu]", (unsigned long)i);
        if (mcpgw_vkey_parse(pool, v, path, 0, &k, error) != APR_SUCCESS)
            return APR_EINVAL;
        if (mcpgw_vkeys_named(*keys, k->name))
            return fail(pool, error, apr_pstrcat(pool, path, ".name", NULL),
                        apr_psprintf(pool, "virtual key name '%s' is already used", k->name));
        if (mcpgw_vkeys_find(*keys, k->hash))
            return fail(pool, error, apr_pstrcat(pool, path, ".value", NULL),
                        "two virtual keys have the same value");
        APR_ARRAY_PUSH(*keys, mcpgw_vkey_t *) = k;
    }
    return APR_SUCCESS;
}

const char *mcpgw_vkey_generate_value(apr_pool_t *pool)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[32];
    char *out = apr_palloc(pool, 3 + 2 * sizeof(raw) + 1);
    if (apr_generate_random_bytes(raw, sizeof(raw)) != APR_SUCCESS)
        abort();
    memcpy(out, "vk_", 3);
    for (size_t i = 0; i < sizeof(raw); i++) {
        out[3 + 2 * i] = hex[raw[i] >> 4];
        out[3 + 2 * i + 1] = hex[raw[i] & 15];
    }
    out[3 + 2 * sizeof(raw)] = '\0';
    return out;
}
