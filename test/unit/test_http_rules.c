#include "unit.h"
#include "mcpgw_http_rules.h"

static int check(const char *method, const char *accept, const char *ctype, const char *origin,
                 const char *version, const mcpgw_origin_policy_t *policy)
{
    mcpgw_http_head_t h = { method, accept, ctype, origin, "127.0.0.1", version };
    mcpgw_http_verdict_t v;
    mcpgw_http_rules_check(NULL, &h, policy, &v);
    return v.status;
}

START_TEST(accept_header_matching)
{
    ck_assert(mcpgw_http_accepts(NULL, "application/json"));
    ck_assert(mcpgw_http_accepts("*/*", "text/event-stream"));
    ck_assert(mcpgw_http_accepts("application/*", "application/json"));
    ck_assert(mcpgw_http_accepts("text/html, application/json;q=0.9", "application/json"));
    ck_assert(!mcpgw_http_accepts("application/json;q=0", "application/json"));
    ck_assert(!mcpgw_http_accepts("text/html", "application/json"));
    ck_assert(!mcpgw_http_accepts("application/jsonx", "application/json"));
}
END_TEST

START_TEST(post_needs_json_and_both_accepts)
{
    const char *both = "application/json, text/event-stream";
    ck_assert_int_eq(check("POST", both, "application/json", NULL, NULL, NULL), 0);
    ck_assert_int_eq(check("POST", both, "application/json; charset=utf-8", NULL, NULL, NULL), 0);
    ck_assert_int_eq(check("POST", "application/json", "application/json", NULL, NULL, NULL), 406);
    ck_assert_int_eq(check("POST", both, "text/plain", NULL, NULL, NULL), 415);
    ck_assert_int_eq(check("POST", both, NULL, NULL, NULL, NULL), 415);
    ck_assert_int_eq(check("GET", "application/json", NULL, NULL, NULL, NULL), 406);
    ck_assert_int_eq(check("GET", "text/event-stream", NULL, NULL, NULL, NULL), 0);
    ck_assert_int_eq(check("PUT", both, NULL, NULL, NULL, NULL), 405);
    ck_assert_int_eq(check("POST", both, "application/json", NULL, "2025-06-18", NULL), 0);
}
END_TEST

START_TEST(origin_policy)
{
    apr_pool_t *p;
    apr_array_header_t *allowed, *own;
    mcpgw_origin_policy_t def, listed;
    apr_pool_create(&p, NULL);
    own = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(own, const char *) = "gw.example.com";
    def.allowed_origins = NULL;
    def.own_hosts = own;
    ck_assert(mcpgw_http_origin_allowed(NULL, &def));
    ck_assert(mcpgw_http_origin_allowed("http://localhost:3000", &def));
    ck_assert(mcpgw_http_origin_allowed("http://127.0.0.1", &def));
    ck_assert(mcpgw_http_origin_allowed("http://[::1]:8080", &def));
    ck_assert(mcpgw_http_origin_allowed("https://gw.example.com", &def));
    ck_assert(!mcpgw_http_origin_allowed("http://evil.example.com", &def));
    ck_assert(!mcpgw_http_origin_allowed("http://localhost.evil.com", &def));
    ck_assert(!mcpgw_http_origin_allowed("null", &def));
    ck_assert_int_eq(check("POST", NULL, "application/json", "http://evil.example.com", NULL, &def),
                     403);
    allowed = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(allowed, const char *) = "https://app.example.com";
    listed.allowed_origins = allowed;
    listed.own_hosts = own;
    ck_assert(mcpgw_http_origin_allowed("https://app.example.com", &listed));
    ck_assert(!mcpgw_http_origin_allowed("http://localhost", &listed));
    apr_pool_destroy(p);
}
END_TEST

Suite *suite_http_rules(void)
{
    Suite *s = suite_create("http_rules");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, accept_header_matching);
    tcase_add_test(tc, post_needs_json_and_both_accepts);
    tcase_add_test(tc, origin_policy);
    suite_add_tcase(s, tc);
    return s;
}
