/* Admin changes that must survive restarts, kept in <state dir>/clients.json:
 *
 *   {"version":1, "clients":[<client config as written>...], "deleted":["<client_id>"...],
 *    "keys":[<virtual key: hash and hint, never the value>...], "deleted_keys":["<name>"...]}
 *
 * The operator's JSON file is never rewritten. At start the two are merged: a client the
 * state file names (by client_id) is taken from the state file - admin changes win for the
 * clients they touched - a deleted one is dropped, and everything else comes from the JSON
 * file. Writes go to a temporary file, are fsync'd and renamed over the old one. */
#ifndef MCPGW_STATE_H
#define MCPGW_STATE_H

#include "mcpgw_config.h"

#include <apr_pools.h>
#include <jansson.h>

/* Reads the state file; a missing file is an empty state. A file that is not a valid
 * state is an error (never silently replaced). *state is owned by pool. */
apr_status_t mcpgw_state_load(apr_pool_t *pool, const char *path, json_t **state,
                              const char **error);

apr_status_t mcpgw_state_save(apr_pool_t *pool, const char *path, const json_t *state,
                              const char **error);

/* Merges state into cfg->upstreams (see above). Validation errors name the state file. */
apr_status_t mcpgw_state_apply(apr_pool_t *pool, mcpgw_gateway_config_t *cfg,
                               const json_t *state, const char **error);

/* The same merge for virtual keys (by name) into cfg->vkeys. */
apr_status_t mcpgw_state_apply_keys(apr_pool_t *pool, mcpgw_gateway_config_t *cfg,
                                    const json_t *state, const char **error);
void mcpgw_state_put_key(json_t *state, json_t *key_state_json);
void mcpgw_state_delete_key(json_t *state, const char *name);

/* Records that a client now has this configuration (raw, unredacted). */
void mcpgw_state_put_client(json_t *state, json_t *client_json);
/* Records that a client was deleted. */
void mcpgw_state_delete_client(json_t *state, const char *client_id);

#endif
