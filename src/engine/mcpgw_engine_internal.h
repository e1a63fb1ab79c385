/* Structures shared by the engine's files; nothing outside src/engine includes this. */
#ifndef MCPGW_ENGINE_INTERNAL_H
#define MCPGW_ENGINE_INTERNAL_H

#include "mcpgw_engine.h"
#include "mcpgw_ipc.h"
#include "mcpgw_loop.h"
#include "mcpgw_mcp_server.h"
#include "mcpgw_registry.h"

#include <apr_hash.h>
#include <apr_poll.h>
#include <apr_ring.h>
#include <apr_thread_mutex.h>

typedef struct engine_conn_t engine_conn_t;

typedef enum {
    CONN_IDLE,      /* waiting for a REQUEST frame */
    CONN_BUSY,      /* a POST is waiting on upstream replies */
    CONN_STREAMING  /* a GET stream: events are pushed until either side leaves */
} conn_state_e;

struct engine_conn_t {
    mcpgw_pollable_t pollable; /* first: what the pollset hands back */
    APR_RING_ENTRY(engine_conn_t) link; /* in engine->streams while streaming */
    mcpgw_engine_t *engine;
    apr_pool_t *pool;      /* the connection's lifetime */
    apr_pool_t *req_pool;  /* one request's lifetime; cleared after its END */
    apr_socket_t *sock;
    apr_pollfd_t pfd;
    mcpgw_ipc_decoder_t in;
    char *out;             /* bytes not yet written (malloc'd) */
    apr_size_t out_len, out_off, out_cap;
    conn_state_e state;
    int closed;            /* socket gone; struct lives on while replies are pending */
    mcpgw_exchange_t *exchange;
    mcpgw_session_t *session; /* the GET stream's session, NULL when sessionless */
    /* A subscriptions/listen stream (stateless revision): what it asked for and the id its
     * notifications are tagged with. A GET stream has topics == ALL and no id. */
    unsigned topics;
    const char *subscription_id; /* JSON text of the listen request's id, or NULL */
    int events_started;          /* a POST answer switched to an event stream (progress) */
    int corked;                  /* frames are queued, written together on uncork */
    int admin_waiter;            /* an admin request waits for an upstream to settle */
    int destroyed;               /* its memory is freed at the end of the loop's round */
};

APR_RING_HEAD(conn_ring_t, engine_conn_t);

/* Work handed to the loop from another thread (upstream I/O, health checks). */
typedef struct engine_task_t {
    struct engine_task_t *next;
    void (*fn)(void *baton);
    void *baton;
} engine_task_t;

struct mcpgw_engine_t {
    apr_pool_t *pool;
    mcpgw_engine_options_t opts;
    apr_pollset_t *pollset;
    apr_socket_t *listener;
    apr_pollfd_t listener_pfd;
    mcpgw_pollable_t listener_pollable;
    mcpgw_loop_t loop;
    mcpgw_registry_t *registry;
    mcpgw_mcp_server_t *server;
    mcpgw_gateway_config_t *config;  /* the JSON file merged with the admin state */
    json_t *state;                   /* admin changes, as persisted */
    apr_array_header_t *keys;        /* mcpgw_vkey_t *, each in its own pool (key_pools) */
    apr_hash_t *key_pools;           /* key name -> the pool that holds it (admin-made keys) */
    const char *state_path;
    struct conn_ring_t streams;  /* every open GET stream */
    unsigned connections;
    apr_thread_mutex_t *tasks_lock;
    engine_task_t *tasks_head, *tasks_tail;
    volatile int stopping;
};

/* mcpgw_engine_conn.c: connection I/O */
void engine_conn_accept(mcpgw_engine_t *engine);
void engine_conn_on_event(mcpgw_pollable_t *self, apr_int16_t events);
void engine_conn_send(engine_conn_t *conn, char type, const char *payload, apr_size_t len);
void engine_conn_send_head(engine_conn_t *conn, int status, const char *const *headers);
void engine_conn_finish(engine_conn_t *conn); /* END frame; back to idle */
/* Between cork and uncork frames are only queued: a whole answer leaves in one write,
 * and the child wakes once. */
void engine_conn_cork(engine_conn_t *conn);
void engine_conn_uncork(engine_conn_t *conn);
void engine_conn_close(engine_conn_t *conn);
void engine_conn_release(engine_conn_t *conn); /* frees a closed conn once its replies are in */

/* mcpgw_engine_requests.c: what a REQUEST frame asks for */
void engine_request_handle(engine_conn_t *conn, const char *payload, apr_size_t len);
void engine_request_abandon(engine_conn_t *conn); /* the child left mid-request */

/* mcpgw_engine_keys.c: virtual keys */
void engine_keys_authenticate(engine_conn_t *conn, const char *key_sha256_hex);
int engine_keys_tool_visible(const char *key, const mcpgw_catalog_tool_t *tool, void *engine);
void engine_keys_admin(engine_conn_t *conn, const char *method, const char *rest,
                       const char *body, apr_size_t len);

/* mcpgw_engine_admin.c: the admin REST API */
void engine_admin_handle(engine_conn_t *conn, const char *method, const char *path,
                         const char *body, apr_size_t len);
/* Sends a notification (method, no params) to every stream that wants the topic. */
void engine_streams_notify(mcpgw_engine_t *engine, const char *method, unsigned topic);
void engine_streams_close_session(mcpgw_engine_t *engine, mcpgw_session_t *session);

/* mcpgw_engine.c: cross-thread hand-off into the loop */
void mcpgw_engine_post(mcpgw_engine_t *engine, void (*fn)(void *), void *baton);

#endif
