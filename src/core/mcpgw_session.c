#include "mcpgw_session.h"

#include <apr_general.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <string.h>

APR_RING_HEAD(session_ring_t, mcpgw_session_t);

struct mcpgw_session_store_t {
    apr_pool_t *pool;
    apr_hash_t *by_id;
    struct session_ring_t lru; /* every session, least recently used first */
    unsigned max_sessions;
    apr_interval_time_t idle_timeout;
    void (*on_remove)(mcpgw_session_t *, void *);
    void *on_remove_baton;
};

mcpgw_session_store_t *mcpgw_session_store_create(apr_pool_t *pool, unsigned max_sessions,
                                                  apr_interval_time_t idle_timeout)
{
    mcpgw_session_store_t *store = apr_pcalloc(pool, sizeof(*store));
    store->pool = pool;
    store->by_id = apr_hash_make(pool);
    APR_RING_INIT(&store->lru, mcpgw_session_t, lru);
    store->max_sessions = max_sessions ? max_sessions : 1;
    store->idle_timeout = idle_timeout;
    return store;
}

void mcpgw_session_store_on_remove(mcpgw_session_store_t *store,
                                   void (*fn)(mcpgw_session_t *, void *), void *baton)
{
    store->on_remove = fn;
    store->on_remove_baton = baton;
}

apr_status_t mcpgw_session_id_mint(char out[MCPGW_SESSION_ID_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[MCPGW_SESSION_ID_BYTES];
    apr_status_t rv = apr_generate_random_bytes(raw, sizeof(raw));
    if (rv != APR_SUCCESS)
        return rv;
    for (size_t i = 0; i < sizeof(raw); i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 0xf];
    }
    out[MCPGW_SESSION_ID_LEN] = '\0';
    return APR_SUCCESS;
}

int mcpgw_session_id_well_formed(const char *id)
{
    if (!id || strlen(id) != MCPGW_SESSION_ID_LEN)
        return 0;
    for (const char *c = id; *c; c++)
        if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
            return 0;
    return 1;
}

void mcpgw_session_remove(mcpgw_session_store_t *store, mcpgw_session_t *session)
{
    if (store->on_remove)
        store->on_remove(session, store->on_remove_baton);
    apr_hash_set(store->by_id, session->id, APR_HASH_KEY_STRING, NULL);
    APR_RING_REMOVE(session, lru);
    apr_pool_destroy(session->pool);
}

static int is_idle(const mcpgw_session_store_t *store, const mcpgw_session_t *s, apr_time_t now)
{
    return store->idle_timeout > 0 && now - s->last_used > store->idle_timeout;
}

unsigned mcpgw_session_expire(mcpgw_session_store_t *store, apr_time_t now)
{
    unsigned removed = 0;
    /* The ring is in last-use order: the idle ones are all at its head. */
    while (!APR_RING_EMPTY(&store->lru, mcpgw_session_t, lru)) {
        mcpgw_session_t *s = APR_RING_FIRST(&store->lru);
        if (!is_idle(store, s, now))
            break;
        mcpgw_session_remove(store, s);
        removed++;
    }
    return removed;
}

static void evict_least_recent(mcpgw_session_store_t *store)
{
    if (!APR_RING_EMPTY(&store->lru, mcpgw_session_t, lru))
        mcpgw_session_remove(store, APR_RING_FIRST(&store->lru));
}

mcpgw_session_t *mcpgw_session_create(mcpgw_session_store_t *store, const char *version,
                                      const char *principal, apr_time_t now)
{
    apr_pool_t *pool;
    mcpgw_session_t *s;

    if (apr_hash_count(store->by_id) >= store->max_sessions) {
        mcpgw_session_expire(store, now);
        if (apr_hash_count(store->by_id) >= store->max_sessions)
            evict_least_recent(store);
    }
    apr_pool_create(&pool, store->pool);
    s = apr_pcalloc(pool, sizeof(*s));
    s->pool = pool;
    if (mcpgw_session_id_mint(s->id) != APR_SUCCESS) {
        apr_pool_destroy(pool);
        return NULL;
    }
    s->protocol_version = apr_pstrdup(pool, version);
    s->principal = principal ? apr_pstrdup(pool, principal) : NULL;
    s->created = s->last_used = now;
    apr_hash_set(store->by_id, s->id, APR_HASH_KEY_STRING, s);
    APR_RING_INSERT_TAIL(&store->lru, s, mcpgw_session_t, lru);
    return s;
}

mcpgw_session_t *mcpgw_session_find(mcpgw_session_store_t *store, const char *id,
                                    apr_time_t now)
{
    mcpgw_session_t *s;
    if (!mcpgw_session_id_well_formed(id))
        return NULL;
    s = apr_hash_get(store->by_id, id, APR_HASH_KEY_STRING);
    if (!s)
        return NULL;
    if (is_idle(store, s, now)) {
        mcpgw_session_remove(store, s);
        return NULL;
    }
    s->last_used = now;
    APR_RING_REMOVE(s, lru);
    APR_RING_INSERT_TAIL(&store->lru, s, mcpgw_session_t, lru);
    return s;
}

unsigned mcpgw_session_count(const mcpgw_session_store_t *store)
{
    return apr_hash_count(store->by_id);
}
