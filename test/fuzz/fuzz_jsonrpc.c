/* libFuzzer target: arbitrary bytes as the body of a POST to /mcp, through the JSON-RPC
 * decoder and the MCP dispatcher, under each revision and with or without a session.
 * The first byte picks the request's headers; the rest is the body. */
#include "mcpgw_http_rules.h"
#include "mcpgw_mcp_server.h"

#include <apr_general.h>
#include <apr_strings.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static apr_pool_t *root;

static void finish_now(mcpgw_tool_call_t *call, void *baton)
{
    (void)baton;
    if (call->arguments && json_object_size(call->arguments) % 2)
        mcpgw_tool_call_finish(call, NULL, json_pack("{s:i,s:s}", "code", -32603, "message", "x"));
    else
        mcpgw_tool_call_finish(call, mcpgw_tool_error_result("fuzz"), NULL);
}

/* A fresh server per input: no state carries from one input to the next, and every
 * allocation an input causes must be gone when its pool is (APR pools may live in mmap'd
 * memory LeakSanitizer does not scan, so nothing may outlive the input). */
static mcpgw_mcp_server_t *make_server(apr_pool_t *p, char *session_id)
{
    mcpgw_mcp_server_options_t o = { "fuzz", "1", "hi", 64, 0, finish_now, NULL };
    mcpgw_mcp_server_t *server = mcpgw_mcp_server_create(p, &o);
    mcpgw_catalog_t *c = mcpgw_catalog_create(p, 2, 1);
    mcpgw_session_t *s;
    mcpgw_catalog_add(c, "a", "t", "a_t", NULL);
    mcpgw_catalog_add(c, "a", "u", "a_u", NULL);
    mcpgw_catalog_add(c, "b", "t", "b_t", NULL);
    mcpgw_mcp_server_set_catalog(server, c);
    s = mcpgw_session_create(mcpgw_mcp_server_sessions(server), "2025-06-18", NULL, apr_time_now());
    strcpy(session_id, s->id);
    return server;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const versions[] = { NULL, "2025-03-26", "2025-06-18", "2025-11-25",
                                            "2026-07-28", "2024-11-05", "bogus", NULL };
    static const char *const methods[] = { NULL, "tools/call", "tools/list", "server/discover" };
    static const char *const accepts[] = { NULL, "*/*", "application/json;q=0, text/*",
                                           "text/event-stream, application/json" };
    apr_pool_t *p;
    mcpgw_mcp_server_t *server;
    char session_id[MCPGW_SESSION_ID_LEN + 1];
    mcpgw_mcp_request_t req = { 0 };
    mcpgw_exchange_t *ex;
    mcpgw_http_head_t head = { 0 };
    mcpgw_http_verdict_t verdict;
    apr_size_t len;
    uint8_t sel;

    if (!root) {
        apr_initialize();
        apr_pool_create(&root, NULL);
    }
    if (size == 0)
        return 0;
    sel = data[0];
    apr_pool_create(&p, root);
    server = make_server(p, session_id);
    req.http_method = "POST";
    req.protocol_version = versions[sel & 7];
    req.session_id = (sel & 8) ? session_id : NULL;
    req.mcp_method = methods[(sel >> 4) & 3];
    req.mcp_name = (sel & 64) ? "a_t" : NULL;
    req.principal = (sel & 128) ? "key" : NULL;
    req.body = (const char *)data + 1;
    req.body_len = size - 1;
    ex = mcpgw_exchange_create(p);
    mcpgw_mcp_server_post(server, &req, ex);
    if (ex->pending == 0)
        (void)mcpgw_exchange_body(ex, &len);

    /* The header rules take attacker text too. */
    head.method = "POST";
    head.accept = accepts[(sel >> 2) & 3];
    head.content_type = "application/json";
    head.origin = apr_pstrmemdup(p, (const char *)data + 1, size - 1 > 64 ? 64 : size - 1);
    head.protocol_version = req.protocol_version;
    mcpgw_http_rules_check(p, &head, NULL, &verdict);
    (void)mcpgw_http_accepts(head.origin, "application/json");
    apr_pool_destroy(p);
    return 0;
}
