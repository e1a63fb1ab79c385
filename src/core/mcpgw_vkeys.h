/* Virtual keys: who may use /mcp and which tools each caller sees.
 *
 * A key's value is never kept: only its SHA-256, and a redacted hint to show. A presented
 * key is hashed and compared with every key's hash in constant time. */
#ifndef MCPGW_VKEYS_H
#define MCPGW_VKEYS_H

#include "mcpgw_config.h"
#include "mcpgw_sha256.h"

#include <apr_pools.h>
#include <apr_tables.h>
#include <jansson.h>

typedef struct {
    const char *client;          /* mcp_client_name */
    mcpgw_tool_filter_t tools;   /* tools_to_execute: "*" all, a list exactly those */
} mcpgw_vkey_grant_t;

typedef struct {
    const char *name;
    unsigned char hash[MCPGW_SHA256_LEN];
    const char *hint;            /* redacted value, for display */
    const char *env_var;         /* set when the value came from env.NAME */
    int is_active;
    apr_array_header_t *grants;  /* mcpgw_vkey_grant_t */
} mcpgw_vkey_t;

/* Parses a key. From the JSON file or the admin API, "value" is the key itself (or
 * env.NAME); from the state file the key carries "value_sha256" and "value_hint" instead. */
apr_status_t mcpgw_vkey_parse(apr_pool_t *pool, const json_t *obj, const char *path,
                              int from_state, mcpgw_vkey_t **out, const char **error);

/* Display form (value redacted) or state form (hash and hint, never the value). */
json_t *mcpgw_vkey_to_json(const mcpgw_vkey_t *k, int for_state);

/* The key whose hash matches, or NULL. Every key is compared, whatever matches first. */
const mcpgw_vkey_t *mcpgw_vkeys_find(const apr_array_header_t *keys,
                                     const unsigned char hash[MCPGW_SHA256_LEN]);

const mcpgw_vkey_t *mcpgw_vkeys_named(const apr_array_header_t *keys, const char *name);

/* Whether the key may see/call a client's tool (the upstream's own tool name). No grant for
 * the client means none of its tools. */
int mcpgw_vkey_allows(const mcpgw_vkey_t *k, const char *client, const char *tool);

/* A new key value: "vk_" and 256 random bits in hex. */
const char *mcpgw_vkey_generate_value(apr_pool_t *pool);

/* governance.virtual_keys of the JSON file. */
apr_status_t mcpgw_vkeys_parse_config(apr_pool_t *pool, const json_t *root,
                                      apr_array_header_t **keys, const char **error);

#endif
