#include "mcpgw_ipc.h"

#include <stdlib.h>
#include <string.h>

void mcpgw_ipc_header_encode(unsigned char out[MCPGW_IPC_HEADER_LEN], char type,
                             apr_size_t payload_len)
{
    out[0] = (unsigned char)(payload_len >> 24);
    out[1] = (unsigned char)(payload_len >> 16);
    out[2] = (unsigned char)(payload_len >> 8);
    out[3] = (unsigned char)payload_len;
    out[4] = (unsigned char)type;
}

void mcpgw_ipc_decoder_init(mcpgw_ipc_decoder_t *d, apr_size_t max_frame)
{
    memset(d, 0, sizeof(*d));
    d->max_frame = max_frame ? max_frame : MCPGW_IPC_MAX_FRAME;
}

void mcpgw_ipc_decoder_free(mcpgw_ipc_decoder_t *d)
{
    free(d->buf);
    memset(d, 0, sizeof(*d));
}

char *mcpgw_ipc_decoder_space(mcpgw_ipc_decoder_t *d, apr_size_t want, apr_size_t *avail)
{
    /* Drop what was handed out before growing, so a long-lived stream stays small. */
    if (d->consumed) {
        memmove(d->buf, d->buf + d->consumed, d->len - d->consumed);
        d->len -= d->consumed;
        d->consumed = 0;
    }
    if (d->cap - d->len < want) {
        apr_size_t cap = d->cap ? d->cap : 4096;
        while (cap - d->len < want)
            cap *= 2;
        d->buf = realloc(d->buf, cap);
        if (!d->buf)
            abort(); /* out of memory in the engine: nothing sensible to do */
        d->cap = cap;
    }
    *avail = d->cap - d->len;
    return d->buf + d->len;
}

void mcpgw_ipc_decoder_commit(mcpgw_ipc_decoder_t *d, apr_size_t n)
{
    d->len += n;
}

int mcpgw_ipc_decoder_next(mcpgw_ipc_decoder_t *d, char *type, const char **payload,
                           apr_size_t *len)
{
    const unsigned char *h;
    apr_size_t plen, have = d->len - d->consumed;
    if (have < MCPGW_IPC_HEADER_LEN)
        return 0;
    h = (const unsigned char *)d->buf + d->consumed;
    plen = ((apr_size_t)h[0] << 24) | ((apr_size_t)h[1] << 16) | ((apr_size_t)h[2] << 8) | h[3];
    if (plen > d->max_frame)
        return -1;
    if (have < MCPGW_IPC_HEADER_LEN + plen)
        return 0;
    *type = (char)h[4];
    *payload = d->buf + d->consumed + MCPGW_IPC_HEADER_LEN;
    *len = plen;
    d->consumed += MCPGW_IPC_HEADER_LEN + plen;
    return 1;
}
