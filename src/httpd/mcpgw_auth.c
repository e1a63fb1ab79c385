#include "mcpgw_auth.h"
#include "mcpgw_directives.h"
#include "mcpgw_ipc_client.h"
#include "mcpgw_json.h"
#include "mcpgw_sha256.h"
#include "mcpgw_supervisor.h"

#include "http_core.h"
#include "http_log.h"
#include "http_main.h"
#include "http_protocol.h"
#include "http_request.h"

#include <apr_atomic.h>
#include <apr_strings.h>

APLOG_USE_MODULE(mcp_gateway);

static const char *presented_key(request_rec *r)
{
    const char *v = apr_table_get(r->headers_in, "Authorization");
    if (v && strncasecmp(v, "Bearer ", 7) == 0) {
        v += 7;
        while (*v == ' ')
            v++;
        if (*v)
            return v;
    }
    if ((v = apr_table_get(r->headers_in, "X-Api-Key")) && *v)
        return v;
    if ((v = apr_table_get(r->headers_in, "x-bf-virtual-key")) && *v)
        return v;
    if ((v = apr_table_get(r->headers_in, "x-bf-vk")) && *v)
        return v;
    return NULL;
}

static int configured_for_keys(request_rec *r)
{
    const char *t = ap_auth_type(r);
    return t && strcasecmp(t, MCPGW_AUTH_TYPE) == 0;
}

int mcpgw_auth_enforced(void)
{
    const mcpgw_server_conf_t *c = mcpgw_directives_main(ap_server_conf);
    return c->gateway && c->gateway->enforce_auth;
}

int mcpgw_auth_by_key(request_rec *r)
{
    return r->user && r->ap_auth_type && strcmp(r->ap_auth_type, MCPGW_AUTH_TYPE) == 0;
}

int mcpgw_auth_unauthorized(request_rec *r)
{
    apr_table_setn(r->err_headers_out, "WWW-Authenticate", "Bearer realm=\"mcp-gateway\"");
    ap_custom_response(r, HTTP_UNAUTHORIZED,
                       "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32001,"
                       "\"message\":\"" MCPGW_AUTH_REFUSAL "\"}}");
    return HTTP_UNAUTHORIZED;
}

/* Each worker thread remembers the last few keys it saw accepted, tagged with the keys
 * generation in shared memory: any change to the keys (through any child) moves the
 * generation and empties every cache at once, so a deactivated key fails on the very next
 * request. Only accepted keys are remembered; unknown ones always ask the engine. */
#define CACHE_SLOTS 8

typedef struct {
    unsigned char hash[MCPGW_SHA256_LEN];
    char name[128];
    apr_uint32_t generation;
    int used;
} cached_key_t;

static __thread cached_key_t key_cache[CACHE_SLOTS];
static __thread unsigned key_cache_next;

static const char *cache_lookup(request_rec *r, const unsigned char *hash)
{
    volatile apr_uint32_t *gen = mcpgw_supervisor_keys_generation();
    if (!gen)
        return NULL;
    for (int i = 0; i < CACHE_SLOTS; i++) {
        cached_key_t *c = &key_cache[i];
        if (c->used && c->generation == apr_atomic_read32(gen) &&
            mcpgw_digest_equal(c->hash, hash, MCPGW_SHA256_LEN))
            return apr_pstrdup(r->pool, c->name);
    }
    return NULL;
}

static void cache_store(const unsigned char *hash, const char *name, apr_uint32_t generation)
{
    cached_key_t *c = &key_cache[key_cache_next++ % CACHE_SLOTS];
    if (strlen(name) >= sizeof(c->name))
        return;
    memcpy(c->hash, hash, MCPGW_SHA256_LEN);
    strcpy(c->name, name);
    c->generation = generation;
    c->used = 1;
}

/* Asks the engine whose key this is, by its hash (the key itself never leaves the child).
 * Returns OK with *name, HTTP_UNAUTHORIZED, or HTTP_SERVICE_UNAVAILABLE. */
static int ask_engine(request_rec *r, const unsigned char *digest, const char **name)
{
    const mcpgw_server_conf_t *sconf = mcpgw_directives_main(ap_server_conf);
    char hash[2 * MCPGW_SHA256_LEN + 1];
    const char *meta;
    mcpgw_ipc_client_t *ipc;
    int status = HTTP_SERVICE_UNAVAILABLE;

    mcpgw_digest_to_hex(digest, hash);
    meta = apr_pstrcat(r->pool, "{\"auth\":true,\"method\":\"AUTH\",\"key_sha256\":\"", hash, "\"}\n", NULL);
    if (mcpgw_ipc_client_acquire(r->pool, sconf->socket_path, &ipc) != APR_SUCCESS ||
        mcpgw_ipc_client_send(ipc, MCPGW_IPC_REQUEST, meta, strlen(meta), NULL, 0) != APR_SUCCESS)
        return HTTP_SERVICE_UNAVAILABLE;
    for (;;) {
        char type;
        const char *payload;
        apr_size_t len;
        int client_event;
        if (mcpgw_ipc_client_next(ipc, sconf->engine_wait_ms, -1, &client_event, &type, &payload,
                                  &len) != APR_SUCCESS)
            return HTTP_SERVICE_UNAVAILABLE;
        if (type == MCPGW_IPC_HEAD) {
            json_t *head = mcpgw_json_load(r->pool, payload, len, NULL);
            json_t *st = json_object_get(head, "status");
            const char *n = mcpgw_json_string(json_object_get(head, "headers"), "X-Key-Name");
            status = json_integer_value(st) == 200 && n ? OK : HTTP_UNAUTHORIZED;
            if (status == OK)
                *name = apr_pstrdup(r->pool, n);
        }
        else if (type == MCPGW_IPC_END) {
            ipc->reusable = 1;
            return status;
        }
    }
}

/* Runs authentication when a key is presented (or required), even where authorization
 * alone would let the request through: a key always decides what its holder sees. */
static int force_authn(request_rec *r)
{
    if (!configured_for_keys(r))
        return DECLINED;
    return presented_key(r) || mcpgw_auth_enforced() ? OK : DECLINED;
}

static int check_authn(request_rec *r)
{
    const char *key, *name = NULL;
    unsigned char hash[MCPGW_SHA256_LEN];
    volatile apr_uint32_t *gen = mcpgw_supervisor_keys_generation();
    apr_uint32_t seen;
    int status;

    if (!configured_for_keys(r))
        return DECLINED;
    key = presented_key(r);
    if (!key)
        return mcpgw_auth_unauthorized(r);
    mcpgw_sha256(key, strlen(key), hash);
    if ((name = cache_lookup(r, hash)) != NULL) {
        r->user = (char *)name;
        r->ap_auth_type = (char *)MCPGW_AUTH_TYPE;
        return OK;
    }
    /* Read before asking: a change racing with the answer then invalidates what we store. */
    seen = gen ? apr_atomic_read32(gen) : 0;
    status = ask_engine(r, hash, &name);
    if (status == OK) {
        if (gen)
            cache_store(hash, name, seen);
        r->user = (char *)name;
        r->ap_auth_type = (char *)MCPGW_AUTH_TYPE;
        return OK;
    }
    if (status == HTTP_UNAUTHORIZED) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "virtual key rejected (unknown or inactive)");
        return mcpgw_auth_unauthorized(r);
    }
    apr_table_setn(r->err_headers_out, "Retry-After", "2");
    return status;
}

void mcpgw_auth_register_hooks(apr_pool_t *p)
{
    ap_hook_check_authn(check_authn, NULL, NULL, APR_HOOK_MIDDLE, AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_force_authn(force_authn, NULL, NULL, APR_HOOK_MIDDLE);
}
