#include "mcpgw_ipc_client.h"

#include <apr_strings.h>
#include <stdlib.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

static void destroy(mcpgw_ipc_client_t *c)
{
    if (c->fd >= 0)
        close(c->fd);
    mcpgw_ipc_decoder_free(&c->in);
    free(c);
}

/* The calling thread's idle connection, if any. A thread-specific key rather than a
 * __thread variable: its destructor closes the connection when httpd ends the thread. */
static pthread_key_t idle_key;
static pthread_once_t idle_key_once = PTHREAD_ONCE_INIT;

static void destroy_idle(void *c)
{
    destroy(c);
}

static void make_idle_key(void)
{
    pthread_key_create(&idle_key, destroy_idle);
}

static mcpgw_ipc_client_t *take_idle(void)
{
    mcpgw_ipc_client_t *c;
    pthread_once(&idle_key_once, make_idle_key);
    c = pthread_getspecific(idle_key);
    pthread_setspecific(idle_key, NULL);
    return c;
}

static apr_status_t release(void *data)
{
    mcpgw_ipc_client_t *c = data;
    /* Only a connection with nothing half-read can carry the next request. */
    pthread_once(&idle_key_once, make_idle_key);
    if (c->reusable && c->in.len == c->in.consumed && !pthread_getspecific(idle_key)) {
        c->reusable = 0;
        pthread_setspecific(idle_key, c);
        return APR_SUCCESS;
    }
    destroy(c);
    return APR_SUCCESS;
}

/* An idle connection never has anything to read: readable means the engine closed it
 * (it was restarted), so it must not be used. */
static int still_open(int fd)
{
    struct pollfd p = { fd, POLLIN, 0 };
    return poll(&p, 1, 0) == 0;
}

static apr_status_t connect_new(const char *socket_path, mcpgw_ipc_client_t **out)
{
    struct sockaddr_un addr;
    mcpgw_ipc_client_t *c = calloc(1, sizeof(*c));
    if (!c)
        return APR_ENOMEM;
    memset(&addr, 0, sizeof(addr));
    addr.sun_family = AF_UNIX;
    apr_cpystrn(addr.sun_path, socket_path, sizeof(addr.sun_path));
    mcpgw_ipc_decoder_init(&c->in, 0);
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        apr_status_t rv = APR_FROM_OS_ERROR(errno);
        destroy(c);
        return rv;
    }
    *out = c;
    return APR_SUCCESS;
}

apr_status_t mcpgw_ipc_client_acquire(apr_pool_t *pool, const char *socket_path,
                                      mcpgw_ipc_client_t **out)
{
    mcpgw_ipc_client_t *c = take_idle();
    apr_status_t rv;
    if (c && !still_open(c->fd)) {
        destroy(c);
        c = NULL;
    }
    if (!c && (rv = connect_new(socket_path, &c)) != APR_SUCCESS)
        return rv;
    apr_pool_cleanup_register(pool, c, release, apr_pool_cleanup_null);
    *out = c;
    return APR_SUCCESS;
}

apr_status_t mcpgw_ipc_client_send(mcpgw_ipc_client_t *c, char type, const char *a,
                                   apr_size_t alen, const char *b, apr_size_t blen)
{
    unsigned char header[MCPGW_IPC_HEADER_LEN];
    struct iovec iov[3];
    int n = 0;

    mcpgw_ipc_header_encode(header, type, alen + blen);
    iov[n].iov_base = header;
    iov[n++].iov_len = sizeof(header);
    if (alen) {
        iov[n].iov_base = (void *)a;
        iov[n++].iov_len = alen;
    }
    if (blen) {
        iov[n].iov_base = (void *)b;
        iov[n++].iov_len = blen;
    }
    while (n > 0) {
        ssize_t w = writev(c->fd, iov, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return APR_FROM_OS_ERROR(errno);
        }
        while (n > 0 && (size_t)w >= iov[0].iov_len) {
            w -= (ssize_t)iov[0].iov_len;
            memmove(iov, iov + 1, sizeof(iov[0]) * (size_t)(--n));
        }
        if (n > 0) {
            iov[0].iov_base = (char *)iov[0].iov_base + w;
            iov[0].iov_len -= (size_t)w;
        }
    }
    return APR_SUCCESS;
}

apr_status_t mcpgw_ipc_client_next(mcpgw_ipc_client_t *c, int timeout_ms, int watch_fd,
                                   int *client_event, char *type, const char **payload,
                                   apr_size_t *len)
{
    *client_event = 0;
    for (;;) {
        struct pollfd pfd[2];
        int got = mcpgw_ipc_decoder_next(&c->in, type, payload, len);
        int nfds = 1, r;
        apr_size_t avail;
        char *space;
        ssize_t n;

        if (got > 0)
            return APR_SUCCESS;
        if (got < 0)
            return APR_EGENERAL;
        pfd[0].fd = c->fd;
        pfd[0].events = POLLIN;
        if (watch_fd >= 0) {
            pfd[1].fd = watch_fd;
            pfd[1].events = POLLIN;
            nfds = 2;
        }
        r = poll(pfd, (nfds_t)nfds, timeout_ms);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return APR_FROM_OS_ERROR(errno);
        }
        if (r == 0)
            return APR_TIMEUP;
        if (nfds == 2 && pfd[1].revents) {
            *client_event = 1;
            return APR_EOF;
        }
        space = mcpgw_ipc_decoder_space(&c->in, 65536, &avail);
        n = read(c->fd, space, avail);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return APR_FROM_OS_ERROR(errno);
        }
        if (n == 0)
            return APR_EOF;
        mcpgw_ipc_decoder_commit(&c->in, (apr_size_t)n);
    }
}
