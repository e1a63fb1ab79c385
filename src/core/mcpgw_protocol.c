#include "mcpgw_protocol.h"

#include <string.h>

const char *const mcpgw_protocol_versions[] = {
    MCPGW_PROTOCOL_STATELESS,
    "2025-11-25",
    "2025-06-18",
    "2025-03-26",
    /* Kept so clients written for the first revision work over plain POSTs: its message
     * semantics are those of 2025-03-26 minus what it never sends. */
    "2024-11-05",
    NULL
};

int mcpgw_protocol_is_supported(const char *version)
{
    if (!version)
        return 0;
    for (const char *const *v = mcpgw_protocol_versions; *v; v++)
        if (strcmp(*v, version) == 0)
            return 1;
    return 0;
}

int mcpgw_protocol_uses_sessions(const char *version)
{
    return version && strcmp(version, MCPGW_PROTOCOL_STATELESS) != 0;
}

int mcpgw_protocol_allows_batch(const char *version)
{
    /* Dates in ISO form compare as strings. */
    return version && strcmp(version, "2025-06-18") < 0;
}

const char *mcpgw_protocol_negotiate(const char *requested)
{
    if (requested && mcpgw_protocol_is_supported(requested) &&
        mcpgw_protocol_uses_sessions(requested))
        return requested;
    return MCPGW_PROTOCOL_LATEST_SESSION;
}

json_t *mcpgw_protocol_versions_json(void)
{
    json_t *arr = json_array();
    for (const char *const *v = mcpgw_protocol_versions; *v; v++)
        json_array_append_new(arr, json_string(*v));
    return arr;
}
