#include "mcpgw_admin_reply.h"

json_t *mcpgw_admin_reply_error(int status, const char *message)
{
    return json_pack("{s:b, s:i, s:{s:s}, s:{}}", "is_bifrost_error", 0, "status_code", status,
                     "error", "message", message, "extra_fields");
}

json_t *mcpgw_admin_reply_success(const char *message)
{
    return json_pack("{s:s, s:s}", "status", "success", "message", message);
}
