/*
 * exec_reply.h - the exec target's reply grammar, apart from its pipes.
 *
 * Everything a program over exec says is parsed here, by functions that
 * touch nothing but their arguments, so that tests/fuzz/fuzz_exec_reply.c
 * can feed them any bytes (docs/exec-protocol.md is the grammar).
 */
#ifndef CONTEND_EXEC_REPLY_H
#define CONTEND_EXEC_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "target.h"

/* The longest line either side may send: a 4096-byte value is 8192 hex
 * digits, and the request's words come before it. */
#define CONTEND_EXEC_LINE_MAX 16384

/* Is s the word w, alone or followed by a space?  *rest is what follows. */
bool contend_exec_word(const char *s, const char *w, const char **rest);

/* Up to `max` decimal integers separated by single spaces, and nothing else:
 * how many, or -1. */
int contend_exec_ints(const char *s, int64_t *v, int max);

/* Hex digits (either case) into out[cap]: 0 and *len, or -1. */
int contend_exec_hex_decode(const char *s, unsigned char *out, uint32_t cap, uint32_t *len);
size_t contend_exec_hex_encode(const unsigned char *b, uint32_t n, char *out);

/* What `ok` may carry for an op kind, said in messages. */
const char *contend_exec_expected(uint32_t kind);

/* One op's reply line (len bytes, no newline) into op: CONTEND_OK,
 * CONTEND_FAIL or CONTEND_INFO, or -1 when it does not parse for op->kind.
 * A NUL byte inside the line does not parse: "ok 5\0junk" is not "ok 5". */
int contend_exec_parse_reply(const char *reply, size_t len, struct contend_op *op);

/* The next whole line of buf[*start, *end): copied NUL-terminated into
 * line[CONTEND_EXEC_LINE_MAX] without its "\n" (nor a "\r" before it), its
 * length in *n, *start moved past it; true.  False when no newline has come
 * yet.  The caller reads more, or gives up when the buffer is full. */
bool contend_exec_take_line(const char *buf, size_t *start, size_t end, char *line, size_t *n);

#endif
