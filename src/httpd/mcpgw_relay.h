/* The child's side of a request to the engine, shared by the /mcp and admin handlers. */
#ifndef MCPGW_RELAY_H
#define MCPGW_RELAY_H

#include "httpd.h"
#include "mcpgw_directives.h"
#include "mcpgw_ipc_client.h"

/* A JSON-RPC error without id as the whole answer (refusals made before the engine). */
int mcpgw_relay_refuse(request_rec *r, int status, int code, const char *message);

/* 503 with Retry-After: the engine did not answer in time or is not running. */
int mcpgw_relay_engine_unavailable(request_rec *r);

/* Reads the whole body; HTTP_REQUEST_ENTITY_TOO_LARGE as soon as it passes max. */
int mcpgw_relay_read_body(request_rec *r, apr_off_t max, char **body, apr_size_t *len);

/* Relays the engine's answer to the request sent on ipc. */
int mcpgw_relay_answer(request_rec *r, mcpgw_ipc_client_t *ipc,
                       const mcpgw_server_conf_t *sconf, const mcpgw_dir_conf_t *dconf);

#endif
