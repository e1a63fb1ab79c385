/* Bodies of the admin API's answers, in the reference product's shapes (its clients parse
 * them). Built by the httpd child (refusals before the engine) and by the engine. */
#ifndef MCPGW_ADMIN_REPLY_H
#define MCPGW_ADMIN_REPLY_H

#include <jansson.h>

/* {"is_bifrost_error":false,"status_code":N,"error":{"message":...},"extra_fields":{}} */
json_t *mcpgw_admin_reply_error(int status, const char *message);

/* {"status":"success","message":...} */
json_t *mcpgw_admin_reply_success(const char *message);

#endif
