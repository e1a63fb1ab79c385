/* The published tool list: every exposed tool with the upstream and original name it
 * routes to. A catalog is built whole and then only read; a change builds a new one (its
 * generation one higher), so readers never see a half-updated list and pages can be
 * serialized once and served many times. */
#ifndef MCPGW_CATALOG_H
#define MCPGW_CATALOG_H

#include <apr_pools.h>
#include <jansson.h>

typedef struct {
    const char *exposed_name; /* what clients call */
    const char *upstream;     /* client (upstream server) name */
    const char *tool_name;    /* the upstream's own name for it */
    json_t *definition;       /* the upstream's definition, "name" replaced */
    const char *text;         /* definition serialized once, for building pages by copying */
    apr_size_t text_len;
} mcpgw_catalog_tool_t;

typedef struct mcpgw_catalog_t mcpgw_catalog_t;

/* Decides whether a caller may see a tool (virtual-key filtering); NULL shows all. */
typedef int (*mcpgw_catalog_visible_fn)(const mcpgw_catalog_tool_t *tool, void *baton);

/* page_size 0 means one page holds everything. */
mcpgw_catalog_t *mcpgw_catalog_create(apr_pool_t *parent, unsigned page_size,
                                      apr_uint64_t generation);
void mcpgw_catalog_destroy(mcpgw_catalog_t *catalog);
apr_uint64_t mcpgw_catalog_generation(const mcpgw_catalog_t *catalog);
unsigned mcpgw_catalog_count(const mcpgw_catalog_t *catalog);

/* Adds a tool; definition is copied. APR_EEXIST when exposed_name is taken (the caller
 * reports the collision; the first tool keeps the name). */
apr_status_t mcpgw_catalog_add(mcpgw_catalog_t *catalog, const char *upstream,
                               const char *tool_name, const char *exposed_name,
                               const json_t *definition);

const mcpgw_catalog_tool_t *mcpgw_catalog_find(const mcpgw_catalog_t *catalog,
                                               const char *exposed_name);

const mcpgw_catalog_tool_t *mcpgw_catalog_at(const mcpgw_catalog_t *catalog, unsigned i);

/* The serialized tools/list result ({"tools":[...],"nextCursor":...}) for the page at
 * cursor (NULL for the first). Returns NULL when the cursor is not one we issued. With
 * visible == NULL the text is cached in the catalog and returned without copying. */
const char *mcpgw_catalog_page(mcpgw_catalog_t *catalog, apr_pool_t *pool, const char *cursor,
                               mcpgw_catalog_visible_fn visible, void *baton,
                               apr_size_t *len);

#endif
