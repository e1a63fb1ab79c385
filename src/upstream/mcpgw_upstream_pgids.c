#include "mcpgw_upstream_pgids.h"
#include "mcpgw_log.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#define MAX_GROUPS 4096

static void record_path(const char *state_dir, char *buf, size_t size)
{
    snprintf(buf, size, "%s/upstream-pgids", state_dir ? state_dir : "/tmp");
}

static int load(const char *path, long *pgids)
{
    FILE *f = fopen(path, "r");
    int n = 0;
    if (!f)
        return 0;
    while (n < MAX_GROUPS && fscanf(f, "%ld", &pgids[n]) == 1)
        if (pgids[n] > 1)
            n++;
    fclose(f);
    return n;
}

/* Written to a temporary file and renamed, so a crash never leaves half a record. */
static void save(const char *path, const long *pgids, int n)
{
    char tmp[4200];
    FILE *f;
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    f = fopen(tmp, "w");
    if (!f)
        return;
    for (int i = 0; i < n; i++)
        fprintf(f, "%ld\n", pgids[i]);
    if (fclose(f) == 0)
        rename(tmp, path);
}

void mcpgw_upstream_pgids_remember(const char *state_dir, pid_t pgid)
{
    char path[4096];
    FILE *f;
    record_path(state_dir, path, sizeof(path));
    f = fopen(path, "a");
    if (f) {
        fprintf(f, "%ld\n", (long)pgid);
        fclose(f);
    }
}

void mcpgw_upstream_pgids_forget(const char *state_dir, pid_t pgid)
{
    char path[4096];
    static long pgids[MAX_GROUPS];
    int n, m = 0;
    record_path(state_dir, path, sizeof(path));
    n = load(path, pgids);
    for (int i = 0; i < n; i++)
        if (pgids[i] != (long)pgid)
            pgids[m++] = pgids[i];
    save(path, pgids, m);
}

int mcpgw_upstream_pgids_reap(const char *state_dir)
{
    char path[4096];
    static long pgids[MAX_GROUPS];
    int n, killed = 0;
    record_path(state_dir, path, sizeof(path));
    n = load(path, pgids);
    for (int i = 0; i < n; i++)
        if (kill(-(pid_t)pgids[i], SIGKILL) == 0)
            killed++;
    save(path, pgids, 0);
    if (killed)
        mcpgw_log(MCPGW_LOG_WARNING, "engine: killed %d process group(s) a previous engine left",
                  killed);
    return killed;
}
