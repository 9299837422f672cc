/*
 * mcp.h — what the files of `manushya mcp` share: the Model Context Protocol server over stdio.
 *
 *   cmd_mcp.c      the command: options, help, opening the database, the request loop
 *                  (JSON-RPC 2.0: initialize, ping, tools/list, tools/call, cancellation)
 *   mcp_stdio.c    framing: newline-delimited messages on stdin (bounded in size) and stdout
 *   mcp_tools.c    the tools, their input and output schemas, and what each one calls
 *   mcp_schema.c   checking a tool's arguments against its input schema
 *
 * Single-threaded: one request runs at a time, in the order they arrive.
 */
#ifndef MANUSHYA_CLI_MCP_H
#define MANUSHYA_CLI_MCP_H

#include "cli.h"

/* The largest message read: a longer line is answered with an error and skipped. A memory's
 * text is at most 64 KiB by default (mn_config.max_text_bytes); escaped as JSON, with its
 * metadata, a remember call stays far below this. */
#define MCP_MAX_MESSAGE (4u << 20)

/* ---- Framing (mcp_stdio.c) ---------------------------------------------------------------- */
/* One line read: its text (NUL-terminated, without the newline), or too_long when it was
 * longer than MCP_MAX_MESSAGE (text is then empty: what came was dropped). */
typedef struct mcp_line {
    struct mcp_line *next;
    int too_long;
    size_t len;
    char text[];
} mcp_line;

typedef struct mcp_in {
    int fd;
    int eof;          /* end of input seen: no more lines will come */
    int error;        /* errno of a failed read (then eof is set too) */
    char *part;       /* the line being read, not yet ended by a newline */
    size_t plen, pcap;
    int skipping;     /* the line being read is too long: dropping it up to its newline */
    mcp_line *head, *tail; /* lines read and not yet taken */
} mcp_in;

/* Reads what is on fd without waiting (wait 0) or waits for something first (wait 1), and
 * queues the lines it ends. 0, or -1 after a read error (in->error). */
int mcp_in_fill(mcp_in *in, int wait);
/* Takes the next line, waiting for one; NULL at the end of input (or after a read error).
 * The caller frees it. */
mcp_line *mcp_in_next(mcp_in *in);
/* Frees what in holds. */
void mcp_in_free(mcp_in *in);
/* Writes msg on one line of stdout and deletes it. 0, or -1 when stdout failed. */
int mcp_send(cJSON *msg);

/* ---- Tools (mcp_tools.c) ------------------------------------------------------------------ */
/* The tools as tools/list shows them: a new array of Tool objects, or NULL (out of memory). */
cJSON *mcp_tools_new(void);
/* Runs the tool named name of tools (mcp_tools_new's) with args (a JSON object, or NULL for
 * none) on c's database as actor a: a new CallToolResult, isError true for a bad argument or
 * a failure (the library's message). NULL when no tool has that name (*known 0) or out of
 * memory (*known 1). */
cJSON *mcp_tools_call(cli_ctx *c, const mn_actor *a, const cJSON *tools, const char *name,
                      const cJSON *args, int *known);

/* ---- Input schemas (mcp_schema.c) --------------------------------------------------------- */
/* Checks v against schema, the subset of JSON Schema the tools' inputs use: type (object,
 * string, integer, number, boolean), properties, required, additionalProperties false, enum,
 * minimum, maximum, minLength 1 (not empty). 0 when v conforms; else -1 with what is wrong in
 * msg, naming the argument by its path ("filters.type"; path is v's, "" for the arguments
 * themselves). */
int mcp_schema_check(const cJSON *schema, const cJSON *v, const char *path, char *msg,
                     size_t size);

#endif
