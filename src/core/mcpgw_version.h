/* The gateway version reported in serverInfo and the Server banner. */
#ifndef MCPGW_VERSION_H
#define MCPGW_VERSION_H
#define MCPGW_VERSION "0.1.0"
#endif
