#include "mcpgw_supervisor.h"
#include "mcpgw_directives.h"
#include "mcpgw_engine.h"
#include "mcpgw_log.h"
#include "mcpgw_log_bridge.h"
#include "mcpgw_state.h"
#include "mcpgw_version.h"

#include "ap_listen.h"
#include "http_log.h"
#include "mpm_common.h"
#include "http_core.h"
#include "mod_unixd.h"
#include "unixd.h"

#include <apr_allocator.h>
#include <apr_shm.h>
#include <apr_thread_mutex.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <errno.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

APLOG_USE_MODULE(mcp_gateway);

typedef struct {
    apr_pool_t *pool;          /* pconf: lives until the next restart */
    server_rec *server;
    const mcpgw_server_conf_t *conf;
    int listen_fd;
    pid_t parent_pid;
    apr_proc_t proc;
    int running;
    int registered;            /* with apr_proc_other_child (unregistering twice crashes) */
    int stopping;
    apr_time_t started;
    apr_shm_t *shm;            /* holds the keys generation, shared with children and engine */
} supervisor_t;

/* One per configuration generation; children read listen_fd from it to close it. */
static supervisor_t *current;

static apr_status_t start_engine(supervisor_t *sup);

static void unregister_engine(supervisor_t *sup)
{
    if (sup->registered) {
        apr_proc_other_child_unregister(sup);
        sup->registered = 0;
    }
}

static int make_socket(supervisor_t *sup)
{
    struct sockaddr_un addr;
    int fd;

    if (strlen(sup->conf->socket_path) >= sizeof(addr.sun_path)) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, sup->server,
                     "MCPGatewaySocket path too long: %s", sup->conf->socket_path);
        return -1;
    }
    memset(&addr, 0, sizeof(addr));
    addr.sun_family = AF_UNIX;
    strcpy(addr.sun_path, sup->conf->socket_path);
    unlink(addr.sun_path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
        listen(fd, 4096) < 0) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, errno, sup->server,
                     "cannot listen on engine socket %s", sup->conf->socket_path);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    /* Children run as the httpd User and must be able to connect; nobody else may. */
    if (geteuid() == 0 && chown(addr.sun_path, ap_unixd_config.user_id, -1) < 0)
        ap_log_error(APLOG_MARK, APLOG_WARNING, errno, sup->server,
                     "cannot chown engine socket %s", addr.sun_path);
    chmod(addr.sun_path, 0600);
    return fd;
}

static int make_state_dir(supervisor_t *sup)
{
    apr_status_t rv = apr_dir_make_recursive(sup->conf->state_dir,
                                             APR_FPROT_UREAD | APR_FPROT_UWRITE |
                                                 APR_FPROT_UEXECUTE | APR_FPROT_GREAD |
                                                 APR_FPROT_GEXECUTE,
                                             sup->pool);
    if (rv != APR_SUCCESS && !APR_STATUS_IS_EEXIST(rv)) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, sup->server,
                     "cannot create MCPGatewayStateDir %s", sup->conf->state_dir);
        return -1;
    }
    /* The engine (as User) writes here; nobody else needs to. */
    chmod(sup->conf->state_dir, 0750);
    if (geteuid() == 0 && chown(sup->conf->state_dir, ap_unixd_config.user_id,
                                ap_unixd_config.group_id) < 0)
        ap_log_error(APLOG_MARK, APLOG_WARNING, errno, sup->server,
                     "cannot chown MCPGatewayStateDir %s", sup->conf->state_dir);
    return 0;
}

/* Admin changes persisted earlier must still apply: a corrupt state file stops httpd here
 * with a clear message rather than letting the engine start without them. */
static int check_state_file(supervisor_t *sup, apr_pool_t *ptemp)
{
    const char *path = apr_pstrcat(ptemp, sup->conf->state_dir, "/clients.json", NULL);
    const char *error = NULL;
    json_t *state;
    mcpgw_gateway_config_t copy;
    if (sup->conf->gateway)
        copy = *sup->conf->gateway;
    else
        memset(&copy, 0, sizeof(copy));
    if (!copy.upstreams)
        copy.upstreams = apr_array_make(ptemp, 1, sizeof(void *));
    if (mcpgw_state_load(ptemp, path, &state, &error) != APR_SUCCESS ||
        mcpgw_state_apply(ptemp, &copy, state, &error) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, sup->server, "%s", error);
        return -1;
    }
    return 0;
}

static void engine_maintenance(int reason, void *data, apr_wait_t status)
{
    supervisor_t *sup = data;
    switch (reason) {
    case APR_OC_REASON_DEATH:
        unregister_engine(sup);
        sup->running = 0;
        if (sup->stopping)
            return;
        if (status == MCPGW_ENGINE_EXIT_CONFIG) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, sup->server,
                         "engine (pid %d) stopped on a configuration error; not restarting "
                         "it until the configuration is fixed and httpd restarted",
                         (int)sup->proc.pid);
            return;
        }
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, sup->server,
                     "engine (pid %d) died (status %d); restarting it", (int)sup->proc.pid,
                     (int)status);
        start_engine(sup);
        break;
    case APR_OC_REASON_LOST:
        unregister_engine(sup);
        sup->running = 0;
        if (!sup->stopping)
            start_engine(sup);
        break;
    case APR_OC_REASON_RESTART:
    case APR_OC_REASON_UNREGISTER:
    default:
        break;
    }
}

static void run_engine_child(supervisor_t *sup)
{
    mcpgw_engine_options_t opts = { 0 };
    apr_pool_t *pool;

    /* Its own process group: httpd signals its group on restart, and the engine answers
     * only to its supervisor. Die with the parent, whatever kills it. */
    sigset_t none;

    setpgid(0, 0);
    ap_close_listeners();
    if (ap_unixd_setup_child() != 0)
        _exit(MCPGW_ENGINE_EXIT_CONFIG);
    /* After the uid change, which clears it. */
#ifdef __linux__
    prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
    if (getppid() != sup->parent_pid)
        _exit(0);
    /* httpd's parent may fork us with signals blocked or handled its own way. */
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            signal(sig, SIG_DFL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);

    /* The engine's own allocator, giving memory back beyond a few MB: a burst (a large
     * tool list sent to many connections) must not stay resident for good. It is shared by
     * the worker threads' pools, hence the mutex. */
    {
        apr_allocator_t *allocator;
        apr_thread_mutex_t *lock;
        apr_allocator_create(&allocator);
        apr_allocator_max_free_set(allocator, 4 * 1024 * 1024);
        apr_pool_create_ex(&pool, NULL, NULL, allocator);
        apr_allocator_owner_set(allocator, pool);
        apr_thread_mutex_create(&lock, APR_THREAD_MUTEX_DEFAULT, pool);
        apr_allocator_mutex_set(allocator, lock);
    }
    mcpgw_log_bridge_install(sup->server);
    opts.listen_fd = sup->listen_fd;
    opts.server_name = "mod_mcp_gateway";
    opts.server_version = MCPGW_VERSION;
    opts.tools_page_size = (unsigned)sup->conf->tools_page_size;
    opts.max_sessions = (unsigned)sup->conf->max_sessions;
    opts.session_idle_timeout = apr_time_from_sec(sup->conf->session_idle_sec);
    opts.max_connections = 65536;
    opts.config = sup->conf->gateway;
    opts.state_dir = sup->conf->state_dir;
    opts.keys_generation = mcpgw_supervisor_keys_generation();
    _exit(mcpgw_engine_run(pool, &opts));
}

static apr_status_t start_engine(supervisor_t *sup)
{
    apr_status_t rv = apr_proc_fork(&sup->proc, sup->pool);
    if (rv == APR_INCHILD)
        run_engine_child(sup); /* never returns */
    if (rv != APR_INPARENT) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, sup->server, "cannot fork the engine");
        return rv;
    }
    sup->running = 1;
    sup->started = apr_time_now();
    apr_proc_other_child_register(&sup->proc, engine_maintenance, sup, NULL, sup->pool);
    sup->registered = 1;
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, sup->server, "engine started (pid %d)",
                 (int)sup->proc.pid);
    return APR_SUCCESS;
}

/* Runs when the parent clears its configuration pool (restart, graceful, stop). Children
 * and the engine inherit the pool too and run its cleanups at exit: only the parent acts. */
static apr_status_t stop_engine(void *data)
{
    supervisor_t *sup = data;
    if (getpid() != sup->parent_pid)
        return APR_SUCCESS;
    sup->stopping = 1;
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, sup->server, "stopping engine (pid %d)",
                 sup->running ? (int)sup->proc.pid : 0);
    unregister_engine(sup);
    if (sup->running) {
        kill(sup->proc.pid, SIGTERM);
        /* The engine stops its upstreams before it exits; give it a moment, then insist. */
        for (int i = 0; i < 50; i++) {
            if (waitpid(sup->proc.pid, NULL, WNOHANG) == sup->proc.pid) {
                sup->running = 0;
                break;
            }
            apr_sleep(apr_time_from_msec(100));
        }
        if (sup->running) {
            kill(sup->proc.pid, SIGKILL);
            waitpid(sup->proc.pid, NULL, 0);
            sup->running = 0;
        }
    }
    if (sup->listen_fd >= 0) {
        close(sup->listen_fd);
        sup->listen_fd = -1;
    }
    unlink(sup->conf->socket_path);
    if (current == sup)
        current = NULL;
    return APR_SUCCESS;
}

int mcpgw_supervisor_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                                 server_rec *s)
{
    supervisor_t *sup;

    mcpgw_log_bridge_install(s);
    /* The first pass only checks the configuration; the engine starts on the real one. */
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG)
        return OK;

    sup = apr_pcalloc(pconf, sizeof(*sup));
    sup->pool = pconf;
    sup->server = s;
    sup->conf = mcpgw_directives_main(s);
    sup->parent_pid = getpid();
    sup->listen_fd = -1;
    if (make_state_dir(sup) < 0)
        return HTTP_INTERNAL_SERVER_ERROR;
    if (check_state_file(sup, ptemp) < 0)
        return HTTP_INTERNAL_SERVER_ERROR;
    sup->listen_fd = make_socket(sup);
    if (sup->listen_fd < 0)
        return HTTP_INTERNAL_SERVER_ERROR;
    /* A pre-cleanup runs before the pool's other cleanups, among them the one that drops
     * the other-child registration: we unregister it ourselves, exactly once. */
    /* Anonymous shared memory: inherited by the engine and every child, no file needed. */
    if (apr_shm_create(&sup->shm, sizeof(apr_uint32_t), NULL, pconf) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "cannot create shared memory for the gateway");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    *(volatile apr_uint32_t *)apr_shm_baseaddr_get(sup->shm) = 1;
    apr_pool_pre_cleanup_register(pconf, sup, stop_engine);
    current = sup;
    if (start_engine(sup) != APR_SUCCESS)
        return HTTP_INTERNAL_SERVER_ERROR;
    return OK;
}

volatile apr_uint32_t *mcpgw_supervisor_keys_generation(void)
{
    return current && current->shm ? apr_shm_baseaddr_get(current->shm) : NULL;
}

void mcpgw_supervisor_child_init(apr_pool_t *pchild, server_rec *s)
{
    if (current && current->listen_fd >= 0) {
        close(current->listen_fd);
        current->listen_fd = -1;
    }
}
