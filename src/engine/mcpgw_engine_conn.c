/* One child connection in the engine: nonblocking reads into a frame decoder, writes
 * queued when the socket is full. A connection carries requests one after another; a GET
 * stream keeps it until either side leaves. */
#include "mcpgw_engine_internal.h"
#include "mcpgw_log.h"

#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>

/* A GET stream whose child stops reading is cut off past this much unsent data, so one
 * stuck client cannot grow the engine without bound. */
#define MAX_PENDING_OUTPUT (8u * 1024u * 1024u)

static void update_poll(engine_conn_t *conn)
{
    apr_int16_t want = APR_POLLIN | (conn->out_len > conn->out_off ? APR_POLLOUT : 0);
    if (conn->closed || conn->pfd.reqevents == want)
        return;
    apr_pollset_remove(conn->engine->pollset, &conn->pfd);
    conn->pfd.reqevents = want;
    apr_pollset_add(conn->engine->pollset, &conn->pfd);
}

void engine_conn_accept(mcpgw_engine_t *engine)
{
    for (;;) {
        apr_pool_t *pool;
        apr_socket_t *sock;
        engine_conn_t *conn;
        apr_status_t rv;

        apr_pool_create(&pool, engine->pool);
        rv = apr_socket_accept(&sock, engine->listener, pool);
        if (rv != APR_SUCCESS) {
            apr_pool_destroy(pool);
            return; /* EAGAIN: drained */
        }
        apr_socket_opt_set(sock, APR_SO_NONBLOCK, 1);
        conn = apr_pcalloc(pool, sizeof(*conn));
        conn->pollable.on_ready = engine_conn_on_event;
        APR_RING_ELEM_INIT(conn, link);
        conn->engine = engine;
        conn->pool = pool;
        apr_pool_create(&conn->req_pool, pool);
        conn->sock = sock;
        mcpgw_ipc_decoder_init(&conn->in, 0);
        conn->pfd.desc_type = APR_POLL_SOCKET;
        conn->pfd.desc.s = sock;
        conn->pfd.reqevents = APR_POLLIN;
        conn->pfd.client_data = conn;
        if (apr_pollset_add(engine->pollset, &conn->pfd) != APR_SUCCESS) {
            mcpgw_log(MCPGW_LOG_WARNING, "engine: too many connections, refusing one");
            mcpgw_ipc_decoder_free(&conn->in);
            apr_socket_close(sock);
            apr_pool_destroy(pool);
            return;
        }
        engine->connections++;
    }
}

static void free_conn(void *data)
{
    engine_conn_t *conn = data;
    mcpgw_ipc_decoder_free(&conn->in);
    free(conn->out);
    apr_pool_destroy(conn->pool);
}

/* Freed once the loop has finished the current round: a ready event of this connection
 * may still wait in the batch, and callers up the stack may still look at conn->closed. */
static void destroy(engine_conn_t *conn)
{
    if (conn->destroyed)
        return;
    conn->destroyed = 1;
    mcpgw_engine_post(conn->engine, free_conn, conn);
}

void engine_conn_close(engine_conn_t *conn)
{
    if (conn->closed)
        return;
    conn->closed = 1;
    if (conn->state == CONN_STREAMING)
        APR_RING_REMOVE(conn, link);
    apr_pollset_remove(conn->engine->pollset, &conn->pfd);
    apr_socket_close(conn->sock);
    conn->engine->connections--;
    if (conn->state == CONN_BUSY) {
        /* Upstream replies still refer to this request: it is freed when they are in
         * (abandoning answers them, and the last answer releases the connection). */
        engine_request_abandon(conn);
        if (conn->admin_waiter || (conn->exchange && conn->exchange->pending > 0))
            return;
    }
    destroy(conn);
}

/* Called by the requests layer when an abandoned request's last reply is in. */
void engine_conn_release(engine_conn_t *conn)
{
    if (conn->closed)
        destroy(conn);
}

static int flush_output(engine_conn_t *conn)
{
    while (conn->out_off < conn->out_len) {
        apr_size_t n = conn->out_len - conn->out_off;
        apr_status_t rv = apr_socket_send(conn->sock, conn->out + conn->out_off, &n);
        conn->out_off += n;
        if (rv != APR_SUCCESS) {
            if (APR_STATUS_IS_EAGAIN(rv))
                break;
            return -1;
        }
    }
    if (conn->out_off == conn->out_len)
        conn->out_off = conn->out_len = 0;
    update_poll(conn);
    return 0;
}

static void queue_bytes(engine_conn_t *conn, const void *data, apr_size_t len)
{
    if (conn->out_off && conn->out_off == conn->out_len)
        conn->out_off = conn->out_len = 0;
    if (conn->out_cap - conn->out_len < len) {
        apr_size_t cap = conn->out_cap ? conn->out_cap : 4096;
        if (conn->out_off) { /* compact before growing */
            memmove(conn->out, conn->out + conn->out_off, conn->out_len - conn->out_off);
            conn->out_len -= conn->out_off;
            conn->out_off = 0;
        }
        while (cap - conn->out_len < len)
            cap *= 2;
        if (cap != conn->out_cap) {
            conn->out = realloc(conn->out, cap);
            if (!conn->out)
                abort();
            conn->out_cap = cap;
        }
    }
    memcpy(conn->out + conn->out_len, data, len);
    conn->out_len += len;
}

void engine_conn_send(engine_conn_t *conn, char type, const char *payload, apr_size_t len)
{
    unsigned char header[MCPGW_IPC_HEADER_LEN];
    if (conn->closed)
        return;
    mcpgw_ipc_header_encode(header, type, len);
    queue_bytes(conn, header, sizeof(header));
    if (len)
        queue_bytes(conn, payload, len);
    if (conn->state == CONN_STREAMING && conn->out_len - conn->out_off > MAX_PENDING_OUTPUT) {
        mcpgw_log(MCPGW_LOG_WARNING, "engine: a stream's reader fell too far behind; closing it");
        engine_conn_close(conn);
        return;
    }
    if (!conn->corked && flush_output(conn) < 0)
        engine_conn_close(conn);
}

void engine_conn_cork(engine_conn_t *conn)
{
    conn->corked = 1;
}

void engine_conn_uncork(engine_conn_t *conn)
{
    conn->corked = 0;
    if (!conn->closed && flush_output(conn) < 0)
        engine_conn_close(conn);
}

void engine_conn_send_head(engine_conn_t *conn, int status, const char *const *headers)
{
    /* {"status":N,"headers":{"K":"V",...}}: built by hand, the values are ours and safe
     * (status codes, media types, hex session ids). */
    char buf[1024];
    apr_size_t off = (apr_size_t)apr_snprintf(buf, sizeof(buf), "{\"status\":%d,\"headers\":{",
                                              status);
    for (int i = 0; headers && headers[i] && headers[i + 1]; i += 2)
        off += (apr_size_t)apr_snprintf(buf + off, sizeof(buf) - off, "%s\"%s\":\"%s\"",
                                        i ? "," : "", headers[i], headers[i + 1]);
    off += (apr_size_t)apr_snprintf(buf + off, sizeof(buf) - off, "}}");
    engine_conn_send(conn, MCPGW_IPC_HEAD, buf, off);
}

void engine_conn_finish(engine_conn_t *conn)
{
    if (conn->state == CONN_STREAMING)
        APR_RING_REMOVE(conn, link);
    conn->state = CONN_IDLE;
    conn->exchange = NULL;
    conn->session = NULL;
    conn->events_started = 0;
    conn->admin_waiter = 0;
    engine_conn_send(conn, MCPGW_IPC_END, NULL, 0);
    if (!conn->closed)
        apr_pool_clear(conn->req_pool);
}

static void read_input(engine_conn_t *conn)
{
    for (;;) {
        apr_size_t avail;
        /* Small reads: a thousand idle streams must not each pin a large buffer. The
         * buffer grows only when one frame needs more. */
        char *space = mcpgw_ipc_decoder_space(&conn->in, 2048, &avail);
        apr_size_t n = avail;
        apr_status_t rv = apr_socket_recv(conn->sock, space, &n);
        if (n > 0)
            mcpgw_ipc_decoder_commit(&conn->in, n);
        if (rv != APR_SUCCESS) {
            if (APR_STATUS_IS_EAGAIN(rv))
                break;
            engine_conn_close(conn); /* EOF or error: the child is gone */
            return;
        }
        if (n < avail)
            break;
    }
    for (;;) {
        char type;
        const char *payload;
        apr_size_t len;
        int got = mcpgw_ipc_decoder_next(&conn->in, &type, &payload, &len);
        if (got == 0)
            return;
        if (got < 0 || type != MCPGW_IPC_REQUEST || conn->state != CONN_IDLE) {
            /* A child never sends anything else, nor a second request before END. */
            mcpgw_log(MCPGW_LOG_WARNING, "engine: protocol error from a child; closing");
            engine_conn_close(conn);
            return;
        }
        engine_request_handle(conn, payload, len);
        if (conn->closed)
            return;
    }
}

void engine_conn_on_event(mcpgw_pollable_t *self, apr_int16_t events)
{
    engine_conn_t *conn = (engine_conn_t *)self;
    if (conn->closed)
        return;
    if (events & APR_POLLOUT) {
        if (flush_output(conn) < 0) {
            engine_conn_close(conn);
            return;
        }
    }
    if (events & (APR_POLLIN | APR_POLLHUP | APR_POLLERR))
        read_input(conn);
}
