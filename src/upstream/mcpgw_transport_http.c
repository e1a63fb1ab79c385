/* HTTP transports over libcurl: Streamable HTTP ("http") and the legacy HTTP+SSE
 * transport ("sse").
 *
 * Streamable HTTP: every message is a POST (Accept: application/json, text/event-stream);
 * the answer is JSON or an SSE stream whose events are delivered as they arrive (so
 * progress flows). Mcp-Session-Id and MCP-Protocol-Version are kept and sent; a 404 for a
 * forgotten session leads to one re-initialize and one retry. Once initialized, the
 * server's GET stream is opened if it offers one.
 *
 * Legacy SSE: a GET stream whose "endpoint" event names where to POST; responses come
 * back on the stream.
 *
 * POSTs run on the engine's worker threads, streams on a thread of their own; everything
 * they receive is handed to the loop thread. They share a refcounted link with the
 * transport, so a request still in flight when the transport stops finds it gone. */
#include "mcpgw_upstream.h"
#include "mcpgw_json.h"
#include "mcpgw_log.h"
#include "mcpgw_sse.h"

#include <apr_atomic.h>
#include <apr_strings.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RESPONSE (64u * 1024u * 1024u)

/* State shared by the loop thread and every job of one connection. */
typedef struct {
    apr_uint32_t refs;
    volatile apr_uint32_t alive;
    mcpgw_upstream_t *upstream;   /* only touched on the loop thread, and only while alive */
    const mcpgw_loop_t *loop;
    int legacy_sse;
    char *name;                   /* client name, for logs */
    char *url;                    /* connection_string (resolved) */
    struct curl_slist *headers;   /* configured headers (values are secrets: never logged) */
    apr_pool_t *pool;             /* the link's own (mutex, cond) */
    apr_thread_mutex_t *lock;
    apr_thread_cond_t *endpoint_ready;
    char *session_id;             /* guarded by lock */
    char *protocol_version;       /* guarded by lock */
    char *init_body;              /* the initialize request, for re-initializing */
    char *endpoint;               /* legacy SSE: where to POST, guarded by lock */
    long post_timeout_ms;         /* a POST gives up a little after the call's own timeout,
                                     so a hung server cannot hold a worker thread for ever */
    int stream_failed;            /* legacy SSE: the stream ended before an endpoint */
} link_t;

typedef struct {
    mcpgw_transport_t base;
    link_t *link;
    int stopped;
} http_transport_t;

static void link_unref(link_t *l)
{
    if (apr_atomic_dec32(&l->refs) == 0) {
        curl_slist_free_all(l->headers);
        free(l->name);
        free(l->url);
        free(l->session_id);
        free(l->protocol_version);
        free(l->init_body);
        free(l->endpoint);
        apr_pool_destroy(l->pool);
        free(l);
    }
}

static char *locked_copy(link_t *l, char *const *field)
{
    char *v;
    apr_thread_mutex_lock(l->lock);
    v = *field ? strdup(*field) : NULL;
    apr_thread_mutex_unlock(l->lock);
    return v;
}

static void locked_set(link_t *l, char **field, const char *value)
{
    apr_thread_mutex_lock(l->lock);
    free(*field);
    *field = value ? strdup(value) : NULL;
    apr_thread_mutex_unlock(l->lock);
}

/* ---- handing results to the loop ----------------------------------------------------- */

typedef struct {
    link_t *link;
    char *text;      /* a message, or the reason when closed */
    size_t len;
    int closed;
} delivery_t;

static void deliver_on_loop(void *arg)
{
    delivery_t *d = arg;
    if (apr_atomic_read32(&d->link->alive)) {
        if (d->closed)
            mcpgw_upstream_on_closed(d->link->upstream, d->text);
        else
            mcpgw_upstream_on_message(d->link->upstream, d->text, d->len);
    }
    link_unref(d->link);
    free(d->text);
    free(d);
}

static void deliver(link_t *l, const char *text, size_t len, int closed)
{
    delivery_t *d = malloc(sizeof(*d));
    if (!d || !(d->text = malloc(len + 1)))
        abort();
    memcpy(d->text, text, len);
    d->text[len] = '\0';
    d->len = len;
    d->closed = closed;
    d->link = l;
    apr_atomic_inc32(&l->refs);
    l->loop->post(l->loop->loop_baton, deliver_on_loop, d);
}

/* A request that never reached the server still gets an answer, so its caller is not
 * left waiting for the timeout. */
static void deliver_error_for(link_t *l, const char *body, const char *why)
{
    json_t *msg = json_loads(body, 0, NULL), *id = json_object_get(msg, "id");
    if (json_is_integer(id)) {
        char *text;
        json_t *err = json_pack("{s:s, s:O, s:{s:i, s:s}}", "jsonrpc", "2.0", "id", id, "error",
                                "code", -32002, "message", why);
        text = json_dumps(err, JSON_COMPACT);
        deliver(l, text, strlen(text), 0);
        free(text);
        json_decref(err);
    }
    json_decref(msg);
}

/* ---- one HTTP exchange --------------------------------------------------------------- */

typedef struct {
    link_t *link;
    mcpgw_sse_parser_t *sse;
    apr_pool_t *pool;
    char *body;          /* non-SSE response body */
    size_t len, cap;
    long status;
    int is_sse;
    int headers_done;
    char *session_id;    /* Mcp-Session-Id of the response */
    int deliver_events;  /* pass SSE "message" events to the loop */
    int keep_session;    /* an initialize: its Mcp-Session-Id becomes the connection's */
} response_t;

static void on_sse_event(const mcpgw_sse_event_t *ev, void *baton)
{
    response_t *r = baton;
    link_t *l = r->link;
    if (l->legacy_sse && strcmp(ev->event, "endpoint") == 0) {
        /* Relative to the stream's URL (usually "/message?sessionId=..."). */
        CURLU *u = curl_url();
        char *full = NULL;
        curl_url_set(u, CURLUPART_URL, l->url, 0);
        if (curl_url_set(u, CURLUPART_URL, ev->data, 0) == CURLUE_OK &&
            curl_url_get(u, CURLUPART_URL, &full, 0) == CURLUE_OK) {
            apr_thread_mutex_lock(l->lock);
            free(l->endpoint);
            l->endpoint = strdup(full);
            apr_thread_cond_broadcast(l->endpoint_ready);
            apr_thread_mutex_unlock(l->lock);
        }
        curl_free(full);
        curl_url_cleanup(u);
        return;
    }
    if (r->deliver_events && strcmp(ev->event, "message") == 0 && ev->data_len)
        deliver(l, ev->data, ev->data_len, 0);
}

static size_t on_header(char *buf, size_t size, size_t n, void *baton)
{
    response_t *r = baton;
    size_t len = size * n;
    if (len > 15 && strncasecmp(buf, "mcp-session-id:", 15) == 0) {
        const char *v = buf + 15;
        size_t vlen = len - 15;
        while (vlen && (*v == ' ' || *v == '\t'))
            v++, vlen--;
        while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
            vlen--;
        r->session_id = apr_pstrmemdup(r->pool, v, vlen);
        /* At once, before any event of the body is delivered: the loop answers the
         * initialize result with requests that must already carry this session. */
        if (r->keep_session)
            locked_set(r->link, &r->link->session_id, r->session_id);
    }
    else if (len > 13 && strncasecmp(buf, "content-type:", 13) == 0)
        r->is_sse = memmem(buf, len, "text/event-stream", 17) != NULL; /* buf is not NUL-ended */
    return len;
}

static size_t on_body(char *buf, size_t size, size_t n, void *baton)
{
    response_t *r = baton;
    size_t len = size * n;
    if (!apr_atomic_read32(&r->link->alive))
        return 0; /* abort: the transport stopped */
    if (r->is_sse) {
        if (!r->sse)
            r->sse = mcpgw_sse_parser_create(r->pool, MAX_RESPONSE, on_sse_event, r);
        mcpgw_sse_parser_feed(r->sse, buf, len);
        return len;
    }
    if (r->len + len > MAX_RESPONSE)
        return 0;
    if (r->len + len + 1 > r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8192;
        while (cap < r->len + len + 1)
            cap *= 2;
        r->body = realloc(r->body, cap);
        if (!r->body)
            abort();
        r->cap = cap;
    }
    memcpy(r->body + r->len, buf, len);
    r->len += len;
    return len;
}

static int on_progress_check(void *baton, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    link_t *l = baton;
    return apr_atomic_read32(&l->alive) ? 0 : 1;
}

/* One easy handle per worker thread, reset between requests: the reset keeps its
 * connection cache, so calls to an upstream reuse a warm keep-alive connection instead of
 * paying a TCP handshake each. (Handles are never shared across threads.) */
static __thread CURL *thread_handle;

/* Performs one request. method "POST" with body, or "GET" for a stream. */
static CURLcode perform(link_t *l, const char *url, const char *method, const char *body,
                        int with_session, response_t *r, char *err, size_t err_size)
{
    int streaming = strcmp(method, "GET") == 0;
    CURL *c;
    struct curl_slist *h = NULL, *it;
    char *sid = with_session ? locked_copy(l, &l->session_id) : NULL;
    char *ver = locked_copy(l, &l->protocol_version);
    CURLcode rc;

    for (it = l->headers; it; it = it->next)
        h = curl_slist_append(h, it->data);
    if (strcmp(method, "POST") == 0) {
        h = curl_slist_append(h, "Content-Type: application/json");
        h = curl_slist_append(h, "Accept: application/json, text/event-stream");
    }
    else
        h = curl_slist_append(h, "Accept: text/event-stream");
    if (sid) {
        char line[512];
        snprintf(line, sizeof(line), "Mcp-Session-Id: %s", sid);
        h = curl_slist_append(h, line);
    }
    if (ver && !l->legacy_sse) {
        char line[128];
        snprintf(line, sizeof(line), "MCP-Protocol-Version: %s", ver);
        h = curl_slist_append(h, line);
    }
    err[0] = '\0';
    /* A stream thread lives long and alone: a handle of its own. */
    if (streaming)
        c = curl_easy_init();
    else {
        if (!thread_handle)
            thread_handle = curl_easy_init();
        else
            curl_easy_reset(thread_handle);
        c = thread_handle;
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress_check);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, l);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    if (!streaming && l->post_timeout_ms > 0)
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, l->post_timeout_ms);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    if (streaming)
        curl_easy_cleanup(c);
    curl_slist_free_all(h);
    free(sid);
    free(ver);
    if (rc != CURLE_OK && !err[0])
        snprintf(err, err_size, "%s", curl_easy_strerror(rc));
    return rc;
}

static void response_init(response_t *r, link_t *l, apr_pool_t *pool)
{
    memset(r, 0, sizeof(*r));
    r->link = l;
    r->pool = pool;
    r->deliver_events = 1;
}

/* ---- POST jobs ----------------------------------------------------------------------- */

typedef struct {
    link_t *link;
    char *body;
    int is_initialize;
} post_job_t;

/* The server forgot our session (404): initialize again, once, on this thread. */
static int reinitialize(link_t *l, apr_pool_t *pool)
{
    response_t r;
    char err[CURL_ERROR_SIZE];
    static const char initialized[] = "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}";
    char *init = locked_copy(l, &l->init_body);
    int ok;
    if (!init)
        return 0;
    response_init(&r, l, pool);
    r.deliver_events = 0; /* its answer is not for anyone waiting */
    r.keep_session = 1;
    ok = perform(l, l->url, "POST", init, 0, &r, err, sizeof(err)) == CURLE_OK &&
         r.status / 100 == 2 && r.session_id;
    free(r.body);
    free(init);
    if (!ok)
        return 0;
    mcpgw_log(MCPGW_LOG_NOTICE, "upstream %s: the server forgot our session; re-initialized",
              l->name);
    response_init(&r, l, pool);
    perform(l, l->url, "POST", initialized, 1, &r, err, sizeof(err));
    free(r.body);
    return 1;
}

static void *APR_THREAD_FUNC post_job(apr_thread_t *thread, void *arg)
{
    post_job_t *job = arg;
    link_t *l = job->link;
    apr_pool_t *pool;
    response_t r;
    char err[CURL_ERROR_SIZE];
    char *url;
    CURLcode rc;

    apr_pool_create(&pool, NULL);
    if (l->legacy_sse) {
        /* Wait (bounded) for the stream to say where to post. */
        apr_thread_mutex_lock(l->lock);
        for (int i = 0; !l->endpoint && !l->stream_failed && apr_atomic_read32(&l->alive) && i < 100; i++)
            apr_thread_cond_timedwait(l->endpoint_ready, l->lock, apr_time_from_msec(100));
        url = l->endpoint ? strdup(l->endpoint) : NULL;
        apr_thread_mutex_unlock(l->lock);
        if (!url) {
            deliver_error_for(l, job->body, "the SSE server never sent its endpoint");
            goto leave;
        }
    }
    else
        url = strdup(l->url);

    response_init(&r, l, pool);
    r.keep_session = job->is_initialize;
    rc = perform(l, url, "POST", job->body, !job->is_initialize, &r, err, sizeof(err));
    if (rc == CURLE_OK && r.status == 404 && !job->is_initialize && !l->legacy_sse &&
        reinitialize(l, pool)) {
        free(r.body);
        response_init(&r, l, pool);
        rc = perform(l, url, "POST", job->body, 1, &r, err, sizeof(err));
    }
    if (!apr_atomic_read32(&l->alive)) {
        free(r.body);
        free(url);
        goto leave;
    }
    if (rc != CURLE_OK)
        deliver_error_for(l, job->body, apr_psprintf(pool, "HTTP request failed: %s", err));
    else if (r.status / 100 != 2)
        deliver_error_for(l, job->body, apr_psprintf(pool, "HTTP status %ld from the server",
                                                    r.status));
    else {
        /* JSON bodies are messages; SSE events were delivered as they came. */
        if (!r.is_sse && r.len && !l->legacy_sse)
            deliver(l, r.body, r.len, 0);
    }
    free(r.body);
    free(url);
leave:
    apr_pool_destroy(pool);
    free(job->body);
    link_unref(l);
    free(job);
    return NULL;
}

static apr_status_t http_send(mcpgw_transport_t *base, const char *msg, apr_size_t len)
{
    http_transport_t *t = (http_transport_t *)base;
    post_job_t *job;
    if (t->stopped)
        return APR_EGENERAL;
    job = calloc(1, sizeof(*job));
    job->body = malloc(len + 1);
    memcpy(job->body, msg, len);
    job->body[len] = '\0';
    job->link = t->link;
    /* The initialize is remembered for re-initializing later. The first "method" of a
     * message the upstream layer built is the top-level one (params come after it), so a
     * tool argument that happens to say "initialize" is not mistaken for one. */
    const char *method = strstr(job->body, "\"method\":");
    if (method && strncmp(method + 9, "\"initialize\"", 12) == 0) {
        job->is_initialize = 1;
        locked_set(t->link, &t->link->init_body, job->body);
    }
    apr_atomic_inc32(&t->link->refs);
    if (apr_thread_pool_push(t->link->loop->workers, post_job, job, 0, NULL) != APR_SUCCESS) {
        link_unref(t->link);
        free(job->body);
        free(job);
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

/* ---- the GET stream ------------------------------------------------------------------ */

static void *stream_thread(void *arg)
{
    link_t *l = arg;
    apr_pool_t *pool;
    int attempts = 0;

    apr_pool_create(&pool, NULL);
    while (apr_atomic_read32(&l->alive)) {
        response_t r;
        char err[CURL_ERROR_SIZE];
        CURLcode rc;
        response_init(&r, l, pool);
        rc = perform(l, l->url, "GET", NULL, !l->legacy_sse, &r, err, sizeof(err));
        free(r.body);
        if (!apr_atomic_read32(&l->alive))
            break;
        if (l->legacy_sse) {
            /* The legacy transport lives and dies with its stream. */
            apr_thread_mutex_lock(l->lock);
            l->stream_failed = 1;
            apr_thread_cond_broadcast(l->endpoint_ready);
            apr_thread_mutex_unlock(l->lock);
            deliver(l, rc == CURLE_OK ? "the SSE stream ended" : err,
                    strlen(rc == CURLE_OK ? "the SSE stream ended" : err), 1);
            break;
        }
        /* Streamable HTTP: a server without a GET stream says 405 (or similar). */
        if (rc == CURLE_OK && (r.status == 405 || r.status == 404 || r.status / 100 == 4))
            break;
        if (++attempts > 5)
            break;
        apr_sleep(apr_time_from_sec(1));
        apr_pool_clear(pool);
    }
    apr_pool_destroy(pool);
    link_unref(l);
    return NULL;
}

/* A detached thread: it holds a reference to the link and frees it when it ends, so the
 * loop never waits for it. */
static apr_status_t start_stream(http_transport_t *t)
{
    pthread_t thread;
    pthread_attr_t attr;
    int rc;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    apr_atomic_inc32(&t->link->refs);
    rc = pthread_create(&thread, &attr, stream_thread, t->link);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        link_unref(t->link);
        return APR_FROM_OS_ERROR(rc);
    }
    return APR_SUCCESS;
}

static void http_negotiated(mcpgw_transport_t *base, const char *version)
{
    http_transport_t *t = (http_transport_t *)base;
    locked_set(t->link, &t->link->protocol_version, version);
    if (!t->link->legacy_sse)
        start_stream(t); /* server-initiated notifications (tools/list_changed) */
}

static apr_status_t http_start(mcpgw_transport_t *base, const char **why)
{
    http_transport_t *t = (http_transport_t *)base;
    if (t->link->legacy_sse && start_stream(t) != APR_SUCCESS) {
        *why = "cannot start the SSE stream thread";
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

static void http_stop(mcpgw_transport_t *base)
{
    http_transport_t *t = (http_transport_t *)base;
    if (t->stopped)
        return;
    t->stopped = 1;
    apr_atomic_set32(&t->link->alive, 0);
    apr_thread_mutex_lock(t->link->lock);
    apr_thread_cond_broadcast(t->link->endpoint_ready);
    apr_thread_mutex_unlock(t->link->lock);
    /* In-flight requests abort at their next progress check and drop the link. */
    link_unref(t->link);
}

static apr_status_t release(void *data)
{
    http_stop(data);
    return APR_SUCCESS;
}

static mcpgw_transport_t *create(apr_pool_t *pool, mcpgw_upstream_t *u,
                                 const mcpgw_upstream_config_t *cfg, const mcpgw_loop_t *loop,
                                 int legacy_sse)
{
    http_transport_t *t = apr_pcalloc(pool, sizeof(*t));
    link_t *l = calloc(1, sizeof(*l));
    const apr_array_header_t *h = apr_table_elts(cfg->headers);
    if (!l)
        abort();
    l->refs = 1;
    l->alive = 1;
    l->upstream = u;
    l->loop = loop;
    l->legacy_sse = legacy_sse;
    l->name = strdup(cfg->name);
    l->url = strdup(cfg->url);
    l->post_timeout_ms = (long)apr_time_as_msec(mcpgw_upstream_request_timeout(u)) + 5000;
    for (int i = 0; i < h->nelts; i++) {
        const apr_table_entry_t *e = &APR_ARRAY_IDX(h, i, apr_table_entry_t);
        char *line = malloc(strlen(e->key) + strlen(e->val) + 3);
        sprintf(line, "%s: %s", e->key, e->val);
        l->headers = curl_slist_append(l->headers, line);
        free(line);
    }
    apr_pool_create_unmanaged(&l->pool);
    apr_thread_mutex_create(&l->lock, APR_THREAD_MUTEX_DEFAULT, l->pool);
    apr_thread_cond_create(&l->endpoint_ready, l->pool);
    t->link = l;
    t->base.start = http_start;
    t->base.send = http_send;
    t->base.stop = http_stop;
    t->base.negotiated = http_negotiated;
    apr_pool_cleanup_register(pool, t, release, apr_pool_cleanup_null);
    return &t->base;
}

void mcpgw_transport_http_global_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

mcpgw_transport_t *mcpgw_transport_http_create(apr_pool_t *pool, mcpgw_upstream_t *u,
                                               const mcpgw_upstream_config_t *cfg,
                                               const mcpgw_loop_t *loop)
{
    return create(pool, u, cfg, loop, 0);
}

mcpgw_transport_t *mcpgw_transport_sse_create(apr_pool_t *pool, mcpgw_upstream_t *u,
                                              const mcpgw_upstream_config_t *cfg,
                                              const mcpgw_loop_t *loop)
{
    return create(pool, u, cfg, loop, 1);
}
