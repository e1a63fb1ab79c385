#include "unit.h"
#include "mcpgw_json.h"
#include "mcpgw_mcp_server.h"

#include <apr_strings.h>
#include <string.h>

static apr_pool_t *pool;
static mcpgw_mcp_server_t *server;
static mcpgw_tool_call_t *deferred; /* the last call the fake upstream kept */

static void fake_upstream(mcpgw_tool_call_t *call, void *baton)
{
    (void)baton;
    if (strcmp(call->tool_name, "slow") == 0) {
        deferred = call;
        return;
    }
    mcpgw_tool_call_finish(call, json_pack("{s:[{s:s,s:s}]}", "content", "type", "text", "text",
                                           call->tool_name), NULL);
}

static void setup(void)
{
    mcpgw_mcp_server_options_t o = { "gw", "1", NULL, 100, apr_time_from_sec(60), fake_upstream,
                                     NULL };
    mcpgw_catalog_t *c;
    apr_pool_create(&pool, NULL);
    server = mcpgw_mcp_server_create(pool, &o);
    c = mcpgw_catalog_create(pool, 0, 2);
    mcpgw_catalog_add(c, "up", "echo", "up_echo", NULL);
    mcpgw_catalog_add(c, "up", "slow", "up_slow", NULL);
    mcpgw_mcp_server_set_catalog(server, c);
    deferred = NULL;
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

typedef struct {
    mcpgw_exchange_t *ex;
    json_t *body; /* parsed reply body, NULL when none */
} answer_t;

static answer_t post(const char *session, const char *version, const char *body)
{
    mcpgw_mcp_request_t req = { 0 };
    answer_t a;
    apr_size_t len;
    const char *text;
    req.http_method = "POST";
    req.session_id = session;
    req.protocol_version = version;
    req.body = body;
    req.body_len = strlen(body);
    a.ex = mcpgw_exchange_create(pool);
    mcpgw_mcp_server_post(server, &req, a.ex);
    text = a.ex->pending ? NULL : mcpgw_exchange_body(a.ex, &len);
    a.body = text ? mcpgw_json_load(pool, text, len, NULL) : NULL;
    return a;
}

static json_t *reply_of(mcpgw_exchange_t *ex)
{
    apr_size_t len = 0;
    const char *text = mcpgw_exchange_body(ex, &len);
    return mcpgw_json_load(pool, text, len, NULL);
}

static int error_code(json_t *reply)
{
    return (int)json_integer_value(json_object_get(json_object_get(reply, "error"), "code"));
}

static const char *initialize(void)
{
    answer_t a = post(NULL, NULL, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\","
                                  "\"params\":{\"protocolVersion\":\"2025-06-18\","
                                  "\"capabilities\":{},\"clientInfo\":{\"name\":\"t\",\"version\":\"1\"}}}");
    ck_assert_int_eq(a.ex->status, 200);
    ck_assert_ptr_nonnull(a.ex->session_id);
    ck_assert_str_eq(mcpgw_json_string(json_object_get(a.body, "result"), "protocolVersion"),
                     "2025-06-18");
    return a.ex->session_id;
}

START_TEST(initialize_then_session_requests)
{
    const char *sid = initialize();
    answer_t a = post(sid, "2025-06-18", "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}");
    ck_assert_int_eq(a.ex->status, 200);
    ck_assert(json_is_object(json_object_get(a.body, "result")));
    a = post(sid, NULL, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
    ck_assert_int_eq(a.ex->status, 202);
    ck_assert_ptr_null(a.body);
    a = post(sid, NULL, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/list\"}");
    ck_assert_uint_eq(json_array_size(json_object_get(json_object_get(a.body, "result"), "tools")), 2);
}
END_TEST

START_TEST(session_errors)
{
    answer_t a = post(NULL, NULL, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}");
    ck_assert_int_eq(a.ex->status, 400);
    a = post("0123456789abcdef0123456789abcdef", NULL, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}");
    ck_assert_int_eq(a.ex->status, 404);
    ck_assert_int_eq(error_code(a.body), -32001);
}
END_TEST

START_TEST(jsonrpc_errors)
{
    const char *sid = initialize();
    answer_t a = post(sid, NULL, "{not json");
    ck_assert_int_eq(a.ex->status, 400);
    ck_assert_int_eq(error_code(a.body), -32700);
    a = post(sid, NULL, "{\"jsonrpc\":\"2.0\",\"id\":2}");
    ck_assert_int_eq(a.ex->status, 400);
    ck_assert_int_eq(error_code(a.body), -32600);
    a = post(sid, NULL, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"nope/nope\"}");
    ck_assert_int_eq(error_code(a.body), -32601);
    a = post(sid, NULL, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{}}");
    ck_assert_int_eq(error_code(a.body), -32602);
    a = post(sid, NULL, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\","
                        "\"params\":{\"name\":\"missing\"}}");
    ck_assert_int_eq(error_code(a.body), -32602);
    a = post(NULL, NULL, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{}}");
    ck_assert_int_eq(error_code(a.body), -32602);
    a = post(sid, NULL, "42");
    ck_assert_int_eq(a.ex->status, 400);
}
END_TEST

START_TEST(batches_only_in_old_revisions)
{
    const char *sid = initialize();
    answer_t a = post(sid, "2025-03-26", "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"},"
                                         "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/x\"},"
                                         "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}]");
    ck_assert_int_eq(a.ex->status, 200);
    ck_assert(json_is_array(a.body));
    ck_assert_uint_eq(json_array_size(a.body), 2);
    a = post(sid, "2025-06-18", "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]");
    ck_assert_int_eq(a.ex->status, 400);
    a = post(sid, "2025-03-26", "[]");
    ck_assert_int_eq(a.ex->status, 400);
}
END_TEST

START_TEST(tool_calls_route_and_defer)
{
    const char *sid = initialize();
    answer_t a = post(sid, NULL, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\","
                                 "\"params\":{\"name\":\"up_echo\",\"arguments\":{}}}");
    json_t *content = json_object_get(json_object_get(a.body, "result"), "content");
    ck_assert_str_eq(mcpgw_json_string(json_array_get(content, 0), "text"), "echo");
    a = post(sid, NULL, "{\"jsonrpc\":\"2.0\",\"id\":\"s\",\"method\":\"tools/call\","
                        "\"params\":{\"name\":\"up_slow\",\"_meta\":{\"progressToken\":5}}}");
    ck_assert_uint_eq(a.ex->pending, 1);
    ck_assert_ptr_nonnull(deferred);
    ck_assert_int_eq(json_integer_value(deferred->progress_token), 5);
    mcpgw_tool_call_finish(deferred, NULL,
                           json_pack("{s:i, s:s}", "code", -32603, "message", "upstream died"));
    ck_assert_uint_eq(a.ex->pending, 0);
}
END_TEST

START_TEST(stateless_revision)
{
    const char *meta = "\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\","
                       "\"io.modelcontextprotocol/clientCapabilities\":{}}";
    mcpgw_mcp_request_t req = { 0 };
    mcpgw_exchange_t *ex;
    json_t *body;
    const char *text = apr_psprintf(pool, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"server/discover\","
                                          "\"params\":{%s}}", meta);
    req.http_method = "POST";
    req.protocol_version = "2026-07-28";
    req.mcp_method = "server/discover";
    req.body = text;
    req.body_len = strlen(text);
    ex = mcpgw_exchange_create(pool);
    mcpgw_mcp_server_post(server, &req, ex);
    ck_assert_int_eq(ex->status, 200);
    ck_assert_ptr_null(ex->session_id);
    body = reply_of(ex);
    ck_assert_str_eq(mcpgw_json_string(json_object_get(body, "result"), "resultType"), "complete");
    ck_assert(json_is_array(json_object_get(json_object_get(body, "result"), "supportedVersions")));

    /* Mcp-Name must repeat the tool name. */
    text = apr_psprintf(pool, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\","
                              "\"params\":{\"name\":\"up_echo\",%s}}", meta);
    req.mcp_method = "tools/call";
    req.mcp_name = "up_other";
    req.body = text;
    req.body_len = strlen(text);
    ex = mcpgw_exchange_create(pool);
    mcpgw_mcp_server_post(server, &req, ex);
    ck_assert_int_eq(ex->status, 400);
    body = reply_of(ex);
    ck_assert_int_eq(error_code(body), -32020);

    req.mcp_name = "=?base64?dXBfZWNobw==?="; /* "up_echo" */
    ex = mcpgw_exchange_create(pool);
    mcpgw_mcp_server_post(server, &req, ex);
    ck_assert_int_eq(ex->status, 200);

    /* Missing _meta: -32602. */
    text = "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/list\"}";
    req.mcp_method = "tools/list";
    req.mcp_name = NULL;
    req.body = text;
    req.body_len = strlen(text);
    ex = mcpgw_exchange_create(pool);
    mcpgw_mcp_server_post(server, &req, ex);
    ck_assert_int_eq(ex->status, 400);
    body = reply_of(ex);
    ck_assert_int_eq(error_code(body), -32602);
}
END_TEST

Suite *suite_mcp_server(void)
{
    Suite *s = suite_create("mcp_server");
    TCase *tc = tcase_create("post");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, initialize_then_session_requests);
    tcase_add_test(tc, session_errors);
    tcase_add_test(tc, jsonrpc_errors);
    tcase_add_test(tc, batches_only_in_old_revisions);
    tcase_add_test(tc, tool_calls_route_and_defer);
    tcase_add_test(tc, stateless_revision);
    suite_add_tcase(s, tc);
    return s;
}
