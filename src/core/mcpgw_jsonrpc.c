#include "mcpgw_jsonrpc.h"
#include <string.h>

/* JSON-RPC ids are strings or integers. Numbers with fractions and null are allowed by
 * the letter of JSON-RPC 2.0 but MCP forbids null, so we only take strings and integers. */
static int id_is_valid(const json_t *id)
{
    return json_is_string(id) || json_is_integer(id);
}

static void invalid(mcpgw_jsonrpc_msg_t *out, const char *why)
{
    out->kind = MCPGW_MSG_INVALID;
    out->invalid_reason = why;
    if (out->id && !id_is_valid(out->id))
        out->id = NULL;
}

void mcpgw_jsonrpc_classify(json_t *message, mcpgw_jsonrpc_msg_t *out)
{
    json_t *version, *method, *result, *error;

    out->kind = MCPGW_MSG_INVALID;
    out->message = message;
    out->id = NULL;
    out->method = NULL;
    out->params = NULL;
    out->invalid_reason = NULL;

    if (!json_is_object(message)) {
        invalid(out, "message is not a JSON object");
        return;
    }
    out->id = json_object_get(message, "id");
    version = json_object_get(message, "jsonrpc");
    if (!json_is_string(version) || strcmp(json_string_value(version), "2.0") != 0) {
        invalid(out, "\"jsonrpc\" must be \"2.0\"");
        return;
    }
    method = json_object_get(message, "method");
    result = json_object_get(message, "result");
    error = json_object_get(message, "error");

    if (method) {
        if (!json_is_string(method) || json_string_length(method) == 0) {
            invalid(out, "\"method\" must be a non-empty string");
            return;
        }
        out->method = json_string_value(method);
        out->params = json_object_get(message, "params");
        if (out->params && !json_is_object(out->params) && !json_is_array(out->params)) {
            invalid(out, "\"params\" must be an object or an array");
            return;
        }
        if (!out->id) {
            out->kind = MCPGW_MSG_NOTIFICATION;
            return;
        }
        if (!id_is_valid(out->id)) {
            invalid(out, "\"id\" must be a string or an integer");
            return;
        }
        out->kind = MCPGW_MSG_REQUEST;
        return;
    }
    if ((result != NULL) == (error != NULL)) {
        invalid(out, "a message needs \"method\", or exactly one of \"result\" and \"error\"");
        return;
    }
    if (!out->id || !(id_is_valid(out->id) || (error && json_is_null(out->id)))) {
        invalid(out, "a response needs a string or integer \"id\"");
        return;
    }
    if (error && !json_is_object(error)) {
        invalid(out, "\"error\" must be an object");
        return;
    }
    out->kind = MCPGW_MSG_RESPONSE;
}

json_t *mcpgw_jsonrpc_result(json_t *id, json_t *result)
{
    return json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", id ? id : json_null(),
                     "result", result ? result : json_object());
}

json_t *mcpgw_jsonrpc_error(json_t *id, int code, const char *message, json_t *data)
{
    json_t *err = json_pack("{s:i, s:s}", "code", code, "message", message);
    if (data)
        json_object_set_new(err, "data", data);
    return json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", id ? id : json_null(),
                     "error", err);
}

json_t *mcpgw_jsonrpc_notification(const char *method, json_t *params)
{
    json_t *n = json_pack("{s:s, s:s}", "jsonrpc", "2.0", "method", method);
    if (params)
        json_object_set_new(n, "params", params);
    return n;
}
