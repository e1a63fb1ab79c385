#include "mcpgw_sse.h"

#include <stdlib.h>
#include <string.h>

struct mcpgw_sse_parser_t {
    apr_size_t max_event;
    mcpgw_sse_event_fn fn;
    void *baton;
    /* the line being assembled */
    char *line;
    apr_size_t line_len, line_cap;
    /* the event being assembled */
    char *data;
    apr_size_t data_len, data_cap;
    int has_data;
    char event[64];
    char id[256];
    int has_id;
    int overflow; /* discarding until the next blank line */
    int last_was_cr;
};

static apr_status_t parser_free(void *v)
{
    mcpgw_sse_parser_t *p = v;
    free(p->line);
    free(p->data);
    return APR_SUCCESS;
}

mcpgw_sse_parser_t *mcpgw_sse_parser_create(apr_pool_t *pool, apr_size_t max_event,
                                            mcpgw_sse_event_fn fn, void *baton)
{
    mcpgw_sse_parser_t *p = apr_pcalloc(pool, sizeof(*p));
    p->max_event = max_event;
    p->fn = fn;
    p->baton = baton;
    apr_pool_cleanup_register(pool, p, parser_free, apr_pool_cleanup_null);
    return p;
}

static int append(char **buf, apr_size_t *len, apr_size_t *cap, const char *src, apr_size_t n,
                  apr_size_t max)
{
    if (*len + n + 1 > max)
        return -1;
    if (*len + n + 1 > *cap) {
        apr_size_t c = *cap ? *cap : 256;
        while (c < *len + n + 1)
            c *= 2;
        *buf = realloc(*buf, c);
        if (!*buf)
            abort();
        *cap = c;
    }
    memcpy(*buf + *len, src, n);
    *len += n;
    (*buf)[*len] = '\0';
    return 0;
}

static void dispatch(mcpgw_sse_parser_t *p)
{
    mcpgw_sse_event_t ev;
    if (p->has_data && !p->overflow) {
        ev.event = p->event[0] ? p->event : "message";
        ev.data = p->data ? p->data : "";
        ev.data_len = p->data_len;
        ev.id = p->has_id ? p->id : NULL;
        p->fn(&ev, p->baton);
    }
    p->data_len = 0;
    if (p->data)
        p->data[0] = '\0';
    p->has_data = 0;
    p->event[0] = '\0';
    p->has_id = 0;
    p->overflow = 0;
}

/* One complete line (without its terminator). */
static int process_line(mcpgw_sse_parser_t *p, const char *line, apr_size_t len)
{
    const char *colon, *value;
    apr_size_t name_len, value_len;

    if (len == 0) {
        dispatch(p);
        return 0;
    }
    if (line[0] == ':' || p->overflow)
        return 0; /* comment, or the rest of an oversized event */
    colon = memchr(line, ':', len);
    name_len = colon ? (apr_size_t)(colon - line) : len;
    value = colon ? colon + 1 : line + len;
    if (colon && value < line + len && *value == ' ')
        value++;
    value_len = (apr_size_t)(line + len - value);

    if (name_len == 4 && memcmp(line, "data", 4) == 0) {
        if ((p->has_data && append(&p->data, &p->data_len, &p->data_cap, "\n", 1, p->max_event)) ||
            append(&p->data, &p->data_len, &p->data_cap, value, value_len, p->max_event)) {
            p->overflow = 1;
            return -1;
        }
        p->has_data = 1;
    }
    else if (name_len == 5 && memcmp(line, "event", 5) == 0) {
        apr_size_t n = value_len < sizeof(p->event) - 1 ? value_len : sizeof(p->event) - 1;
        memcpy(p->event, value, n);
        p->event[n] = '\0';
    }
    else if (name_len == 2 && memcmp(line, "id", 2) == 0) {
        apr_size_t n = value_len < sizeof(p->id) - 1 ? value_len : sizeof(p->id) - 1;
        memcpy(p->id, value, n);
        p->id[n] = '\0';
        p->has_id = 1;
    }
    /* "retry" and unknown fields are ignored. */
    return 0;
}

int mcpgw_sse_parser_feed(mcpgw_sse_parser_t *p, const char *buf, apr_size_t len)
{
    int rc = 0;
    for (apr_size_t i = 0; i < len; i++) {
        char c = buf[i];
        if (c == '\n' && p->last_was_cr) { /* the LF of a CRLF */
            p->last_was_cr = 0;
            continue;
        }
        p->last_was_cr = (c == '\r');
        if (c == '\r' || c == '\n') {
            if (process_line(p, p->line ? p->line : "", p->line_len) < 0)
                rc = -1;
            p->line_len = 0;
            continue;
        }
        if (append(&p->line, &p->line_len, &p->line_cap, &c, 1, p->max_event) < 0) {
            /* A line longer than any event may be: drop it and the event it belongs to. */
            p->overflow = 1;
            p->line_len = 0;
            rc = -1;
        }
    }
    return rc;
}

const char *mcpgw_sse_format(apr_pool_t *pool, const char *json, apr_size_t len, apr_size_t *out_len)
{
    char *buf = apr_palloc(pool, len + 9);
    memcpy(buf, "data: ", 6);
    memcpy(buf + 6, json, len);
    memcpy(buf + 6 + len, "\n\n", 3);
    *out_len = len + 8;
    return buf;
}
