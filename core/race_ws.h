
/*
 * ngx_race: RFC 6455 WebSocket codec.
 *
 * A pure core: bytes in, events out.  No nginx, no sockets, no allocation.
 * The reader is resumable: it may be fed any split of the input stream,
 * down to one byte at a time, and yields the same events.
 */


#ifndef _RACE_WS_H_INCLUDED_
#define _RACE_WS_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include "race_utf8.h"


#define RACE_WS_OP_CONT        0x0
#define RACE_WS_OP_TEXT        0x1
#define RACE_WS_OP_BINARY      0x2
#define RACE_WS_OP_CLOSE       0x8
#define RACE_WS_OP_PING        0x9
#define RACE_WS_OP_PONG        0xa

#define RACE_WS_CLOSE_NORMAL       1000
#define RACE_WS_CLOSE_GOING_AWAY   1001
#define RACE_WS_CLOSE_PROTOCOL     1002
#define RACE_WS_CLOSE_NO_STATUS    1005   /* never sent on the wire */
#define RACE_WS_CLOSE_BAD_DATA     1007
#define RACE_WS_CLOSE_POLICY       1008
#define RACE_WS_CLOSE_TOO_BIG      1009
#define RACE_WS_CLOSE_INTERNAL     1011

#define RACE_WS_CONTROL_MAX    125
#define RACE_WS_HEADER_MAX     14
#define RACE_WS_ACCEPT_LEN     28     /* base64 of a SHA-1 digest */




typedef enum {
    RACE_WS_AGAIN = 0,   /* all input consumed, need more */
    RACE_WS_DATA,        /* a chunk of a data message's payload */
    RACE_WS_CONTROL,     /* a whole control frame (ping, pong, close) */
    RACE_WS_ERROR        /* protocol violation: close with ev->code */
} race_ws_rc_e;


typedef struct {
    /* RACE_WS_DATA */
    unsigned        opcode;      /* TEXT or BINARY: the message's type */
    const uint8_t  *data;        /* unmasked payload, inside the fed buffer */
    size_t          len;         /* may be 0 */
    unsigned        fin:1;       /* last chunk of the message */
    unsigned        first:1;     /* first chunk of the message */

    /* RACE_WS_CONTROL: opcode, data and len point into the parser */

    /*
     * RACE_WS_CONTROL with opcode CLOSE: code is the peer's status
     * (RACE_WS_CLOSE_NO_STATUS when the frame had no payload),
     * data/len is the reason, already checked to be UTF-8.
     * RACE_WS_ERROR: code is the status to close with, reason a short
     * static text for the log and the close frame.
     */
    uint16_t        code;
    const char     *reason;
} race_ws_event_t;


typedef struct {
    /* settings, set before the first feed */
    uint64_t        max_message;     /* 0: no limit; else 1009 past it */
    unsigned        expect_masked:1; /* server side: 1, client side: 0 */

    /* private state */
    unsigned        state;
    unsigned        hdr_need;
    unsigned        hdr_have;
    uint8_t         hdr[RACE_WS_HEADER_MAX];
    unsigned        fin:1;
    unsigned        masked:1;
    unsigned        in_message:1;    /* a fragmented data message is open */
    unsigned        first_chunk:1;
    unsigned        opcode;          /* of the current frame */
    unsigned        msg_opcode;      /* TEXT or BINARY of the open message */
    uint8_t         mask[4];
    unsigned        mask_pos;
    uint64_t        remain;          /* payload bytes left in this frame */
    uint64_t        msg_len;         /* payload bytes of the open message */
    race_utf8_t     utf8;
    uint8_t         ctl[RACE_WS_CONTROL_MAX];
    unsigned        ctl_len;
    uint16_t        err_code;        /* repeated by calls after an error */
    const char     *err_reason;
} race_ws_parser_t;


void race_ws_parser_init(race_ws_parser_t *p, uint64_t max_message,
    int expect_masked);

/*
 * Consumes input from buf[0..len) and stops at the first event.
 * *used is set to the bytes consumed; the caller calls again with the
 * rest.  Payload is unmasked in place, so buf must be writable.  After
 * RACE_WS_ERROR the parser must not be fed again.
 */
race_ws_rc_e race_ws_parse(race_ws_parser_t *p, uint8_t *buf, size_t len,
    size_t *used, race_ws_event_t *ev);


/*
 * Writes a frame header into dst (RACE_WS_HEADER_MAX bytes) and returns
 * its length.  mask is NULL for a server frame; otherwise the 4 bytes are
 * written in the header and the caller masks the payload with
 * race_ws_mask().
 */
size_t race_ws_frame_header(uint8_t *dst, int fin, unsigned opcode,
    uint64_t len, const uint8_t *mask);

/* XORs data with the mask, starting at mask offset pos; returns new pos */
unsigned race_ws_mask(uint8_t *data, size_t len, const uint8_t mask[4],
    unsigned pos);

/*
 * Close payload: 2-byte code then the reason, cut to fit a control frame
 * at a UTF-8 boundary.  dst holds RACE_WS_CONTROL_MAX bytes.  For
 * RACE_WS_CLOSE_NO_STATUS it is empty (returns 0): that code is never sent.
 */
size_t race_ws_close_payload(uint8_t *dst, uint16_t code, const char *reason,
    size_t reason_len);

/* 1 for a code a peer may send in a close frame, 0 otherwise */
int race_ws_close_code_valid(unsigned code);


/* handshake helpers */

/* 1 if key is base64 of exactly 16 bytes (24 chars, "==" padded) */
int race_ws_key_valid(const uint8_t *key, size_t len);

/* out[RACE_WS_ACCEPT_LEN] = base64(SHA-1(key + GUID)) */
void race_ws_accept(const uint8_t *key, size_t len,
    uint8_t out[RACE_WS_ACCEPT_LEN]);

/* 1 if a comma-separated header value holds token, case-insensitively */
int race_ws_header_has_token(const uint8_t *value, size_t len,
    const char *token);


#endif /* _RACE_WS_H_INCLUDED_ */
