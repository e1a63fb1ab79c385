/* What the upstream layer needs from the engine's event loop: a pollset to watch pipes
 * in, a way for worker threads to hand work back to the loop thread, and worker threads.
 * Everything an upstream owns is touched only on the loop thread, except inside the
 * transports' worker jobs, which talk back through post(). */
#ifndef MCPGW_LOOP_H
#define MCPGW_LOOP_H

#include <apr_poll.h>
#include <apr_thread_pool.h>

/* Every pollfd's client_data points at one of these (first member of its owner). */
typedef struct mcpgw_pollable_t mcpgw_pollable_t;
struct mcpgw_pollable_t {
    void (*on_ready)(mcpgw_pollable_t *self, apr_int16_t events);
};

typedef struct {
    apr_pollset_t *pollset;
    apr_thread_pool_t *workers;
    void (*post)(void *loop_baton, void (*fn)(void *), void *arg); /* any thread */
    void *loop_baton;
    const char *state_dir; /* for the record of spawned process groups */
} mcpgw_loop_t;

#endif
