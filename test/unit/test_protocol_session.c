#include "unit.h"
#include "mcpgw_protocol.h"
#include "mcpgw_session.h"

#include <string.h>

START_TEST(negotiates_versions)
{
    ck_assert_str_eq(mcpgw_protocol_negotiate("2025-06-18"), "2025-06-18");
    ck_assert_str_eq(mcpgw_protocol_negotiate("2025-03-26"), "2025-03-26");
    ck_assert_str_eq(mcpgw_protocol_negotiate("2025-11-25"), "2025-11-25");
    ck_assert_str_eq(mcpgw_protocol_negotiate("2024-11-05"), "2024-11-05");
    /* Unknown, and the stateless revision (which has no initialize): our newest. */
    ck_assert_str_eq(mcpgw_protocol_negotiate("1999-01-01"), MCPGW_PROTOCOL_LATEST_SESSION);
    ck_assert_str_eq(mcpgw_protocol_negotiate("2026-07-28"), MCPGW_PROTOCOL_LATEST_SESSION);
    ck_assert_str_eq(mcpgw_protocol_negotiate(NULL), MCPGW_PROTOCOL_LATEST_SESSION);
}
END_TEST

START_TEST(knows_revision_traits)
{
    ck_assert(mcpgw_protocol_is_supported("2026-07-28"));
    ck_assert(!mcpgw_protocol_is_supported("2025-01-01"));
    ck_assert(!mcpgw_protocol_uses_sessions("2026-07-28"));
    ck_assert(mcpgw_protocol_uses_sessions("2025-06-18"));
    ck_assert(mcpgw_protocol_allows_batch("2025-03-26"));
    ck_assert(!mcpgw_protocol_allows_batch("2025-06-18"));
}
END_TEST

START_TEST(session_ids_are_unique_hex_128_bits)
{
    char a[MCPGW_SESSION_ID_LEN + 1], b[MCPGW_SESSION_ID_LEN + 1];
    ck_assert_int_eq(mcpgw_session_id_mint(a), APR_SUCCESS);
    ck_assert_int_eq(mcpgw_session_id_mint(b), APR_SUCCESS);
    ck_assert_uint_eq(strlen(a), 32);
    ck_assert_str_ne(a, b);
    ck_assert(mcpgw_session_id_well_formed(a));
    ck_assert(!mcpgw_session_id_well_formed("ABC"));
    ck_assert(!mcpgw_session_id_well_formed("0123456789abcdef0123456789abcdeG"));
    ck_assert(!mcpgw_session_id_well_formed(NULL));
}
END_TEST

START_TEST(sessions_found_expired_evicted)
{
    apr_pool_t *p;
    mcpgw_session_store_t *st;
    mcpgw_session_t *s1, *s2, *s3;
    char id1[MCPGW_SESSION_ID_LEN + 1];
    apr_time_t t0 = apr_time_from_sec(1000);

    apr_pool_create(&p, NULL);
    st = mcpgw_session_store_create(p, 2, apr_time_from_sec(10));
    s1 = mcpgw_session_create(st, "2025-06-18", NULL, t0);
    strcpy(id1, s1->id);
    s2 = mcpgw_session_create(st, "2025-06-18", "key", t0 + 1);
    ck_assert_ptr_eq(mcpgw_session_find(st, id1, t0 + 5), s1);
    ck_assert_str_eq(s2->principal, "key");
    /* Full: the least recently used (s2, untouched since t0+1) makes room. */
    s3 = mcpgw_session_create(st, "2025-06-18", NULL, t0 + 6);
    ck_assert_ptr_nonnull(s3);
    ck_assert_uint_eq(mcpgw_session_count(st), 2);
    ck_assert_ptr_eq(mcpgw_session_find(st, id1, t0 + 7), s1);
    /* Idle past the timeout: gone. */
    ck_assert_ptr_null(mcpgw_session_find(st, id1, t0 + apr_time_from_sec(30)));
    ck_assert_uint_eq(mcpgw_session_expire(st, t0 + apr_time_from_sec(60)), 1);
    ck_assert_uint_eq(mcpgw_session_count(st), 0);
    apr_pool_destroy(p);
}
END_TEST

Suite *suite_protocol(void)
{
    Suite *s = suite_create("protocol");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, negotiates_versions);
    tcase_add_test(tc, knows_revision_traits);
    suite_add_tcase(s, tc);
    return s;
}

Suite *suite_session(void)
{
    Suite *s = suite_create("session");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, session_ids_are_unique_hex_128_bits);
    tcase_add_test(tc, sessions_found_expired_evicted);
    suite_add_tcase(s, tc);
    return s;
}
