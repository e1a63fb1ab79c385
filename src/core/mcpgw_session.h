/* Streamable HTTP sessions: unguessable ids minted at initialize, looked up on every later
 * request, ended by DELETE or by idling out. The store is used by one thread at a time. */
#ifndef MCPGW_SESSION_H
#define MCPGW_SESSION_H

#include <apr_pools.h>
#include <apr_ring.h>
#include <apr_time.h>
#include <jansson.h>

/* 128 random bits, hex encoded: visible ASCII as the transport requires. */
#define MCPGW_SESSION_ID_BYTES 16
#define MCPGW_SESSION_ID_LEN (MCPGW_SESSION_ID_BYTES * 2)

typedef struct mcpgw_session_store_t mcpgw_session_store_t;

typedef struct mcpgw_session_t {
    APR_RING_ENTRY(mcpgw_session_t) lru; /* least recently used first */
    char id[MCPGW_SESSION_ID_LEN + 1];
    apr_pool_t *pool;             /* dies with the session */
    const char *protocol_version; /* negotiated at initialize */
    const char *principal;        /* key name that created it, NULL when anonymous */
    json_t *client_info;          /* owned by pool */
    json_t *client_capabilities;  /* owned by pool */
    int initialized;              /* notifications/initialized seen */
    apr_time_t created;
    apr_time_t last_used;
    void *engine_data;            /* the engine's per-session state (its GET streams) */
} mcpgw_session_t;

mcpgw_session_store_t *mcpgw_session_store_create(apr_pool_t *pool, unsigned max_sessions,
                                                  apr_interval_time_t idle_timeout);

/* Fills out with a fresh id from the system CSPRNG. */
apr_status_t mcpgw_session_id_mint(char out[MCPGW_SESSION_ID_LEN + 1]);

/* 1 when id has the shape we mint (so junk never reaches the table). */
int mcpgw_session_id_well_formed(const char *id);

/* Creates a session; when the store is full the least recently used one is evicted
 * first. Returns NULL only when the CSPRNG fails. */
mcpgw_session_t *mcpgw_session_create(mcpgw_session_store_t *store, const char *version,
                                      const char *principal, apr_time_t now);

/* The live session with this id, its last_used bumped; NULL when unknown or idle past
 * the timeout (the idle one is removed). */
mcpgw_session_t *mcpgw_session_find(mcpgw_session_store_t *store, const char *id,
                                    apr_time_t now);

void mcpgw_session_remove(mcpgw_session_store_t *store, mcpgw_session_t *session);

/* Removes every session idle past the timeout; returns how many. */
unsigned mcpgw_session_expire(mcpgw_session_store_t *store, apr_time_t now);

unsigned mcpgw_session_count(const mcpgw_session_store_t *store);

/* Called just before a session's pool is destroyed (to drop its streams). */
void mcpgw_session_store_on_remove(mcpgw_session_store_t *store,
                                   void (*fn)(mcpgw_session_t *, void *), void *baton);

#endif
