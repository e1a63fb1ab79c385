/* A record of the process groups of running stdio servers, kept in the state directory.
 * If the engine is killed outright, its servers' direct children die with it
 * (PR_SET_PDEATHSIG) but their own children would not: the next engine reads this record
 * and kills what is left before it starts anything. */
#ifndef MCPGW_UPSTREAM_PGIDS_H
#define MCPGW_UPSTREAM_PGIDS_H

#include <sys/types.h>

void mcpgw_upstream_pgids_remember(const char *state_dir, pid_t pgid);
void mcpgw_upstream_pgids_forget(const char *state_dir, pid_t pgid);
/* Kills every recorded group and empties the record; returns how many were killed. */
int mcpgw_upstream_pgids_reap(const char *state_dir);

#endif
