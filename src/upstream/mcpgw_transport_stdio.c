/* stdio transport: the server is a child process speaking newline-delimited JSON-RPC on
 * stdin/stdout; its stderr goes to the error log tagged with the client name. It runs
 * without a shell, in its own process group (so the whole group can be killed), with
 * exactly the environment the configuration lists. Pipes are watched in the engine's
 * pollset: no thread per server. */
#include "mcpgw_upstream.h"
#include "mcpgw_log.h"
#include "mcpgw_upstream_pgids.h"

#include <apr_portable.h>
#include <apr_strings.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

/* A message line longer than this is treated as garbage and dropped. */
#define MAX_LINE (32u * 1024u * 1024u)
#define MAX_STDERR_LINE 2048u

typedef struct stdio_transport_t stdio_transport_t;

typedef struct {
    mcpgw_pollable_t pollable; /* first: the pollset hands us this pointer */
    stdio_transport_t *owner;
    apr_pollfd_t pfd;
    apr_file_t *file;
    int fd;
    char *buf;                  /* input lines being assembled, or output not yet written */
    apr_size_t len, cap, off;
    int skipping;               /* dropping an oversized line up to its newline */
} pipe_end_t;

struct stdio_transport_t {
    mcpgw_transport_t base;
    apr_pool_t *pool;
    mcpgw_upstream_t *upstream;
    const mcpgw_upstream_config_t *cfg; /* read only while starting: an admin PUT replaces it */
    const char *name;                   /* the client's name, ours to keep */
    const mcpgw_loop_t *loop;
    pid_t pid;
    int stopped;
    pipe_end_t in, out, err; /* the child's stdin, stdout, stderr */
};

static void watch(stdio_transport_t *t, pipe_end_t *p, apr_int16_t events)
{
    apr_os_file_put(&p->file, &p->fd, 0, t->pool);
    p->pfd.desc_type = APR_POLL_FILE;
    p->pfd.desc.f = p->file;
    p->pfd.reqevents = events;
    p->pfd.client_data = p;
    apr_pollset_add(t->loop->pollset, &p->pfd);
}

static void unwatch(stdio_transport_t *t, pipe_end_t *p)
{
    if (p->fd < 0)
        return;
    if (p->pfd.reqevents)
        apr_pollset_remove(t->loop->pollset, &p->pfd);
    p->pfd.reqevents = 0;
    close(p->fd);
    p->fd = -1;
    free(p->buf);
    p->buf = NULL;
}

static void closed(stdio_transport_t *t, const char *why)
{
    if (t->stopped)
        return;
    /* The upstream stops us from inside this call; nothing of t may be used after it. */
    mcpgw_upstream_on_closed(t->upstream, why);
}

static void grow(pipe_end_t *p, apr_size_t need)
{
    if (p->cap >= need)
        return;
    apr_size_t cap = p->cap ? p->cap : 8192;
    while (cap < need)
        cap *= 2;
    p->buf = realloc(p->buf, cap);
    if (!p->buf)
        abort();
    p->cap = cap;
}

/* Reads what is there; calls line_fn for each complete line. Returns 0 on EOF/error. */
static int read_lines(stdio_transport_t *t, pipe_end_t *p, apr_size_t max,
                      void (*line_fn)(stdio_transport_t *, const char *, apr_size_t))
{
    for (;;) {
        ssize_t n;
        char *start, *nl;
        grow(p, p->len + 16384);
        n = read(p->fd, p->buf + p->len, p->cap - p->len);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return 1;
        if (n <= 0)
            return 0;
        p->len += (apr_size_t)n;
        start = p->buf;
        while ((nl = memchr(start, '\n', (size_t)(p->buf + p->len - start))) != NULL) {
            apr_size_t line_len = (apr_size_t)(nl - start);
            if (p->skipping)
                p->skipping = 0;
            else {
                if (line_len && start[line_len - 1] == '\r')
                    line_len--;
                if (line_len)
                    line_fn(t, start, line_len);
                if (t->stopped)
                    return 1;
            }
            start = nl + 1;
        }
        p->len -= (apr_size_t)(start - p->buf);
        memmove(p->buf, start, p->len);
        if (p->len > max) {
            mcpgw_log(MCPGW_LOG_WARNING, "upstream %s: dropped an output line over %lu bytes",
                      t->name, (unsigned long)max);
            p->len = 0;
            p->skipping = 1;
        }
        if (p->len == 0 && p->cap > 65536) {
            /* A burst is over: give back what one big message needed. */
            free(p->buf);
            p->buf = NULL;
            p->cap = 0;
        }
        if ((size_t)n < 16384)
            return 1;
    }
}

static void on_stdout_line(stdio_transport_t *t, const char *line, apr_size_t len)
{
    /* Not JSON at all (a banner, a stray print): logged by the upstream and skipped. */
    mcpgw_upstream_on_message(t->upstream, line, len);
}

static void on_stderr_line(stdio_transport_t *t, const char *line, apr_size_t len)
{
    mcpgw_log(MCPGW_LOG_INFO, "upstream %s stderr: %.*s", t->name,
              (int)(len > MAX_STDERR_LINE ? MAX_STDERR_LINE : len), line);
}

static void on_stdout_ready(mcpgw_pollable_t *self, apr_int16_t events)
{
    pipe_end_t *p = (pipe_end_t *)self;
    stdio_transport_t *t = p->owner;
    if (t->stopped)
        return;
    if (!read_lines(t, p, MAX_LINE, on_stdout_line) && !t->stopped)
        closed(t, "the server process closed its output (exited)");
}

static void on_stderr_ready(mcpgw_pollable_t *self, apr_int16_t events)
{
    pipe_end_t *p = (pipe_end_t *)self;
    stdio_transport_t *t = p->owner;
    if (t->stopped)
        return;
    if (!read_lines(t, p, MAX_STDERR_LINE * 4, on_stderr_line))
        unwatch(t, p); /* stderr closed; stdout decides when the server is gone */
}

static int flush_stdin(stdio_transport_t *t)
{
    pipe_end_t *p = &t->in;
    while (p->off < p->len) {
        ssize_t n = write(p->fd, p->buf + p->off, p->len - p->off);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                break;
            return -1;
        }
        p->off += (apr_size_t)n;
    }
    if (p->off == p->len)
        p->off = p->len = 0;
    /* Watch for room only while something waits to be written. */
    if ((p->len > 0) != (p->pfd.reqevents != 0)) {
        if (p->pfd.reqevents)
            apr_pollset_remove(t->loop->pollset, &p->pfd);
        p->pfd.reqevents = p->len ? APR_POLLOUT : 0;
        if (p->pfd.reqevents)
            apr_pollset_add(t->loop->pollset, &p->pfd);
    }
    return 0;
}

static void on_stdin_ready(mcpgw_pollable_t *self, apr_int16_t events)
{
    pipe_end_t *p = (pipe_end_t *)self;
    stdio_transport_t *t = p->owner;
    if (!t->stopped && flush_stdin(t) < 0)
        closed(t, "the server process closed its input");
}

static apr_status_t stdio_send(mcpgw_transport_t *base, const char *msg, apr_size_t len)
{
    stdio_transport_t *t = (stdio_transport_t *)base;
    pipe_end_t *p = &t->in;
    if (t->stopped || p->fd < 0)
        return APR_EGENERAL;
    if (p->off && p->off == p->len)
        p->off = p->len = 0;
    grow(p, p->len + len + 1);
    memcpy(p->buf + p->len, msg, len);
    p->buf[p->len + len] = '\n';
    p->len += len + 1;
    if (flush_stdin(t) < 0) {
        /* Reported through the stdout EOF that follows; nothing more to do here. */
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

static void kill_group(pid_t pid)
{
    /* The group first (servers launched by npx or a shell have children of their own),
     * the leader too in case it left the group. */
    kill(-pid, SIGTERM);
    kill(pid, SIGTERM);
    for (int i = 0; i < 40; i++) {
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            kill(-pid, SIGKILL); /* stragglers in the group */
            return;
        }
        usleep(5000);
    }
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static void stdio_stop(mcpgw_transport_t *base)
{
    stdio_transport_t *t = (stdio_transport_t *)base;
    if (t->stopped)
        return;
    t->stopped = 1;
    unwatch(t, &t->in);
    unwatch(t, &t->out);
    unwatch(t, &t->err);
    if (t->pid > 0) {
        kill_group(t->pid);
        mcpgw_upstream_pgids_forget(t->loop->state_dir, t->pid);
        mcpgw_log(MCPGW_LOG_INFO, "upstream %s: stopped process group %d", t->name,
                  (int)t->pid);
        t->pid = 0;
    }
}

/* The child's environment: exactly the listed variables, copied from ours, plus any
 * NAME=value entries. A listed name that is unset is an error, not a silent omission. */
static char **child_env(stdio_transport_t *t, const char **why)
{
    const apr_array_header_t *pass = t->cfg->env_pass, *set = t->cfg->env_set;
    char **envp = apr_pcalloc(t->pool, sizeof(char *) * (size_t)(pass->nelts + set->nelts + 1));
    int n = 0;
    for (int i = 0; i < pass->nelts; i++) {
        const char *name = APR_ARRAY_IDX(pass, i, const char *);
        const char *value = getenv(name);
        if (!value) {
            *why = apr_psprintf(t->pool, "environment variable %s (listed in envs) is not set",
                                name);
            return NULL;
        }
        envp[n++] = apr_pstrcat(t->pool, name, "=", value, NULL);
    }
    for (int i = 0; i < set->nelts; i++)
        envp[n++] = apr_pstrdup(t->pool, APR_ARRAY_IDX(set, i, const char *));
    return envp;
}

static void close_all(int *a, int *b, int *c, int *d)
{
    int *pairs[] = { a, b, c, d };
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 2; j++)
            if (pairs[i][j] >= 0) {
                close(pairs[i][j]);
                pairs[i][j] = -1;
            }
}

static apr_status_t stdio_start(mcpgw_transport_t *base, const char **why)
{
    stdio_transport_t *t = (stdio_transport_t *)base;
    int in[2], out[2], err[2], status_pipe[2];
    char **argv, **envp;
    int nargs = t->cfg->args->nelts, failed_errno = 0;
    ssize_t got;

    envp = child_env(t, why);
    if (!envp)
        return APR_EINVAL;
    argv = apr_pcalloc(t->pool, sizeof(char *) * (size_t)(nargs + 2));
    argv[0] = (char *)t->cfg->command;
    for (int i = 0; i < nargs; i++)
        argv[i + 1] = (char *)APR_ARRAY_IDX(t->cfg->args, i, const char *);

    in[0] = in[1] = out[0] = out[1] = err[0] = err[1] = status_pipe[0] = status_pipe[1] = -1;
    if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC) ||
        pipe2(status_pipe, O_CLOEXEC)) {
        int e = errno;
        close_all(in, out, err, status_pipe);
        *why = apr_psprintf(t->pool, "pipe: %s", strerror(e));
        return APR_FROM_OS_ERROR(e);
    }
    t->pid = fork();
    if (t->pid < 0) {
        int e = errno;
        close_all(in, out, err, status_pipe);
        t->pid = 0;
        *why = apr_psprintf(t->pool, "fork: %s", strerror(e));
        return APR_FROM_OS_ERROR(e);
    }
    if (t->pid == 0) {
        /* Child: only async-signal-safe calls from here to exec. */
        sigset_t none;
        setpgid(0, 0);
#ifdef __linux__
        prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        dup2(in[0], 0);
        dup2(out[1], 1);
        dup2(err[1], 2);
        execvpe(argv[0], argv, envp);
        failed_errno = errno;
        if (write(status_pipe[1], &failed_errno, sizeof(failed_errno)) < 0)
            _exit(127);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    close(err[1]);
    close(status_pipe[1]);
    /* EOF means exec succeeded (the pipe closed on exec); an errno means it did not. */
    do
        got = read(status_pipe[0], &failed_errno, sizeof(failed_errno));
    while (got < 0 && errno == EINTR);
    close(status_pipe[0]);
    if (got == sizeof(failed_errno)) {
        waitpid(t->pid, NULL, 0);
        t->pid = 0;
        close(in[1]);
        close(out[0]);
        close(err[0]);
        *why = apr_psprintf(t->pool, "cannot run %s: %s", t->cfg->command, strerror(failed_errno));
        return APR_FROM_OS_ERROR(failed_errno);
    }
    mcpgw_upstream_pgids_remember(t->loop->state_dir, t->pid);
    t->in.fd = in[1];
    t->out.fd = out[0];
    t->err.fd = err[0];
    fcntl(t->in.fd, F_SETFL, O_NONBLOCK);
    fcntl(t->out.fd, F_SETFL, O_NONBLOCK);
    fcntl(t->err.fd, F_SETFL, O_NONBLOCK);
    /* stdin is only watched while output is queued (see flush_stdin). */
    t->in.pfd.desc_type = APR_POLL_FILE;
    apr_os_file_put(&t->in.file, &t->in.fd, 0, t->pool);
    t->in.pfd.desc.f = t->in.file;
    t->in.pfd.client_data = &t->in;
    t->in.pfd.reqevents = 0;
    watch(t, &t->out, APR_POLLIN);
    watch(t, &t->err, APR_POLLIN);
    mcpgw_log(MCPGW_LOG_INFO, "upstream %s: started %s (pid %d)", t->cfg->name, t->cfg->command,
              (int)t->pid);
    return APR_SUCCESS;
}

static apr_status_t release(void *data)
{
    stdio_stop(data);
    return APR_SUCCESS;
}

mcpgw_transport_t *mcpgw_transport_stdio_create(apr_pool_t *pool, mcpgw_upstream_t *u,
                                                const mcpgw_upstream_config_t *cfg,
                                                const mcpgw_loop_t *loop)
{
    stdio_transport_t *t = apr_pcalloc(pool, sizeof(*t));
    t->base.start = stdio_start;
    t->base.send = stdio_send;
    t->base.stop = stdio_stop;
    t->pool = pool;
    t->upstream = u;
    t->cfg = cfg;
    t->name = apr_pstrdup(pool, cfg->name);
    t->loop = loop;
    t->in.fd = t->out.fd = t->err.fd = -1;
    t->in.owner = t->out.owner = t->err.owner = t;
    t->in.pollable.on_ready = on_stdin_ready;
    t->out.pollable.on_ready = on_stdout_ready;
    t->err.pollable.on_ready = on_stderr_ready;
    apr_pool_cleanup_register(pool, t, release, apr_pool_cleanup_null);
    return &t->base;
}
