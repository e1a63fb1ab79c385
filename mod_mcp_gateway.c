/* mod_mcp_gateway: an MCP (Model Context Protocol) gateway inside Apache httpd.
 *
 * This file only wires hooks to where the work is done:
 *   directives           src/httpd/mcpgw_directives.c
 *   engine process       src/httpd/mcpgw_supervisor.c   (forks src/engine/)
 *   /mcp endpoint        src/httpd/mcpgw_handler_mcp.c  (-> engine over src/ipc/)
 *   admin REST API       src/httpd/mcpgw_handler_admin.c (-> src/engine/mcpgw_engine_admin.c)
 *   virtual keys         src/httpd/mcpgw_auth.c (check_authn; keys live in the engine)
 *   MCP protocol rules   src/core/
 */
#include "mcpgw_auth.h"
#include "mcpgw_directives.h"
#include "mcpgw_handler_admin.h"
#include "mcpgw_handler_mcp.h"
#include "mcpgw_supervisor.h"

#include "http_config.h"
#include "httpd.h"

static void register_hooks(apr_pool_t *p)
{
    ap_hook_post_config(mcpgw_supervisor_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(mcpgw_supervisor_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(mcpgw_handler_mcp, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(mcpgw_handler_admin, NULL, NULL, APR_HOOK_MIDDLE);
    mcpgw_auth_register_hooks(p);
}

AP_DECLARE_MODULE(mcp_gateway) = {
    STANDARD20_MODULE_STUFF,
    mcpgw_directives_create_dir,
    mcpgw_directives_merge_dir,
    mcpgw_directives_create_server,
    mcpgw_directives_merge_server,
    mcpgw_directives,
    register_hooks
};
