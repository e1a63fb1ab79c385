/* The engine's event loop: one thread, one pollset for every child connection and GET
 * stream, so a thousand idle streams cost a thousand file descriptors and nothing more.
 * Other threads (upstream I/O) hand work back with mcpgw_engine_post(). */
#include "mcpgw_engine_internal.h"
#include "mcpgw_log.h"
#include "mcpgw_state.h"
#include "mcpgw_upstream.h"
#include "mcpgw_upstream_pgids.h"

#include <stddef.h>

#include <apr_atomic.h>
#include <apr_portable.h>
#include <apr_strings.h>
#include <apr_signal.h>
#include <stdlib.h>

static volatile sig_atomic_t stop_requested;
static apr_pollset_t *signal_pollset;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
    if (signal_pollset)
        apr_pollset_wakeup(signal_pollset); /* a write(2) to a pipe: async-signal-safe */
}

void mcpgw_engine_post(mcpgw_engine_t *engine, void (*fn)(void *), void *baton)
{
    engine_task_t *task = malloc(sizeof(*task));
    if (!task)
        abort();
    task->next = NULL;
    task->fn = fn;
    task->baton = baton;
    apr_thread_mutex_lock(engine->tasks_lock);
    if (engine->tasks_tail)
        engine->tasks_tail->next = task;
    else
        engine->tasks_head = task;
    engine->tasks_tail = task;
    apr_thread_mutex_unlock(engine->tasks_lock);
    apr_pollset_wakeup(engine->pollset);
}

static void run_posted_tasks(mcpgw_engine_t *engine)
{
    engine_task_t *task;
    apr_thread_mutex_lock(engine->tasks_lock);
    task = engine->tasks_head;
    engine->tasks_head = engine->tasks_tail = NULL;
    apr_thread_mutex_unlock(engine->tasks_lock);
    while (task) {
        engine_task_t *next = task->next;
        task->fn(task->baton);
        free(task);
        task = next;
    }
}

static void post_from_any_thread(void *baton, void (*fn)(void *), void *arg)
{
    mcpgw_engine_post(baton, fn, arg);
}

static void on_listener_ready(mcpgw_pollable_t *self, apr_int16_t events)
{
    engine_conn_accept((mcpgw_engine_t *)((char *)self - offsetof(mcpgw_engine_t, listener_pollable)));
}

static void on_catalog_changed(void *baton)
{
    engine_streams_notify(baton, "notifications/tools/list_changed", MCPGW_TOPIC_TOOLS_LIST_CHANGED);
}

static void start_tool_call(mcpgw_tool_call_t *call, void *baton)
{
    mcpgw_engine_t *engine = baton;
    mcpgw_registry_call_tool(call, engine->registry);
}

static void cancel_request(const char *session_id, const json_t *request_id, void *baton)
{
    mcpgw_engine_t *engine = baton;
    mcpgw_registry_cancel_request(engine->registry, session_id, request_id);
}

static void on_session_removed(mcpgw_session_t *session, void *baton)
{
    engine_streams_close_session(baton, session);
}

/* The operator's JSON file (parsed by httpd at configuration time), with the admin
 * changes persisted in the state directory merged over it. */
static apr_status_t load_configuration(mcpgw_engine_t *engine)
{
    const char *error = NULL;
    if (engine->opts.config)
        engine->config = apr_pmemdup(engine->pool, engine->opts.config, sizeof(*engine->config));
    else {
        json_t *empty = json_object();
        mcpgw_gateway_config_t *c;
        mcpgw_config_parse(engine->pool, empty, &c, &error);
        json_decref(empty);
        engine->config = c;
    }
    engine->state_path = apr_pstrcat(engine->pool, engine->opts.state_dir ? engine->opts.state_dir : ".",
                                     "/clients.json", NULL);
    if (mcpgw_state_load(engine->pool, engine->state_path, &engine->state, &error) != APR_SUCCESS ||
        mcpgw_state_apply(engine->pool, engine->config, engine->state, &error) != APR_SUCCESS ||
        mcpgw_state_apply_keys(engine->pool, engine->config, engine->state, &error) != APR_SUCCESS) {
        mcpgw_log(MCPGW_LOG_ERR, "engine: %s", error);
        return APR_EINVAL;
    }
    engine->keys = engine->config->vkeys ? engine->config->vkeys
                                         : apr_array_make(engine->pool, 1, sizeof(void *));
    engine->key_pools = apr_hash_make(engine->pool);
    /* A new engine may know other keys than the one before it (admin changes). */
    if (engine->opts.keys_generation)
        apr_atomic_inc32(engine->opts.keys_generation);
    return APR_SUCCESS;
}

static apr_status_t engine_setup(mcpgw_engine_t *engine)
{
    apr_status_t rv;
    apr_os_sock_t fd = engine->opts.listen_fd;
    mcpgw_mcp_server_options_t so = { 0 };
    unsigned size = engine->opts.max_connections ? engine->opts.max_connections : 4096;

    rv = apr_pollset_create(&engine->pollset, size + 16, engine->pool,
                            APR_POLLSET_WAKEABLE | APR_POLLSET_NOCOPY);
    if (rv != APR_SUCCESS)
        return rv;
    rv = apr_os_sock_put(&engine->listener, &fd, engine->pool);
    if (rv != APR_SUCCESS)
        return rv;
    apr_socket_opt_set(engine->listener, APR_SO_NONBLOCK, 1);
    engine->listener_pfd.desc_type = APR_POLL_SOCKET;
    engine->listener_pfd.desc.s = engine->listener;
    engine->listener_pfd.reqevents = APR_POLLIN;
    engine->listener_pollable.on_ready = on_listener_ready;
    engine->listener_pfd.client_data = &engine->listener_pollable;
    rv = apr_pollset_add(engine->pollset, &engine->listener_pfd);
    if (rv != APR_SUCCESS)
        return rv;
    rv = apr_thread_mutex_create(&engine->tasks_lock, APR_THREAD_MUTEX_DEFAULT, engine->pool);
    if (rv != APR_SUCCESS)
        return rv;
    APR_RING_INIT(&engine->streams, engine_conn_t, link);

    so.name = engine->opts.server_name;
    so.version = engine->opts.server_version;
    so.max_sessions = engine->opts.max_sessions;
    so.session_idle_timeout = engine->opts.session_idle_timeout;
    so.start_tool_call = start_tool_call;
    so.start_tool_call_baton = engine;
    so.cancel_request = cancel_request;
    so.cancel_request_baton = engine;
    so.tool_visible = engine_keys_tool_visible;
    so.tool_visible_baton = engine;
    engine->server = mcpgw_mcp_server_create(engine->pool, &so);
    mcpgw_mcp_server_set_catalog(engine->server,
                                 mcpgw_catalog_create(engine->pool, engine->opts.tools_page_size, 1));

    /* Upstream I/O: pipes in our pollset, HTTP requests on worker threads. */
    mcpgw_transport_http_global_init();
    rv = apr_thread_pool_create(&engine->loop.workers, 4, 64, engine->pool);
    if (rv != APR_SUCCESS)
        return rv;
    /* Keep idle workers: each holds a warm HTTP connection to the upstreams it served. */
    apr_thread_pool_idle_max_set(engine->loop.workers, 64);
    apr_thread_pool_idle_wait_set(engine->loop.workers, apr_time_from_sec(300));
    engine->loop.pollset = engine->pollset;
    engine->loop.post = post_from_any_thread;
    engine->loop.loop_baton = engine;
    engine->loop.state_dir = engine->opts.state_dir;
    mcpgw_upstream_pgids_reap(engine->opts.state_dir);
    if ((rv = load_configuration(engine)) != APR_SUCCESS)
        return rv;
    engine->registry = mcpgw_registry_create(engine->pool, engine->config, &engine->loop,
                                             engine->server, engine->opts.tools_page_size,
                                             on_catalog_changed, engine);
    mcpgw_session_store_on_remove(mcpgw_mcp_server_sessions(engine->server), on_session_removed,
                                  engine);
    return APR_SUCCESS;
}

int mcpgw_engine_run(apr_pool_t *pool, const mcpgw_engine_options_t *options)
{
    mcpgw_engine_t *engine = apr_pcalloc(pool, sizeof(*engine));
    apr_time_t last_sweep = apr_time_now();
    apr_status_t rv;

    engine->pool = pool;
    engine->opts = *options;
    rv = engine_setup(engine);
    if (rv != APR_SUCCESS) {
        char err[256];
        mcpgw_log(MCPGW_LOG_ERR, "engine: setup failed: %s",
                  apr_strerror(rv, err, sizeof(err)));
        return MCPGW_ENGINE_EXIT_CONFIG;
    }
    signal_pollset = engine->pollset;
    apr_signal(SIGTERM, on_stop_signal);
    apr_signal(SIGINT, on_stop_signal);
    apr_signal(SIGHUP, SIG_IGN);
    apr_signal(SIGUSR1, SIG_IGN);
    apr_signal(SIGPIPE, SIG_IGN);
    mcpgw_log(MCPGW_LOG_NOTICE, "engine: started (pid %d)", (int)getpid());
    mcpgw_registry_start(engine->registry);

    while (!stop_requested) {
        apr_int32_t n = 0;
        const apr_pollfd_t *ready = NULL;
        apr_time_t now;

        /* A tenth of a second: how late a tool call's timeout may fire. */
        rv = apr_pollset_poll(engine->pollset, apr_time_from_msec(100), &n, &ready);
        if (rv != APR_SUCCESS && !APR_STATUS_IS_EINTR(rv) && !APR_STATUS_IS_TIMEUP(rv)) {
            char err[256];
            mcpgw_log(MCPGW_LOG_ERR, "engine: poll failed: %s",
                      apr_strerror(rv, err, sizeof(err)));
            break;
        }
        for (apr_int32_t i = 0; rv == APR_SUCCESS && i < n; i++) {
            mcpgw_pollable_t *p = ready[i].client_data;
            p->on_ready(p, ready[i].rtnevents);
        }
        run_posted_tasks(engine);
        now = apr_time_now();
        mcpgw_registry_tick(engine->registry, now);
        if (now - last_sweep >= apr_time_from_sec(1)) {
            mcpgw_session_expire(mcpgw_mcp_server_sessions(engine->server), now);
            last_sweep = now;
        }
    }
    mcpgw_log(MCPGW_LOG_NOTICE, "engine: stopping");
    mcpgw_registry_stop(engine->registry);
    run_posted_tasks(engine);
    signal_pollset = NULL;
    return 0;
}
