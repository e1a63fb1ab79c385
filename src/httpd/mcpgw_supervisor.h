/* The engine process seen from httpd: created in the parent's post_config, supervised
 * there, restarted when it dies, stopped on restart and shutdown. */
#ifndef MCPGW_SUPERVISOR_H
#define MCPGW_SUPERVISOR_H

#include "httpd.h"

int mcpgw_supervisor_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                                 server_rec *s);

/* The shared counter of virtual-key changes (NULL before post_config). */
volatile apr_uint32_t *mcpgw_supervisor_keys_generation(void);

/* Children must not hold the engine's listening socket. */
void mcpgw_supervisor_child_init(apr_pool_t *pchild, server_rec *s);

#endif
