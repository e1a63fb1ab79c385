/* A child's connection to the engine: one request out, frames back. Blocking, with
 * deadlines, so a dead or wedged engine turns into a 503 instead of a hung worker. */
#ifndef MCPGW_IPC_CLIENT_H
#define MCPGW_IPC_CLIENT_H

#include "mcpgw_ipc.h"

#include <apr_pools.h>

typedef struct {
    int fd;
    mcpgw_ipc_decoder_t in;
    int reusable; /* set when an answer ended cleanly: the connection may serve the next */
} mcpgw_ipc_client_t;

/* A connection for one request, tied to pool: each worker thread keeps one connection to
 * the engine and reuses it request after request (no connect/accept per request). When
 * the pool is cleaned up the connection goes back to the thread if the answer ended
 * cleanly (reusable), else it is closed - which is also how the engine learns that a
 * client left. APR_ECONNREFUSED/ENOENT when no engine listens. */
apr_status_t mcpgw_ipc_client_acquire(apr_pool_t *pool, const char *socket_path,
                                      mcpgw_ipc_client_t **out);

/* Sends one frame made of two parts (the meta line and the body need no copying). */
apr_status_t mcpgw_ipc_client_send(mcpgw_ipc_client_t *c, char type, const char *a,
                                   apr_size_t alen, const char *b, apr_size_t blen);

/* Waits up to timeout_ms (-1 = forever) for the next frame. Also watches watch_fd (the
 * client's socket, -1 for none): when it turns readable, returns APR_EOF with
 * *client_event = 1 so the caller can see whether the client left.
 * APR_TIMEUP on timeout; APR_EOF when the engine closed the connection. */
apr_status_t mcpgw_ipc_client_next(mcpgw_ipc_client_t *c, int timeout_ms, int watch_fd,
                                   int *client_event, char *type, const char **payload,
                                   apr_size_t *len);

#endif
