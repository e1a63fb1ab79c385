/* Server-Sent Events: an incremental parser for streams read from upstream servers (bytes
 * arrive in arbitrary pieces) and the one-line writer the gateway uses downstream. */
#ifndef MCPGW_SSE_H
#define MCPGW_SSE_H

#include <apr_pools.h>

typedef struct {
    const char *event; /* "message" when the stream named none */
    const char *data;  /* data lines joined with '\n' */
    apr_size_t data_len;
    const char *id;    /* NULL when none */
} mcpgw_sse_event_t;

typedef void (*mcpgw_sse_event_fn)(const mcpgw_sse_event_t *event, void *baton);

typedef struct mcpgw_sse_parser_t mcpgw_sse_parser_t;

/* max_event bounds one event's size: a stream that exceeds it is an error (-1 from feed). */
mcpgw_sse_parser_t *mcpgw_sse_parser_create(apr_pool_t *pool, apr_size_t max_event,
                                            mcpgw_sse_event_fn fn, void *baton);

/* Feeds bytes; calls fn for every complete event. Returns 0, or -1 when an event grew past
 * max_event (the parser then discards it and resynchronizes at the next blank line). */
int mcpgw_sse_parser_feed(mcpgw_sse_parser_t *p, const char *buf, apr_size_t len);

/* "data: <json>\n\n" (json must be one line, as compact JSON is). */
const char *mcpgw_sse_format(apr_pool_t *pool, const char *json, apr_size_t len, apr_size_t *out_len);

#endif
