/* One HTTP POST's worth of JSON-RPC work: the requests it carried and the replies owed.
 * Most replies are ready at once; a tools/call is answered later by an upstream, so the
 * exchange counts what is pending and tells its owner when the last reply is in. */
#ifndef MCPGW_EXCHANGE_H
#define MCPGW_EXCHANGE_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <jansson.h>

typedef struct mcpgw_exchange_t mcpgw_exchange_t;

typedef void (*mcpgw_exchange_done_fn)(mcpgw_exchange_t *exchange, void *baton);

struct mcpgw_exchange_t {
    apr_pool_t *pool;
    int status;             /* HTTP status of the answer */
    const char *session_id; /* Mcp-Session-Id to return (set by initialize) */
    int is_batch;
    int stream_events;      /* answer as text/event-stream (progress can flow) */
    unsigned pending;       /* replies not yet in */
    apr_array_header_t *replies; /* struct reply, one per request, in order */
    mcpgw_exchange_done_fn on_done;
    void *on_done_baton;
    /* Set by subscriptions/listen (stateless revision): instead of a reply, the answer
     * becomes an event stream of the notifications named by listen_topics. */
    json_t *listen_id;      /* the listen request's id, owned by pool */
    unsigned listen_topics; /* MCPGW_TOPIC_* bits */
    /* Tool calls still out (struct mcpgw_tool_call_t *), to cancel them if the caller
     * leaves. */
    apr_array_header_t *calls;
    /* Notifications for the caller while replies are pending (progress). The owner sets
     * it when the caller accepts an event stream; NULL drops them. */
    void (*on_event)(mcpgw_exchange_t *ex, const char *json, apr_size_t len, void *baton);
};

#define MCPGW_TOPIC_TOOLS_LIST_CHANGED     1u
#define MCPGW_TOPIC_PROMPTS_LIST_CHANGED   2u
#define MCPGW_TOPIC_RESOURCES_LIST_CHANGED 4u

mcpgw_exchange_t *mcpgw_exchange_create(apr_pool_t *pool);

/* Reserves the next reply slot; returns its index. */
unsigned mcpgw_exchange_reserve(mcpgw_exchange_t *ex);

/* Set on_done only after the request was handled: replies filled during handling must not
 * answer a half-built batch. */

/* Fills a slot with a reply (serialized here); steals reply. When this was the last
 * pending reply and the exchange was already started, on_done runs. */
void mcpgw_exchange_fill(mcpgw_exchange_t *ex, unsigned slot, json_t *reply);

/* Same with text already serialized (the cached tools/list path). */
void mcpgw_exchange_fill_text(mcpgw_exchange_t *ex, unsigned slot, const char *text,
                              apr_size_t len);

/* One reply's text (after the exchange is done). */
const char *mcpgw_exchange_reply(mcpgw_exchange_t *ex, unsigned slot, apr_size_t *len);

/* The body owed to the client: one reply, or an array for a batch. NULL when nothing is
 * owed (only notifications and responses were posted). */
const char *mcpgw_exchange_body(mcpgw_exchange_t *ex, apr_size_t *len);

/* A reply built by concatenation: {"jsonrpc":"2.0","id":<id>,"result":<result_text>}. */
const char *mcpgw_exchange_result_text(apr_pool_t *pool, const json_t *id,
                                       const char *result_text, apr_size_t result_len,
                                       apr_size_t *len);

#endif
