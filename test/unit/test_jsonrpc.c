#include "unit.h"
#include "mcpgw_json.h"
#include "mcpgw_jsonrpc.h"

static mcpgw_msg_kind_e kind_of(const char *text)
{
    json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
    mcpgw_jsonrpc_msg_t m;
    ck_assert_ptr_nonnull(v);
    mcpgw_jsonrpc_classify(v, &m);
    json_decref(v);
    return m.kind;
}

START_TEST(classifies_requests_notifications_responses)
{
    ck_assert_int_eq(kind_of("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}"), MCPGW_MSG_REQUEST);
    ck_assert_int_eq(kind_of("{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"x\",\"params\":{}}"),
                     MCPGW_MSG_REQUEST);
    ck_assert_int_eq(kind_of("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}"),
                     MCPGW_MSG_NOTIFICATION);
    ck_assert_int_eq(kind_of("{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{}}"), MCPGW_MSG_RESPONSE);
    ck_assert_int_eq(kind_of("{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":1,\"message\":\"m\"}}"),
                     MCPGW_MSG_RESPONSE);
}
END_TEST

START_TEST(rejects_malformed_messages)
{
    ck_assert_int_eq(kind_of("{\"id\":1,\"method\":\"ping\"}"), MCPGW_MSG_INVALID);
    ck_assert_int_eq(kind_of("{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}"), MCPGW_MSG_INVALID);
    ck_assert_int_eq(kind_of("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":7}"), MCPGW_MSG_INVALID);
    ck_assert_int_eq(kind_of("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\"}"), MCPGW_MSG_INVALID);
    ck_assert_int_eq(kind_of("{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"ping\"}"), MCPGW_MSG_INVALID);
    ck_assert_int_eq(kind_of("{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}"), MCPGW_MSG_INVALID);
    ck_assert_int_eq(kind_of("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\",\"params\":3}"),
                     MCPGW_MSG_INVALID);
    ck_assert_int_eq(kind_of("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{},\"error\":{}}"),
                     MCPGW_MSG_INVALID);
    ck_assert_int_eq(kind_of("{\"jsonrpc\":\"2.0\",\"id\":1}"), MCPGW_MSG_INVALID);
    ck_assert_int_eq(kind_of("[1,2]"), MCPGW_MSG_INVALID);
    ck_assert_int_eq(kind_of("\"str\""), MCPGW_MSG_INVALID);
}
END_TEST

START_TEST(invalid_message_keeps_usable_id_only)
{
    json_t *v = json_loads("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":5}", 0, NULL);
    json_t *w = json_loads("{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"x\"}", 0, NULL);
    mcpgw_jsonrpc_msg_t m;
    mcpgw_jsonrpc_classify(v, &m);
    ck_assert_ptr_nonnull(m.id);
    ck_assert_int_eq(json_integer_value(m.id), 7);
    mcpgw_jsonrpc_classify(w, &m);
    ck_assert_ptr_null(m.id);
    json_decref(v);
    json_decref(w);
}
END_TEST

START_TEST(builds_replies)
{
    json_t *id = json_integer(4);
    json_t *e = mcpgw_jsonrpc_error(id, MCPGW_JSONRPC_INVALID_PARAMS, "bad", NULL);
    json_t *r = mcpgw_jsonrpc_result(id, json_pack("{s:i}", "a", 1));
    char *es = json_dumps(e, JSON_COMPACT), *rs = json_dumps(r, JSON_COMPACT);
    ck_assert_str_eq(es, "{\"jsonrpc\":\"2.0\",\"id\":4,\"error\":{\"code\":-32602,\"message\":\"bad\"}}");
    ck_assert_str_eq(rs, "{\"jsonrpc\":\"2.0\",\"id\":4,\"result\":{\"a\":1}}");
    free(es);
    free(rs);
    json_decref(e);
    json_decref(r);
    json_decref(id);
}
END_TEST

START_TEST(pool_owned_json_is_released)
{
    apr_pool_t *p;
    const char *why = NULL;
    json_t *v;
    apr_pool_create(&p, NULL);
    v = mcpgw_json_load(p, "{\"a\":[1,2]}", 11, &why);
    ck_assert_ptr_nonnull(v);
    ck_assert_ptr_null(mcpgw_json_load(p, "{\"a\":", 5, &why));
    ck_assert_ptr_nonnull(why);
    apr_pool_destroy(p); /* ASan's leak check fails the run if v survives */
}
END_TEST

Suite *suite_jsonrpc(void)
{
    Suite *s = suite_create("jsonrpc");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, classifies_requests_notifications_responses);
    tcase_add_test(tc, rejects_malformed_messages);
    tcase_add_test(tc, invalid_message_keeps_usable_id_only);
    tcase_add_test(tc, builds_replies);
    tcase_add_test(tc, pool_owned_json_is_released);
    suite_add_tcase(s, tc);
    return s;
}
