#include "mcpgw_http_rules.h"

#include <apr_lib.h>
#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>

/* Compares the media range [r, r+rlen) with type, honouring wildcards (any, type-any). */
static int range_matches(const char *r, size_t rlen, const char *type)
{
    const char *slash = strchr(type, '/');
    size_t major = slash ? (size_t)(slash - type) : strlen(type);
    if (rlen == 3 && strncmp(r, "*/*", 3) == 0)
        return 1;
    if (rlen == major + 2 && strncasecmp(r, type, major) == 0 && r[major] == '/' &&
        r[major + 1] == '*')
        return 1;
    return rlen == strlen(type) && strncasecmp(r, type, rlen) == 0;
}

/* A "q=0" parameter means "not acceptable" even when the range matches. */
static int has_zero_quality(const char *params, const char *end)
{
    const char *q = params;
    while (q < end) {
        while (q < end && (*q == ';' || *q == ' ' || *q == '\t'))
            q++;
        if (end - q >= 2 && (q[0] == 'q' || q[0] == 'Q') && q[1] == '=') {
            double v = strtod(q + 2, NULL);
            return v <= 0.0;
        }
        while (q < end && *q != ';')
            q++;
    }
    return 0;
}

int mcpgw_http_accepts(const char *accept, const char *media_type)
{
    const char *p = accept;
    if (!accept || !*accept)
        return 1;
    while (*p) {
        const char *start, *end, *semi, *range_end;
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!*p)
            break;
        start = p;
        end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        semi = memchr(start, ';', (size_t)(end - start));
        range_end = semi ? semi : end;
        while (range_end > start && (range_end[-1] == ' ' || range_end[-1] == '\t'))
            range_end--;
        if (range_matches(start, (size_t)(range_end - start), media_type) &&
            !(semi && has_zero_quality(semi, end)))
            return 1;
        p = end;
    }
    return 0;
}

/* Copies the host of "scheme://host[:port][/...]" into buf (brackets taken off IPv6).
 * Returns 0 when the origin has no readable host or it does not fit. */
static int origin_host(const char *origin, char *buf, size_t size)
{
    const char *h = strstr(origin, "://");
    const char *end;
    if (!h)
        return 0;
    h += 3;
    if (*h == '[') {
        h++;
        end = strchr(h, ']');
        if (!end)
            return 0;
    }
    else
        end = h + strcspn(h, ":/");
    if (end <= h || (size_t)(end - h) >= size)
        return 0;
    memcpy(buf, h, (size_t)(end - h));
    buf[end - h] = '\0';
    return 1;
}

static int is_loopback_host(const char *host)
{
    return strcasecmp(host, "localhost") == 0 || strcmp(host, "127.0.0.1") == 0 ||
           strcmp(host, "::1") == 0;
}

int mcpgw_http_origin_allowed(const char *origin, const mcpgw_origin_policy_t *policy)
{
    char host[256];

    if (!origin)
        return 1; /* not a browser: DNS rebinding needs one */
    if (policy && policy->allowed_origins && policy->allowed_origins->nelts > 0) {
        for (int i = 0; i < policy->allowed_origins->nelts; i++) {
            const char *allowed = APR_ARRAY_IDX(policy->allowed_origins, i, const char *);
            if (strcmp(allowed, "*") == 0 || strcasecmp(allowed, origin) == 0)
                return 1;
        }
        return 0;
    }
    if (!origin_host(origin, host, sizeof(host)))
        return 0;
    if (is_loopback_host(host))
        return 1;
    for (int i = 0; policy && policy->own_hosts && i < policy->own_hosts->nelts; i++)
        if (strcasecmp(host, APR_ARRAY_IDX(policy->own_hosts, i, const char *)) == 0)
            return 1;
    return 0;
}

void mcpgw_http_rules_check(apr_pool_t *pool, const mcpgw_http_head_t *head,
                            const mcpgw_origin_policy_t *policy, mcpgw_http_verdict_t *out)
{
    const char *m = head->method;
    (void)pool;
    out->status = 0;
    out->reason = NULL;
    out->allow = NULL;

    if (!mcpgw_http_origin_allowed(head->origin, policy)) {
        out->status = 403;
        out->reason = "Forbidden: Origin not allowed";
        return;
    }
    if (strcmp(m, "POST") != 0 && strcmp(m, "GET") != 0 && strcmp(m, "DELETE") != 0) {
        out->status = 405;
        out->reason = "Method not allowed";
        out->allow = "GET, POST, DELETE";
        return;
    }
    if (strcmp(m, "POST") == 0) {
        if (!head->content_type ||
            strncasecmp(head->content_type, "application/json", 16) != 0 ||
            (head->content_type[16] && head->content_type[16] != ';' &&
             head->content_type[16] != ' ')) {
            out->status = 415;
            out->reason = "Unsupported Media Type: Content-Type must be application/json";
            return;
        }
        if (!mcpgw_http_accepts(head->accept, "application/json") ||
            !mcpgw_http_accepts(head->accept, "text/event-stream")) {
            out->status = 406;
            out->reason = "Not Acceptable: Client must accept both application/json and "
                          "text/event-stream";
            return;
        }
    }
    else if (strcmp(m, "GET") == 0) {
        if (!mcpgw_http_accepts(head->accept, "text/event-stream")) {
            out->status = 406;
            out->reason = "Not Acceptable: Client must accept text/event-stream";
            return;
        }
    }
}
