/* Unit tests of src/core and src/ipc (Check). Each suite lives in its own file. */
#include "unit.h"

#include <apr_general.h>
#include <stdlib.h>

int main(void)
{
    SRunner *sr;
    int failed;

    apr_initialize();
    atexit(apr_terminate);
    sr = srunner_create(suite_jsonrpc());
    srunner_add_suite(sr, suite_protocol());
    srunner_add_suite(sr, suite_session());
    srunner_add_suite(sr, suite_http_rules());
    srunner_add_suite(sr, suite_catalog());
    srunner_add_suite(sr, suite_mcp_server());
    srunner_add_suite(sr, suite_ipc());
    srunner_add_suite(sr, suite_config_keys());
    srunner_add_suite(sr, suite_sse());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
