/*
 * proto.h - the wire protocol between the preload (client) and the
 * helper (`modelgate helper`, server).
 *
 * Transport: a SOCK_SEQPACKET UNIX socket in the abstract namespace whose
 * name is random and known only to the process tree that started the
 * helper.  Every request uses its own connection, so threads and forked
 * children can never read each other's replies, and one message is one
 * record (no framing to get wrong).  Both sides check SO_PEERCRED: the
 * helper serves only its own uid, and the client talks only to a listener
 * created by its own uid.
 *
 * Request: one message, struct mg_proto_req followed by the path (not
 * NUL-terminated, req.pathlen bytes), with exactly one fd in SCM_RIGHTS:
 * the open file the caller is about to read.  The helper reads it with
 * pread/mmap only, so the caller's file offset never moves.
 * Reply: one message, struct mg_proto_rep.
 */
#ifndef MG_PROTO_H
#define MG_PROTO_H

#include <stdint.h>

/* Version 2: enum mg_verdict gained MG_VERDICT_UNKNOWN_CALL (values of
 * error and dangerous moved up one), so a helper and a preload of different
 * builds must not understand each other's replies. */
#define MG_PROTO_MAGIC 0x4d47a002u /* "MG", protocol version 2 */
/* Why 4096: PATH_MAX; the path is for messages and extension checks only. */
#define MG_PROTO_PATH_MAX 4096
#define MG_PROTO_REASON_MAX 256

struct mg_proto_req {
	uint32_t magic;   /* MG_PROTO_MAGIC */
	uint32_t pathlen; /* bytes of path that follow, <= MG_PROTO_PATH_MAX */
};

/* Reply status: did the helper decide, or could it not? */
enum mg_proto_status {
	MG_PROTO_DECIDED = 0, /* verdict and action are the helper's decision */
	MG_PROTO_FAILED = 1,  /* no decision (read error, bad request...):
	                         reason says why; the client denies */
};

struct mg_proto_rep {
	uint32_t magic;    /* MG_PROTO_MAGIC */
	uint8_t status;    /* enum mg_proto_status */
	uint8_t verdict;   /* enum mg_verdict */
	uint8_t action;    /* enum mg_action, per the helper's policy */
	uint8_t pad;
	char format[24];   /* outer format name, NUL-terminated */
	char sha256[65];   /* lowercase hex or "" when not computed */
	char reason[MG_PROTO_REASON_MAX]; /* NUL-terminated, one line */
};

#endif /* MG_PROTO_H */
