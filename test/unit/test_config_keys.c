#include "unit.h"
#include "mcpgw_config.h"
#include "mcpgw_json.h"
#include "mcpgw_sha256.h"
#include "mcpgw_state.h"
#include "mcpgw_vkeys.h"

#include <stdlib.h>
#include <string.h>

static apr_pool_t *pool;
static void setup(void) { apr_pool_create(&pool, NULL); }
static void teardown(void) { apr_pool_destroy(pool); }

static json_t *J(const char *text)
{
    json_t *v = mcpgw_json_load(pool, text, strlen(text), NULL);
    ck_assert_ptr_nonnull(v);
    return v;
}

START_TEST(sha256_known_vectors)
{
    char hex[65];
    unsigned char d[32], back[32];
    mcpgw_sha256_hex("abc", 3, hex);
    ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    mcpgw_sha256_hex("", 0, hex);
    ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    mcpgw_sha256("abc", 3, d);
    ck_assert(mcpgw_digest_from_hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", back));
    ck_assert(mcpgw_digest_equal(d, back, 32));
    ck_assert(!mcpgw_digest_from_hex("BA7816", back));
}
END_TEST

START_TEST(config_names_durations_filters)
{
    mcpgw_gateway_config_t *c;
    const char *err = NULL;
    ck_assert_str_eq(mcpgw_config_check_name("my-tools"), "Invalid client name: name cannot contain hyphens");
    ck_assert_str_eq(mcpgw_config_check_name("web search"), "Invalid client name: name cannot contain spaces");
    ck_assert_str_eq(mcpgw_config_check_name("123tools"), "Invalid client name: name cannot start with a number");
    ck_assert_ptr_null(mcpgw_config_check_name("web_search"));
    ck_assert_int_eq(mcpgw_config_parse_duration("500ms"), 500000);
    ck_assert_int_eq(mcpgw_config_parse_duration("10s"), 10000000);
    ck_assert_int_eq(mcpgw_config_parse_duration("2m"), 120000000);
    ck_assert_int_eq(mcpgw_config_parse_duration("soon"), -1);
    ck_assert_int_eq(mcpgw_config_parse(pool, J("{\"mcp\":{\"client_configs\":[{\"name\":\"a\",\"connection_type\":\"stdio\","
                                               "\"stdio_config\":{\"command\":\"x\",\"envs\":[\"PATH\",\"K=v\"]},\"tools_to_execute\":[\"t1\"]}],"
                                               "\"tool_manager_config\":{\"tool_execution_timeout\":\"3s\"}}}"), &c, &err),
                     APR_SUCCESS);
    ck_assert_int_eq(c->tool_timeout, 3000000);
    {
        mcpgw_upstream_config_t *u = APR_ARRAY_IDX(c->upstreams, 0, mcpgw_upstream_config_t *);
        ck_assert(mcpgw_tool_filter_allows(&u->tools_to_execute, "t1"));
        ck_assert(!mcpgw_tool_filter_allows(&u->tools_to_execute, "t2"));
        ck_assert_int_eq(u->env_pass->nelts, 1);
        ck_assert_int_eq(u->env_set->nelts, 1);
        /* A client without client_id gets a stable one from its name. */
        ck_assert_str_eq(u->client_id, mcpgw_uuid_from_name(pool, "a"));
    }
    ck_assert_int_ne(mcpgw_config_parse(pool, J("{\"mcp\":{\"client_configs\":[{\"name\":\"b\",\"connection_type\":\"http\","
                                               "\"connection_string\":\"env.MCPGW_UNIT_SURELY_UNSET\"}]}}"), &c, &err),
                     APR_SUCCESS);
    ck_assert_ptr_nonnull(strstr(err, "$.mcp.client_configs[0].connection_string"));
    ck_assert_ptr_nonnull(strstr(err, "MCPGW_UNIT_SURELY_UNSET"));
}
END_TEST

START_TEST(redaction)
{
    ck_assert_str_eq(mcpgw_redact(pool, "short"), "*****");
    ck_assert_str_eq(mcpgw_redact(pool, "12345678"), "********");
    ck_assert_str_eq(mcpgw_redact(pool, "abcdefghijkl"), "abcd************************ijkl");
}
END_TEST

START_TEST(keys_hash_filter_and_lookup)
{
    apr_array_header_t *keys;
    const char *err = NULL;
    unsigned char h[32];
    const mcpgw_vkey_t *k;
    ck_assert_int_eq(mcpgw_vkeys_parse_config(pool, J("{\"governance\":{\"virtual_keys\":["
        "{\"name\":\"p\",\"value\":\"vk_p_0123456789\",\"mcp_configs\":[{\"mcp_client_name\":\"fs\",\"tools_to_execute\":[\"read\"]},"
        "{\"mcp_client_name\":\"web\",\"tools_to_execute\":[\"*\"]}]},"
        "{\"name\":\"off\",\"value\":\"vk_off_0123456789\",\"is_active\":false}]}}"), &keys, &err), APR_SUCCESS);
    mcpgw_sha256("vk_p_0123456789", 15, h);
    k = mcpgw_vkeys_find(keys, h);
    ck_assert_ptr_nonnull(k);
    ck_assert_str_eq(k->name, "p");
    ck_assert(mcpgw_vkey_allows(k, "fs", "read"));
    ck_assert(!mcpgw_vkey_allows(k, "fs", "write"));
    ck_assert(mcpgw_vkey_allows(k, "web", "anything"));
    ck_assert(!mcpgw_vkey_allows(k, "db", "read"));
    mcpgw_sha256("vk_nobody", 9, h);
    ck_assert_ptr_null(mcpgw_vkeys_find(keys, h));
    ck_assert(!mcpgw_vkeys_named(keys, "off")->is_active);
    /* The state form never holds the value, and reads back to the same key. */
    {
        json_t *st = mcpgw_json_own(pool, mcpgw_vkey_to_json(k, 1));
        char *text = json_dumps(st, 0);
        mcpgw_vkey_t *back;
        ck_assert_ptr_null(strstr(text, "vk_p_0123456789"));
        free(text);
        ck_assert_int_eq(mcpgw_vkey_parse(pool, st, "$", 1, &back, &err), APR_SUCCESS);
        ck_assert(mcpgw_digest_equal(back->hash, k->hash, 32));
    }
}
END_TEST

START_TEST(state_merge_admin_wins)
{
    mcpgw_gateway_config_t *c;
    const char *err = NULL;
    json_t *state = mcpgw_json_own(pool, json_pack("{s:[], s:[], s:[], s:[]}", "clients", "deleted", "keys", "deleted_keys"));
    ck_assert_int_eq(mcpgw_config_parse(pool, J("{\"mcp\":{\"client_configs\":["
        "{\"name\":\"a\",\"client_id\":\"ida\",\"connection_type\":\"http\",\"connection_string\":\"http://a\"},"
        "{\"name\":\"b\",\"client_id\":\"idb\",\"connection_type\":\"http\",\"connection_string\":\"http://b\"}]}}"), &c, &err),
                     APR_SUCCESS);
    mcpgw_state_put_client(state, json_pack("{s:s, s:s, s:s, s:s}", "client_id", "ida", "name", "a",
                                            "connection_type", "http", "connection_string", "http://changed"));
    mcpgw_state_put_client(state, json_pack("{s:s, s:s, s:s, s:s}", "client_id", "idc", "name", "c",
                                            "connection_type", "http", "connection_string", "http://c"));
    mcpgw_state_delete_client(state, "idb");
    ck_assert_int_eq(mcpgw_state_apply(pool, c, state, &err), APR_SUCCESS);
    ck_assert_int_eq(c->upstreams->nelts, 2);
    ck_assert_str_eq(APR_ARRAY_IDX(c->upstreams, 0, mcpgw_upstream_config_t *)->url, "http://changed");
    ck_assert_str_eq(APR_ARRAY_IDX(c->upstreams, 1, mcpgw_upstream_config_t *)->name, "c");
}
END_TEST

Suite *suite_config_keys(void)
{
    Suite *s = suite_create("config_keys");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, sha256_known_vectors);
    tcase_add_test(tc, config_names_durations_filters);
    tcase_add_test(tc, redaction);
    tcase_add_test(tc, keys_hash_filter_and_lookup);
    tcase_add_test(tc, state_merge_admin_wins);
    suite_add_tcase(s, tc);
    return s;
}
