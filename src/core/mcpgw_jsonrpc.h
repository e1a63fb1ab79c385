/* JSON-RPC 2.0 message shapes: telling requests, notifications and responses apart, and
 * building replies. Nothing MCP-specific lives here. */
#ifndef MCPGW_JSONRPC_H
#define MCPGW_JSONRPC_H

#include <apr_pools.h>
#include <jansson.h>

#define MCPGW_JSONRPC_PARSE_ERROR      (-32700)
#define MCPGW_JSONRPC_INVALID_REQUEST  (-32600)
#define MCPGW_JSONRPC_METHOD_NOT_FOUND (-32601)
#define MCPGW_JSONRPC_INVALID_PARAMS   (-32602)
#define MCPGW_JSONRPC_INTERNAL_ERROR   (-32603)

/* Codes MCP (and the reference SDK's transport) add in the implementation-defined range. */
#define MCPGW_MCP_BAD_REQUEST          (-32000) /* transport-level refusal */
#define MCPGW_MCP_SESSION_NOT_FOUND    (-32001)
#define MCPGW_MCP_HEADER_MISMATCH      (-32020) /* 2026-07-28: headers disagree with body */
#define MCPGW_MCP_UNSUPPORTED_VERSION  (-32022) /* 2026-07-28 */

typedef enum {
    MCPGW_MSG_REQUEST,      /* method + id: needs a reply */
    MCPGW_MSG_NOTIFICATION, /* method, no id */
    MCPGW_MSG_RESPONSE,     /* result or error + id: a reply to something we sent */
    MCPGW_MSG_INVALID
} mcpgw_msg_kind_e;

typedef struct {
    mcpgw_msg_kind_e kind;
    json_t *message;    /* the whole object (borrowed) */
    json_t *id;         /* borrowed; NULL for notifications, json null if unreadable */
    const char *method; /* NULL for responses */
    json_t *params;     /* borrowed; NULL when absent */
    const char *invalid_reason; /* set when kind == MCPGW_MSG_INVALID */
} mcpgw_jsonrpc_msg_t;

/* Classifies one message. Never fails: a malformed message comes back as INVALID with
 * the id it carried when that id is usable, so the error reply can echo it. */
void mcpgw_jsonrpc_classify(json_t *message, mcpgw_jsonrpc_msg_t *out);

/* {"jsonrpc":"2.0","id":id,"result":result}; steals result. */
json_t *mcpgw_jsonrpc_result(json_t *id, json_t *result);

/* {"jsonrpc":"2.0","id":id|null,"error":{"code","message"[,"data"]}}; steals data. */
json_t *mcpgw_jsonrpc_error(json_t *id, int code, const char *message, json_t *data);

/* {"jsonrpc":"2.0","method":method[,"params":params]}; steals params. */
json_t *mcpgw_jsonrpc_notification(const char *method, json_t *params);

#endif
