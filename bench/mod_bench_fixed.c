/* The benchmark's ceiling: a handler that answers every request with a fixed JSON-RPC
 * reply of the size of an empty tools/list, reading the body as the gateway does. Built
 * only by bench/run.sh; never part of the product. */
#include "httpd.h"
#include "http_config.h"
#include "http_protocol.h"

static const char reply[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"tools\":[]}}";

static int fixed_handler(request_rec *r)
{
    char buf[8192];
    if (!r->handler || strcmp(r->handler, "bench-fixed") != 0)
        return DECLINED;
    if (ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK) == OK && ap_should_client_block(r))
        while (ap_get_client_block(r, buf, sizeof(buf)) > 0)
            ;
    ap_set_content_type(r, "application/json");
    ap_set_content_length(r, sizeof(reply) - 1);
    ap_rwrite(reply, sizeof(reply) - 1, r);
    return OK;
}

static void register_hooks(apr_pool_t *p)
{
    ap_hook_handler(fixed_handler, NULL, NULL, APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(bench_fixed) = {
    STANDARD20_MODULE_STUFF, NULL, NULL, NULL, NULL, NULL, register_hooks
};
