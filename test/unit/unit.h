#ifndef MCPGW_UNIT_H
#define MCPGW_UNIT_H

#include <check.h>

Suite *suite_jsonrpc(void);
Suite *suite_protocol(void);
Suite *suite_session(void);
Suite *suite_http_rules(void);
Suite *suite_catalog(void);
Suite *suite_mcp_server(void);
Suite *suite_ipc(void);
Suite *suite_config_keys(void);
Suite *suite_sse(void);

#endif
