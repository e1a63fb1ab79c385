/* JSON values owned by APR pools.
 *
 * jansson values are reference counted; the rest of the gateway thinks in pools.
 * mcpgw_json_own() ties one reference to a pool, so a value dies with the pool that
 * owns it and no error path has to remember a json_decref(). */
#ifndef MCPGW_JSON_H
#define MCPGW_JSON_H

#include <apr_pools.h>
#include <jansson.h>

/* Takes over the caller's reference: the value is released when pool is cleared. */
json_t *mcpgw_json_own(apr_pool_t *pool, json_t *value);

/* Compact serialization into pool memory; *len receives the length (may be NULL). */
const char *mcpgw_json_dump(apr_pool_t *pool, const json_t *value, apr_size_t *len);

/* Parses len bytes; NULL on error with a short reason in *why (pool memory). The value is
 * owned by pool. */
json_t *mcpgw_json_load(apr_pool_t *pool, const char *buf, apr_size_t len, const char **why);

/* Typed getters that never crash on a missing key or a wrong type. */
const char *mcpgw_json_string(const json_t *obj, const char *key);

#endif
