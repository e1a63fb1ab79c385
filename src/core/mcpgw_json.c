#include "mcpgw_json.h"

#include <apr_strings.h>

static apr_status_t json_release(void *value)
{
    json_decref((json_t *)value);
    return APR_SUCCESS;
}

json_t *mcpgw_json_own(apr_pool_t *pool, json_t *value)
{
    if (value)
        apr_pool_cleanup_register(pool, value, json_release, apr_pool_cleanup_null);
    return value;
}

const char *mcpgw_json_dump(apr_pool_t *pool, const json_t *value, apr_size_t *len)
{
    /* json_dumpb into pool memory avoids a malloc/free pair on every response. */
    size_t need = json_dumpb(value, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);
    char *buf = apr_palloc(pool, need + 1);
    size_t got = json_dumpb(value, buf, need, JSON_COMPACT | JSON_ENCODE_ANY);
    buf[got] = '\0';
    if (len)
        *len = got;
    return buf;
}

json_t *mcpgw_json_load(apr_pool_t *pool, const char *buf, apr_size_t len, const char **why)
{
    json_error_t err;
    json_t *value = json_loadb(buf, len, JSON_DECODE_ANY, &err);
    if (!value) {
        if (why)
            *why = apr_psprintf(pool, "%s at line %d column %d", err.text, err.line, err.column);
        return NULL;
    }
    return mcpgw_json_own(pool, value);
}

const char *mcpgw_json_string(const json_t *obj, const char *key)
{
    json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}
