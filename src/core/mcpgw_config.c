#include "mcpgw_config.h"
#include "mcpgw_json.h"
#include "mcpgw_vkeys.h"

#include <apr_lib.h>
#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_TOOL_TIMEOUT     apr_time_from_sec(30)
#define DEFAULT_HEALTH_INTERVAL  apr_time_from_sec(10)
#define DEFAULT_HEALTH_TIMEOUT   apr_time_from_sec(5)
#define DEFAULT_HEALTH_FAILURES  5

static apr_status_t fail(apr_pool_t *pool, const char **error, const char *path, const char *what)
{
    *error = apr_pstrcat(pool, path, ": ", what, NULL);
    return APR_EINVAL;
}

const char *mcpgw_config_check_name(const char *name)
{
    if (!name || !*name)
        return "Invalid client name: name is required";
    for (const unsigned char *c = (const unsigned char *)name; *c; c++)
        if (*c > 127)
            return "Invalid client name: name must contain only ASCII characters";
    if (strchr(name, '-'))
        return "Invalid client name: name cannot contain hyphens";
    if (strpbrk(name, " \t\r\n"))
        return "Invalid client name: name cannot contain spaces";
    if (apr_isdigit(name[0]))
        return "Invalid client name: name cannot start with a number";
    return NULL;
}

apr_interval_time_t mcpgw_config_parse_duration(const char *text)
{
    char *end;
    double v;
    if (!text || !*text)
        return -1;
    v = strtod(text, &end);
    if (end == text || v < 0)
        return -1;
    if (*end == '\0' || strcmp(end, "s") == 0)
        return (apr_interval_time_t)(v * APR_USEC_PER_SEC);
    if (strcmp(end, "ms") == 0)
        return (apr_interval_time_t)(v * 1000);
    if (strcmp(end, "m") == 0)
        return (apr_interval_time_t)(v * 60 * APR_USEC_PER_SEC);
    if (strcmp(end, "h") == 0)
        return (apr_interval_time_t)(v * 3600 * APR_USEC_PER_SEC);
    return -1;
}

int mcpgw_tool_filter_allows(const mcpgw_tool_filter_t *f, const char *tool)
{
    if (f->all)
        return 1;
    for (int i = 0; f->names && i < f->names->nelts; i++)
        if (strcmp(APR_ARRAY_IDX(f->names, i, const char *), tool) == 0)
            return 1;
    return 0;
}

/* A JSON string or a number of seconds, as a duration. */
static apr_status_t read_duration(apr_pool_t *pool, const json_t *obj, const char *key,
                                  const char *path, apr_interval_time_t dflt,
                                  apr_interval_time_t *out, const char **error)
{
    json_t *v = json_object_get(obj, key);
    *out = dflt;
    if (!v || json_is_null(v))
        return APR_SUCCESS;
    if (json_is_integer(v) && json_integer_value(v) > 0) {
        *out = apr_time_from_sec(json_integer_value(v));
        return APR_SUCCESS;
    }
    if (json_is_string(v) && (*out = mcpgw_config_parse_duration(json_string_value(v))) > 0)
        return APR_SUCCESS;
    return fail(pool, error, apr_pstrcat(pool, path, ".", key, NULL),
                "must be a duration such as \"10s\" or \"500ms\"");
}

static apr_status_t read_strings(apr_pool_t *pool, const json_t *arr, const char *path,
                                 apr_array_header_t **out, const char **error)
{
    size_t i;
    json_t *v;
    *out = apr_array_make(pool, 4, sizeof(const char *));
    if (!arr || json_is_null(arr))
        return APR_SUCCESS;
    if (!json_is_array(arr))
        return fail(pool, error, path, "must be an array of strings");
    json_array_foreach(arr, i, v) {
        if (!json_is_string(v))
            return fail(pool, error, apr_psprintf(pool, "%s[%lu]", path, (unsigned long)i),
                        "must be a string");
        APR_ARRAY_PUSH(*out, const char *) = apr_pstrdup(pool, json_string_value(v));
    }
    return APR_SUCCESS;
}

static apr_status_t read_filter(apr_pool_t *pool, const json_t *obj, const char *key,
                                const char *path, mcpgw_tool_filter_t *f, const char **error)
{
    apr_status_t rv = read_strings(pool, json_object_get(obj, key),
                                   apr_pstrcat(pool, path, ".", key, NULL), &f->names, error);
    if (rv != APR_SUCCESS)
        return rv;
    f->all = 0;
    for (int i = 0; i < f->names->nelts; i++)
        if (strcmp(APR_ARRAY_IDX(f->names, i, const char *), "*") == 0)
            f->all = 1;
    return APR_SUCCESS;
}

/* "env.NAME" is read from the environment; anything else is literal. */
static apr_status_t resolve(apr_pool_t *pool, const char *client, const char *value,
                            const char *path, const char **out, const char **error)
{
    const char *env;
    if (strncmp(value, "env.", 4) != 0) {
        *out = value;
        return APR_SUCCESS;
    }
    env = getenv(value + 4);
    if (!env)
        return fail(pool, error, path,
                    apr_psprintf(pool, "client '%s' needs environment variable %s, which is not set",
                                 client, value + 4));
    *out = apr_pstrdup(pool, env);
    return APR_SUCCESS;
}

static int valid_env_name(const char *name)
{
    if (!*name || apr_isdigit(*name))
        return 0;
    for (const char *c = name; *c; c++)
        if (!apr_isalnum(*c) && *c != '_')
            return 0;
    return 1;
}

apr_status_t mcpgw_config_parse_upstream(apr_pool_t *pool, const json_t *obj, const char *path,
                                         mcpgw_upstream_config_t **out, const char **error)
{
    mcpgw_upstream_config_t *u = apr_pcalloc(pool, sizeof(*u));
    const char *type, *why;
    apr_status_t rv;
    json_t *v;

    if (!json_is_object(obj))
        return fail(pool, error, path, "must be an object");
    u->name = mcpgw_json_string(obj, "name");
    if ((why = mcpgw_config_check_name(u->name)) != NULL)
        return fail(pool, error, apr_pstrcat(pool, path, ".name", NULL), why);
    u->name = apr_pstrdup(pool, u->name);
    if ((v = json_object_get(obj, "client_id")) && !json_is_null(v)) {
        if (!json_is_string(v) || !json_string_length(v))
            return fail(pool, error, apr_pstrcat(pool, path, ".client_id", NULL),
                        "must be a non-empty string");
        u->client_id = apr_pstrdup(pool, json_string_value(v));
    }
    type = mcpgw_json_string(obj, "connection_type");
    if (!type)
        return fail(pool, error, apr_pstrcat(pool, path, ".connection_type", NULL),
                    "is required: stdio, http or sse");
    if (strcasecmp(type, "stdio") == 0)
        u->type = MCPGW_CONN_STDIO;
    else if (strcasecmp(type, "http") == 0)
        u->type = MCPGW_CONN_HTTP;
    else if (strcasecmp(type, "sse") == 0)
        u->type = MCPGW_CONN_SSE;
    else
        return fail(pool, error, apr_pstrcat(pool, path, ".connection_type", NULL),
                    apr_psprintf(pool, "unknown connection type '%s' (stdio, http or sse)", type));

    if (u->type == MCPGW_CONN_STDIO) {
        const char *spath = apr_pstrcat(pool, path, ".stdio_config", NULL);
        json_t *sc = json_object_get(obj, "stdio_config");
        apr_array_header_t *envs;
        if (!json_is_object(sc))
            return fail(pool, error, spath, "is required for a stdio client");
        u->command = mcpgw_json_string(sc, "command");
        if (!u->command || !*u->command)
            return fail(pool, error, apr_pstrcat(pool, spath, ".command", NULL), "is required");
        u->command = apr_pstrdup(pool, u->command);
        if ((rv = read_strings(pool, json_object_get(sc, "args"),
                               apr_pstrcat(pool, spath, ".args", NULL), &u->args, error)))
            return rv;
        if ((rv = read_strings(pool, json_object_get(sc, "envs"),
                               apr_pstrcat(pool, spath, ".envs", NULL), &envs, error)))
            return rv;
        u->env_pass = apr_array_make(pool, 4, sizeof(const char *));
        u->env_set = apr_array_make(pool, 4, sizeof(const char *));
        for (int i = 0; i < envs->nelts; i++) {
            const char *e = APR_ARRAY_IDX(envs, i, const char *);
            const char *eq = strchr(e, '=');
            const char *name = eq ? apr_pstrmemdup(pool, e, (apr_size_t)(eq - e)) : e;
            if (!valid_env_name(name))
                return fail(pool, error, apr_psprintf(pool, "%s.envs[%d]", spath, i),
                            "must be a variable name or NAME=value");
            APR_ARRAY_PUSH(eq ? u->env_set : u->env_pass, const char *) = e;
        }
    }
    else {
        const char *cpath = apr_pstrcat(pool, path, ".connection_string", NULL);
        json_t *headers = json_object_get(obj, "headers");
        const char *key;
        u->url_source = mcpgw_json_string(obj, "connection_string");
        if (!u->url_source || !*u->url_source)
            return fail(pool, error, cpath, "is required for an http or sse client");
        u->url_source = apr_pstrdup(pool, u->url_source);
        if ((rv = resolve(pool, u->name, u->url_source, cpath, &u->url, error)))
            return rv;
        if (strncmp(u->url, "http://", 7) != 0 && strncmp(u->url, "https://", 8) != 0)
            return fail(pool, error, cpath, "must be an http:// or https:// URL");
        u->headers = apr_table_make(pool, 4);
        u->header_sources = apr_table_make(pool, 4);
        if (headers && !json_is_null(headers)) {
            if (!json_is_object(headers))
                return fail(pool, error, apr_pstrcat(pool, path, ".headers", NULL),
                            "must be an object of strings");
            json_object_foreach((json_t *)headers, key, v) {
                const char *hpath = apr_pstrcat(pool, path, ".headers.", key, NULL);
                const char *value;
                if (!json_is_string(v))
                    return fail(pool, error, hpath, "must be a string");
                if ((rv = resolve(pool, u->name, json_string_value(v), hpath, &value, error)))
                    return rv;
                apr_table_set(u->headers, key, value);
                apr_table_set(u->header_sources, key, json_string_value(v));
            }
        }
    }

    if ((rv = read_filter(pool, obj, "tools_to_execute", path, &u->tools_to_execute, error)))
        return rv;
    if ((rv = read_filter(pool, obj, "tools_to_auto_execute", path, &u->tools_to_auto_execute,
                          error)))
        return rv;
    /* Auto-execution only makes sense for tools that may execute at all. */
    if (u->tools_to_auto_execute.all && !u->tools_to_execute.all)
        return fail(pool, error, apr_pstrcat(pool, path, ".tools_to_auto_execute", NULL),
                    "\"*\" requires tools_to_execute to be \"*\" too");
    for (int i = 0; !u->tools_to_execute.all && i < u->tools_to_auto_execute.names->nelts; i++) {
        const char *t = APR_ARRAY_IDX(u->tools_to_auto_execute.names, i, const char *);
        if (!mcpgw_tool_filter_allows(&u->tools_to_execute, t))
            return fail(pool, error,
                        apr_psprintf(pool, "%s.tools_to_auto_execute[%d]", path, i),
                        apr_psprintf(pool, "tool '%s' is not in tools_to_execute", t));
    }
    *out = u;
    return APR_SUCCESS;
}

apr_status_t mcpgw_config_parse(apr_pool_t *pool, const json_t *root,
                                mcpgw_gateway_config_t **out, const char **error)
{
    mcpgw_gateway_config_t *c = apr_pcalloc(pool, sizeof(*c));
    json_t *mcp, *clients, *v, *tm, *hm, *client;
    apr_status_t rv;
    size_t i;

    if (!json_is_object(root))
        return fail(pool, error, "$", "must be a JSON object");
    c->upstreams = apr_array_make(pool, 8, sizeof(mcpgw_upstream_config_t *));
    c->name_separator = "_";
    mcp = json_object_get(root, "mcp");
    if (mcp && !json_is_null(mcp) && !json_is_object(mcp))
        return fail(pool, error, "$.mcp", "must be an object");

    tm = json_object_get(mcp, "tool_manager_config");
    if ((rv = read_duration(pool, tm, "tool_execution_timeout", "$.mcp.tool_manager_config",
                            DEFAULT_TOOL_TIMEOUT, &c->tool_timeout, error)))
        return rv;
    hm = json_object_get(mcp, "health_monitor_config");
    if ((rv = read_duration(pool, hm, "check_interval", "$.mcp.health_monitor_config",
                            DEFAULT_HEALTH_INTERVAL, &c->health_interval, error)))
        return rv;
    if ((rv = read_duration(pool, hm, "check_timeout", "$.mcp.health_monitor_config",
                            DEFAULT_HEALTH_TIMEOUT, &c->health_timeout, error)))
        return rv;
    c->health_max_failures = DEFAULT_HEALTH_FAILURES;
    if ((v = json_object_get(hm, "max_consecutive_failures"))) {
        if (!json_is_integer(v) || json_integer_value(v) < 1)
            return fail(pool, error, "$.mcp.health_monitor_config.max_consecutive_failures",
                        "must be a positive integer");
        c->health_max_failures = (int)json_integer_value(v);
    }
    if ((v = json_object_get(mcp, "tool_name_separator"))) {
        const char *sep = json_string_value(v);
        if (!sep || !*sep || strlen(sep) > 4)
            return fail(pool, error, "$.mcp.tool_name_separator", "must be a short string");
        c->name_separator = apr_pstrdup(pool, sep);
    }
    c->auto_reconnect = json_is_true(json_object_get(hm, "auto_reconnect"));
    if ((rv = mcpgw_vkeys_parse_config(pool, root, &c->vkeys, error)) != APR_SUCCESS)
        return rv;
    v = json_object_get(json_object_get(root, "client"), "enforce_auth_on_inference");
    c->enforce_auth = json_is_true(v);

    clients = json_object_get(mcp, "client_configs");
    if (clients && !json_is_null(clients) && !json_is_array(clients))
        return fail(pool, error, "$.mcp.client_configs", "must be an array");
    json_array_foreach(clients, i, client) {
        mcpgw_upstream_config_t *u;
        const char *path = apr_psprintf(pool, "$.mcp.client_configs[%lu]", (unsigned long)i);
        if ((rv = mcpgw_config_parse_upstream(pool, client, path, &u, error)))
            return rv;
        for (int j = 0; j < c->upstreams->nelts; j++) {
            mcpgw_upstream_config_t *o = APR_ARRAY_IDX(c->upstreams, j, mcpgw_upstream_config_t *);
            if (strcmp(o->name, u->name) == 0)
                return fail(pool, error, apr_pstrcat(pool, path, ".name", NULL),
                            apr_psprintf(pool, "client name '%s' is already used", u->name));
            if (o->client_id && u->client_id && strcmp(o->client_id, u->client_id) == 0)
                return fail(pool, error, apr_pstrcat(pool, path, ".client_id", NULL),
                            apr_psprintf(pool, "client_id '%s' is already used", u->client_id));
        }
        if (!u->client_id)
            u->client_id = mcpgw_uuid_from_name(pool, u->name);
        APR_ARRAY_PUSH(c->upstreams, mcpgw_upstream_config_t *) = u;
    }
    *out = c;
    return APR_SUCCESS;
}

const char *mcpgw_redact(apr_pool_t *pool, const char *secret)
{
    size_t n = strlen(secret);
    if (n <= 8)
        return apr_pstrndup(pool, "********", n);
    return apr_pstrcat(pool, apr_pstrndup(pool, secret, 4), "************************",
                       secret + n - 4, NULL);
}

static const char *uuid_text(apr_pool_t *pool, unsigned char b[16])
{
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    return apr_psprintf(pool, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                        b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
                        b[12], b[13], b[14], b[15]);
}

const char *mcpgw_uuid4(apr_pool_t *pool)
{
    unsigned char b[16];
    if (apr_generate_random_bytes(b, sizeof(b)) != APR_SUCCESS)
        abort();
    return uuid_text(pool, b);
}

const char *mcpgw_uuid_from_name(apr_pool_t *pool, const char *name)
{
    /* Two independent 64-bit FNV-1a hashes of the name fill the 128 bits. */
    apr_uint64_t h1 = 14695981039346656037ULL, h2 = 1099511628211ULL ^ 0x9e3779b97f4a7c15ULL;
    unsigned char b[16];
    for (const unsigned char *c = (const unsigned char *)name; *c; c++) {
        h1 = (h1 ^ *c) * 1099511628211ULL;
        h2 = (h2 ^ *c) * 1099511628211ULL + 0x632be59bd9b4e019ULL;
    }
    for (int i = 0; i < 8; i++) {
        b[i] = (unsigned char)(h1 >> (8 * i));
        b[8 + i] = (unsigned char)(h2 >> (8 * i));
    }
    return uuid_text(pool, b);
}

static json_t *strings_json(const apr_array_header_t *a)
{
    json_t *arr = json_array();
    for (int i = 0; a && i < a->nelts; i++)
        json_array_append_new(arr, json_string(APR_ARRAY_IDX(a, i, const char *)));
    return arr;
}

/* A value that may be an env.NAME reference, shown the reference product's way. */
static json_t *secret_json(apr_pool_t *pool, const char *source, const char *resolved, int redact)
{
    if (!redact)
        return json_string(source);
    if (strncmp(source, "env.", 4) == 0)
        return json_pack("{s:s, s:s, s:b}", "value", mcpgw_redact(pool, resolved ? resolved : ""),
                         "env_var", source + 4, "from_env", 1);
    return json_string(mcpgw_redact(pool, source));
}

json_t *mcpgw_config_upstream_to_json(const mcpgw_upstream_config_t *u, int redact)
{
    static const char *const types[] = { "stdio", "http", "sse" };
    apr_pool_t *pool;
    json_t *o;
    apr_pool_create(&pool, NULL);
    o = json_pack("{s:s, s:s, s:s}", "client_id", u->client_id ? u->client_id : "", "name",
                  u->name, "connection_type", types[u->type]);
    if (u->type == MCPGW_CONN_STDIO) {
        json_t *envs = strings_json(u->env_pass);
        for (int i = 0; i < u->env_set->nelts; i++) {
            const char *e = APR_ARRAY_IDX(u->env_set, i, const char *);
            const char *eq = strchr(e, '=');
            json_array_append_new(envs, json_string(
                redact ? apr_pstrcat(pool, apr_pstrmemdup(pool, e, (apr_size_t)(eq - e + 1)),
                                     mcpgw_redact(pool, eq + 1), NULL)
                       : e));
        }
        json_object_set_new(o, "stdio_config", json_pack("{s:s, s:o, s:o}", "command", u->command,
                                                         "args", strings_json(u->args),
                                                         "envs", envs));
    }
    else {
        const apr_array_header_t *h = apr_table_elts(u->header_sources);
        json_t *headers = json_object();
        /* A URL can carry credentials: redacted when it came from the environment. */
        json_object_set_new(o, "connection_string",
                            strncmp(u->url_source, "env.", 4) == 0
                                ? secret_json(pool, u->url_source, u->url, redact)
                                : json_string(u->url_source));
        for (int i = 0; i < h->nelts; i++) {
            const apr_table_entry_t *e = &APR_ARRAY_IDX(h, i, apr_table_entry_t);
            json_object_set_new(headers, e->key,
                                secret_json(pool, e->val, apr_table_get(u->headers, e->key), redact));
        }
        json_object_set_new(o, "headers", headers);
    }
    json_object_set_new(o, "tools_to_execute",
                        u->tools_to_execute.all ? json_pack("[s]", "*")
                                                : strings_json(u->tools_to_execute.names));
    json_object_set_new(o, "tools_to_auto_execute",
                        u->tools_to_auto_execute.all ? json_pack("[s]", "*")
                                                     : strings_json(u->tools_to_auto_execute.names));
    apr_pool_destroy(pool);
    return o;
}
