#include "unit.h"
#include "mcpgw_catalog.h"
#include "mcpgw_json.h"

#include <stdio.h>
#include <string.h>

static mcpgw_catalog_t *make(apr_pool_t *p, unsigned n, unsigned page)
{
    mcpgw_catalog_t *c = mcpgw_catalog_create(p, page, 7);
    for (unsigned i = 0; i < n; i++) {
        char name[32], exposed[40];
        json_t *def = json_pack("{s:s, s:s}", "name", "x", "description", "d");
        snprintf(name, sizeof(name), "t%u", i);
        snprintf(exposed, sizeof(exposed), "up_t%u", i);
        ck_assert_int_eq(mcpgw_catalog_add(c, "up", name, exposed, def), APR_SUCCESS);
        json_decref(def);
    }
    return c;
}

static int only_even(const mcpgw_catalog_tool_t *t, void *baton)
{
    (void)baton;
    return (t->tool_name[strlen(t->tool_name) - 1] - '0') % 2 == 0;
}

START_TEST(pages_follow_cursors_to_the_end)
{
    apr_pool_t *p;
    mcpgw_catalog_t *c;
    const char *cursor = NULL;
    unsigned seen = 0, pages = 0;
    apr_pool_create(&p, NULL);
    c = make(p, 25, 10);
    do {
        apr_size_t len;
        const char *text = mcpgw_catalog_page(c, p, cursor, NULL, NULL, &len);
        json_t *page = mcpgw_json_load(p, text, len, NULL);
        ck_assert_ptr_nonnull(page);
        seen += (unsigned)json_array_size(json_object_get(page, "tools"));
        cursor = mcpgw_json_string(page, "nextCursor");
        pages++;
    } while (cursor);
    ck_assert_uint_eq(seen, 25);
    ck_assert_uint_eq(pages, 3);
    ck_assert_ptr_null(mcpgw_catalog_page(c, p, "garbage", NULL, NULL, NULL));
    ck_assert_ptr_null(mcpgw_catalog_page(c, p, "6.10", NULL, NULL, NULL)); /* old generation */
    apr_pool_destroy(p);
}
END_TEST

START_TEST(names_routes_and_collisions)
{
    apr_pool_t *p;
    mcpgw_catalog_t *c;
    const mcpgw_catalog_tool_t *t;
    json_t *def = json_pack("{s:s}", "name", "t1");
    apr_pool_create(&p, NULL);
    c = make(p, 3, 0);
    ck_assert_int_eq(mcpgw_catalog_add(c, "other", "t1", "up_t1", def), APR_EEXIST);
    t = mcpgw_catalog_find(c, "up_t1");
    ck_assert_ptr_nonnull(t);
    ck_assert_str_eq(t->upstream, "up");
    ck_assert_str_eq(t->tool_name, "t1");
    ck_assert_str_eq(mcpgw_json_string(t->definition, "name"), "up_t1");
    ck_assert_str_eq(mcpgw_json_string(t->definition, "description"), "d");
    ck_assert_ptr_null(mcpgw_catalog_find(c, "t1"));
    json_decref(def);
    apr_pool_destroy(p);
}
END_TEST

START_TEST(filtered_page)
{
    apr_pool_t *p;
    mcpgw_catalog_t *c;
    apr_size_t len;
    const char *text;
    json_t *page;
    apr_pool_create(&p, NULL);
    c = make(p, 6, 0);
    text = mcpgw_catalog_page(c, p, NULL, only_even, NULL, &len);
    page = mcpgw_json_load(p, text, len, NULL);
    ck_assert_uint_eq(json_array_size(json_object_get(page, "tools")), 3);
    apr_pool_destroy(p);
}
END_TEST

Suite *suite_catalog(void)
{
    Suite *s = suite_create("catalog");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, pages_follow_cursors_to_the_end);
    tcase_add_test(tc, names_routes_and_collisions);
    tcase_add_test(tc, filtered_page);
    suite_add_tcase(s, tc);
    return s;
}
