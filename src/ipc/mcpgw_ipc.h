/* Frames between httpd children and the engine over the UNIX socket.
 *
 *   [u32 big-endian payload length][u8 type][payload]
 *
 * A child sends one REQUEST; the engine answers with HEAD, any number of DATA frames (an
 * SSE stream is many) and END. When the answer cannot be given at once (a tool call), the
 * engine first sends ACCEPTED, so a child can tell a busy engine from a dead one without
 * waiting as long as the slowest tool. Closing the socket is how a child says its client
 * left; a connection may carry further requests after END. */
#ifndef MCPGW_IPC_H
#define MCPGW_IPC_H

#include <apr_pools.h>

#define MCPGW_IPC_HEADER_LEN 5
/* A frame larger than this is a protocol error: bodies are capped well below it. */
#define MCPGW_IPC_MAX_FRAME (64u * 1024u * 1024u)

typedef enum {
    MCPGW_IPC_REQUEST = 'Q', /* meta JSON, '\n', HTTP body */
    MCPGW_IPC_ACCEPTED = 'A', /* the request is being worked on; HEAD comes later */
    MCPGW_IPC_HEAD = 'H',    /* {"status":N,"headers":{...}} */
    MCPGW_IPC_DATA = 'D',    /* bytes for the client, flushed at once */
    MCPGW_IPC_END = 'E'      /* the response is complete */
} mcpgw_ipc_type_e;

void mcpgw_ipc_header_encode(unsigned char out[MCPGW_IPC_HEADER_LEN], char type,
                             apr_size_t payload_len);

/* Incremental decoder for a byte stream that arrives in arbitrary pieces. */
typedef struct {
    char *buf;
    apr_size_t len;  /* bytes held */
    apr_size_t cap;
    apr_size_t consumed; /* bytes of buf already handed out as frames */
    apr_size_t max_frame;
} mcpgw_ipc_decoder_t;

void mcpgw_ipc_decoder_init(mcpgw_ipc_decoder_t *d, apr_size_t max_frame);
void mcpgw_ipc_decoder_free(mcpgw_ipc_decoder_t *d);

/* Room to read into: at least want bytes (grows the buffer). */
char *mcpgw_ipc_decoder_space(mcpgw_ipc_decoder_t *d, apr_size_t want, apr_size_t *avail);
void mcpgw_ipc_decoder_commit(mcpgw_ipc_decoder_t *d, apr_size_t n);

/* 1 and the next frame (payload valid until the next call), 0 when more bytes are needed,
 * -1 on a malformed stream (oversized frame). */
int mcpgw_ipc_decoder_next(mcpgw_ipc_decoder_t *d, char *type, const char **payload,
                           apr_size_t *len);

#endif
