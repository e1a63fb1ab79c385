#include "mcpgw_catalog.h"
#include "mcpgw_json.h"

#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mcpgw_catalog_t {
    apr_pool_t *pool;
    apr_uint64_t generation;
    unsigned page_size;
    apr_array_header_t *tools; /* mcpgw_catalog_tool_t, in insertion order */
    apr_hash_t *by_name;       /* exposed name -> index + 1 (cast) */
    apr_hash_t *page_cache;    /* offset (as string) -> serialized unfiltered page */
};

mcpgw_catalog_t *mcpgw_catalog_create(apr_pool_t *parent, unsigned page_size,
                                      apr_uint64_t generation)
{
    apr_pool_t *pool;
    mcpgw_catalog_t *c;
    apr_pool_create(&pool, parent);
    c = apr_pcalloc(pool, sizeof(*c));
    c->pool = pool;
    c->generation = generation;
    c->page_size = page_size;
    c->tools = apr_array_make(pool, 64, sizeof(mcpgw_catalog_tool_t));
    c->by_name = apr_hash_make(pool);
    c->page_cache = apr_hash_make(pool);
    return c;
}

void mcpgw_catalog_destroy(mcpgw_catalog_t *catalog)
{
    if (catalog)
        apr_pool_destroy(catalog->pool);
}

apr_uint64_t mcpgw_catalog_generation(const mcpgw_catalog_t *catalog)
{
    return catalog->generation;
}

unsigned mcpgw_catalog_count(const mcpgw_catalog_t *catalog)
{
    return (unsigned)catalog->tools->nelts;
}

apr_status_t mcpgw_catalog_add(mcpgw_catalog_t *catalog, const char *upstream,
                               const char *tool_name, const char *exposed_name,
                               const json_t *definition)
{
    mcpgw_catalog_tool_t *t;
    json_t *def;

    if (apr_hash_get(catalog->by_name, exposed_name, APR_HASH_KEY_STRING))
        return APR_EEXIST;
    def = json_is_object(definition) ? json_deep_copy(definition) : json_object();
    json_object_set_new(def, "name", json_string(exposed_name));
    t = apr_array_push(catalog->tools);
    t->exposed_name = apr_pstrdup(catalog->pool, exposed_name);
    t->upstream = apr_pstrdup(catalog->pool, upstream);
    t->tool_name = apr_pstrdup(catalog->pool, tool_name);
    t->definition = mcpgw_json_own(catalog->pool, def);
    t->text = mcpgw_json_dump(catalog->pool, def, &t->text_len);
    apr_hash_set(catalog->by_name, t->exposed_name, APR_HASH_KEY_STRING,
                 (void *)(apr_uintptr_t)catalog->tools->nelts);
    apr_hash_clear(catalog->page_cache);
    return APR_SUCCESS;
}

const mcpgw_catalog_tool_t *mcpgw_catalog_find(const mcpgw_catalog_t *catalog,
                                               const char *exposed_name)
{
    apr_uintptr_t idx;
    if (!exposed_name)
        return NULL;
    idx = (apr_uintptr_t)apr_hash_get(catalog->by_name, exposed_name, APR_HASH_KEY_STRING);
    return idx ? &APR_ARRAY_IDX(catalog->tools, idx - 1, mcpgw_catalog_tool_t) : NULL;
}

const mcpgw_catalog_tool_t *mcpgw_catalog_at(const mcpgw_catalog_t *catalog, unsigned i)
{
    if (i >= (unsigned)catalog->tools->nelts)
        return NULL;
    return &APR_ARRAY_IDX(catalog->tools, i, mcpgw_catalog_tool_t);
}

/* Cursors are "<generation>.<offset>": a cursor from an older catalog is refused rather
 * than silently skipping or repeating tools that moved. */
static int parse_cursor(const mcpgw_catalog_t *c, const char *cursor, unsigned *offset)
{
    char *end;
    unsigned long long gen;
    unsigned long off;
    if (!cursor) {
        *offset = 0;
        return 1;
    }
    gen = strtoull(cursor, &end, 10);
    if (end == cursor || *end != '.' || gen != c->generation)
        return 0;
    off = strtoul(end + 1, &end, 10);
    if (*end || off == 0 || off > (unsigned long)c->tools->nelts)
        return 0;
    *offset = (unsigned)off;
    return 1;
}

const char *mcpgw_catalog_page(mcpgw_catalog_t *catalog, apr_pool_t *pool, const char *cursor,
                               mcpgw_catalog_visible_fn visible, void *baton,
                               apr_size_t *len)
{
    unsigned offset, i, taken = 0;
    unsigned n = (unsigned)catalog->tools->nelts;
    unsigned limit = catalog->page_size ? catalog->page_size : n;
    const char *cache_key = NULL, *text;
    apr_pool_t *out_pool = pool;

    if (!parse_cursor(catalog, cursor, &offset))
        return NULL;
    if (!visible) {
        cache_key = apr_psprintf(pool, "%u", offset);
        text = apr_hash_get(catalog->page_cache, cache_key, APR_HASH_KEY_STRING);
        if (text) {
            if (len)
                *len = strlen(text);
            return text;
        }
        out_pool = catalog->pool;
        cache_key = apr_pstrdup(catalog->pool, cache_key);
    }
    /* Pages are built by copying each tool's text, serialized when the catalog was built:
     * a filtered list of a thousand tools costs a copy, not a re-encoding. */
    {
        static const char head[] = "{\"tools\":[";
        apr_size_t total = sizeof(head) + 64, off = 0;
        const char *next = NULL;
        char *buf;
        unsigned first = offset;
        for (i = offset; i < n && taken < limit; i++) {
            const mcpgw_catalog_tool_t *t = &APR_ARRAY_IDX(catalog->tools, i, mcpgw_catalog_tool_t);
            if (visible && !visible(t, baton))
                continue;
            total += t->text_len + 1;
            taken++;
        }
        if (i < n)
            next = apr_psprintf(pool, "%" APR_UINT64_T_FMT ".%u", catalog->generation, i);
        buf = apr_palloc(out_pool, total + (next ? strlen(next) : 0) + 1);
        memcpy(buf, head, sizeof(head) - 1);
        off = sizeof(head) - 1;
        taken = 0;
        for (i = first; i < n && taken < limit; i++) {
            const mcpgw_catalog_tool_t *t = &APR_ARRAY_IDX(catalog->tools, i, mcpgw_catalog_tool_t);
            if (visible && !visible(t, baton))
                continue;
            if (taken++)
                buf[off++] = ',';
            memcpy(buf + off, t->text, t->text_len);
            off += t->text_len;
        }
        buf[off++] = ']';
        if (next)
            off += (apr_size_t)sprintf(buf + off, ",\"nextCursor\":\"%s\"", next);
        buf[off++] = '}';
        buf[off] = '\0';
        text = buf;
        if (len)
            *len = off;
    }
    if (cache_key)
        apr_hash_set(catalog->page_cache, cache_key, APR_HASH_KEY_STRING, text);
    return text;
}
