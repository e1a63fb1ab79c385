/* Virtual-key authentication, in httpd's authentication phase as an auth module does it:
 * with "AuthType MCPGatewayKey" on the /mcp Location, a key presented in Authorization:
 * Bearer, X-Api-Key, x-bf-virtual-key or x-bf-vk is checked and r->user becomes the key's
 * name (so Require, access logs and other modules see it). */
#ifndef MCPGW_AUTH_H
#define MCPGW_AUTH_H

#include "httpd.h"

#define MCPGW_AUTH_TYPE "MCPGatewayKey"

/* The whole of what a refused caller learns (never whether a key was unknown or inactive). */
#define MCPGW_AUTH_REFUSAL "Unauthorized: a valid virtual key is required"

void mcpgw_auth_register_hooks(apr_pool_t *p);

/* 1 when the request was authenticated by a virtual key (r->user is its name). */
int mcpgw_auth_by_key(request_rec *r);

/* 1 when the JSON file's client.enforce_auth_on_inference is true. */
int mcpgw_auth_enforced(void);

/* Answers 401 with WWW-Authenticate: Bearer; the body never says why. */
int mcpgw_auth_unauthorized(request_rec *r);

#endif
