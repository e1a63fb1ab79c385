#include "unit.h"
#include "mcpgw_sse.h"

#include <string.h>

typedef struct {
    int n;
    char event[8][32];
    char data[8][128];
} seen_t;

static void on_event(const mcpgw_sse_event_t *ev, void *baton)
{
    seen_t *s = baton;
    if (s->n < 8) {
        strncpy(s->event[s->n], ev->event, 31);
        strncpy(s->data[s->n], ev->data, 127);
    }
    s->n++;
}

START_TEST(events_survive_any_split_and_line_ending)
{
    static const char stream[] =
        ": a comment\r\n"
        "event: endpoint\r\ndata: /message?sessionId=1\r\n\r\n"
        "data: {\"a\":1}\n\n"
        "id: 7\ndata: line one\ndata: line two\n\n"
        "data\n\n"
        "retry: 100\n\n";
    for (size_t step = 1; step <= sizeof(stream); step++) {
        apr_pool_t *p;
        seen_t s = { 0 };
        mcpgw_sse_parser_t *parser;
        apr_pool_create(&p, NULL);
        parser = mcpgw_sse_parser_create(p, 4096, on_event, &s);
        for (size_t off = 0; off < sizeof(stream) - 1; off += step) {
            size_t n = sizeof(stream) - 1 - off < step ? sizeof(stream) - 1 - off : step;
            ck_assert_int_eq(mcpgw_sse_parser_feed(parser, stream + off, n), 0);
        }
        ck_assert_int_eq(s.n, 4);
        ck_assert_str_eq(s.event[0], "endpoint");
        ck_assert_str_eq(s.data[0], "/message?sessionId=1");
        ck_assert_str_eq(s.event[1], "message");
        ck_assert_str_eq(s.data[1], "{\"a\":1}");
        ck_assert_str_eq(s.data[2], "line one\nline two");
        ck_assert_str_eq(s.data[3], "");
        apr_pool_destroy(p);
    }
}
END_TEST

START_TEST(oversized_event_is_dropped_and_parsing_resumes)
{
    apr_pool_t *p;
    seen_t s = { 0 };
    char big[300];
    mcpgw_sse_parser_t *parser;
    apr_pool_create(&p, NULL);
    parser = mcpgw_sse_parser_create(p, 64, on_event, &s);
    memset(big, 'x', sizeof(big));
    ck_assert_int_eq(mcpgw_sse_parser_feed(parser, "data: ", 6), 0);
    ck_assert_int_eq(mcpgw_sse_parser_feed(parser, big, sizeof(big)), -1);
    mcpgw_sse_parser_feed(parser, "\n\ndata: ok\n\n", 12);
    ck_assert_int_eq(s.n, 1);
    ck_assert_str_eq(s.data[0], "ok");
    apr_pool_destroy(p);
}
END_TEST

Suite *suite_sse(void)
{
    Suite *s = suite_create("sse");
    TCase *tc = tcase_create("parser");
    tcase_add_test(tc, events_survive_any_split_and_line_ending);
    tcase_add_test(tc, oversized_event_is_dropped_and_parsing_resumes);
    suite_add_tcase(s, tc);
    return s;
}
