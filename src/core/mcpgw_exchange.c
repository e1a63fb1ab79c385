#include "mcpgw_exchange.h"
#include "mcpgw_json.h"

#include <string.h>

typedef struct {
    const char *text; /* NULL while pending */
    apr_size_t len;
} reply_t;

mcpgw_exchange_t *mcpgw_exchange_create(apr_pool_t *pool)
{
    mcpgw_exchange_t *ex = apr_pcalloc(pool, sizeof(*ex));
    ex->pool = pool;
    ex->status = 200;
    ex->replies = apr_array_make(pool, 1, sizeof(reply_t));
    ex->calls = apr_array_make(pool, 1, sizeof(void *));
    return ex;
}

unsigned mcpgw_exchange_reserve(mcpgw_exchange_t *ex)
{
    reply_t *r = apr_array_push(ex->replies);
    r->text = NULL;
    r->len = 0;
    ex->pending++;
    return (unsigned)(ex->replies->nelts - 1);
}

void mcpgw_exchange_fill_text(mcpgw_exchange_t *ex, unsigned slot, const char *text,
                              apr_size_t len)
{
    reply_t *r = &APR_ARRAY_IDX(ex->replies, slot, reply_t);
    if (r->text)
        return; /* already answered (a timeout raced the upstream) */
    r->text = text;
    r->len = len;
    ex->pending--;
    if (ex->pending == 0 && ex->on_done)
        ex->on_done(ex, ex->on_done_baton);
}

void mcpgw_exchange_fill(mcpgw_exchange_t *ex, unsigned slot, json_t *reply)
{
    apr_size_t len;
    const char *text = mcpgw_json_dump(ex->pool, reply, &len);
    json_decref(reply);
    mcpgw_exchange_fill_text(ex, slot, text, len);
}

const char *mcpgw_exchange_reply(mcpgw_exchange_t *ex, unsigned slot, apr_size_t *len)
{
    reply_t *r = &APR_ARRAY_IDX(ex->replies, slot, reply_t);
    *len = r->len;
    return r->text;
}

const char *mcpgw_exchange_body(mcpgw_exchange_t *ex, apr_size_t *len)
{
    apr_size_t total = 2, off = 0;
    char *buf;
    int i, n = ex->replies->nelts;

    if (n == 0)
        return NULL;
    if (!ex->is_batch) {
        reply_t *r = &APR_ARRAY_IDX(ex->replies, 0, reply_t);
        *len = r->len;
        return r->text;
    }
    for (i = 0; i < n; i++)
        total += APR_ARRAY_IDX(ex->replies, i, reply_t).len + 1;
    buf = apr_palloc(ex->pool, total + 1);
    buf[off++] = '[';
    for (i = 0; i < n; i++) {
        reply_t *r = &APR_ARRAY_IDX(ex->replies, i, reply_t);
        if (i)
            buf[off++] = ',';
        memcpy(buf + off, r->text, r->len);
        off += r->len;
    }
    buf[off++] = ']';
    buf[off] = '\0';
    *len = off;
    return buf;
}

const char *mcpgw_exchange_result_text(apr_pool_t *pool, const json_t *id,
                                       const char *result_text, apr_size_t result_len,
                                       apr_size_t *len)
{
    static const char head[] = "{\"jsonrpc\":\"2.0\",\"id\":";
    static const char mid[] = ",\"result\":";
    apr_size_t id_len, off = 0;
    const char *id_text = mcpgw_json_dump(pool, id, &id_len);
    apr_size_t total = sizeof(head) - 1 + id_len + sizeof(mid) - 1 + result_len + 1;
    char *buf = apr_palloc(pool, total + 1);
    memcpy(buf + off, head, sizeof(head) - 1);
    off += sizeof(head) - 1;
    memcpy(buf + off, id_text, id_len);
    off += id_len;
    memcpy(buf + off, mid, sizeof(mid) - 1);
    off += sizeof(mid) - 1;
    memcpy(buf + off, result_text, result_len);
    off += result_len;
    buf[off++] = '}';
    buf[off] = '\0';
    *len = off;
    return buf;
}
