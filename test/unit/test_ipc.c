#include "unit.h"
#include "mcpgw_ipc.h"

#include <string.h>

START_TEST(frames_survive_any_split)
{
    /* Two frames fed one byte at a time come out whole and in order. */
    unsigned char wire[64];
    apr_size_t off = 0;
    mcpgw_ipc_decoder_t d;
    char type;
    const char *payload;
    apr_size_t len;
    int frames = 0;

    mcpgw_ipc_header_encode(wire, MCPGW_IPC_HEAD, 3);
    memcpy(wire + 5, "abc", 3);
    mcpgw_ipc_header_encode(wire + 8, MCPGW_IPC_END, 0);
    mcpgw_ipc_decoder_init(&d, 0);
    for (off = 0; off < 13; off++) {
        apr_size_t avail;
        char *space = mcpgw_ipc_decoder_space(&d, 1, &avail);
        *space = (char)wire[off];
        mcpgw_ipc_decoder_commit(&d, 1);
        while (mcpgw_ipc_decoder_next(&d, &type, &payload, &len) == 1) {
            if (frames == 0) {
                ck_assert_int_eq(type, MCPGW_IPC_HEAD);
                ck_assert_uint_eq(len, 3);
                ck_assert(memcmp(payload, "abc", 3) == 0);
            }
            else
                ck_assert_int_eq(type, MCPGW_IPC_END);
            frames++;
        }
    }
    ck_assert_int_eq(frames, 2);
    mcpgw_ipc_decoder_free(&d);
}
END_TEST

START_TEST(oversized_frame_is_an_error)
{
    unsigned char h[5];
    mcpgw_ipc_decoder_t d;
    char type, *space;
    const char *payload;
    apr_size_t len, avail;
    mcpgw_ipc_header_encode(h, MCPGW_IPC_DATA, 2000);
    mcpgw_ipc_decoder_init(&d, 1000);
    space = mcpgw_ipc_decoder_space(&d, 5, &avail);
    memcpy(space, h, 5);
    mcpgw_ipc_decoder_commit(&d, 5);
    ck_assert_int_eq(mcpgw_ipc_decoder_next(&d, &type, &payload, &len), -1);
    mcpgw_ipc_decoder_free(&d);
}
END_TEST

Suite *suite_ipc(void)
{
    Suite *s = suite_create("ipc");
    TCase *tc = tcase_create("frames");
    tcase_add_test(tc, frames_survive_any_split);
    tcase_add_test(tc, oversized_frame_is_an_error);
    suite_add_tcase(s, tc);
    return s;
}
