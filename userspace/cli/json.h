/* SPDX-License-Identifier: MIT */
/*
 * A small JSON writer: objects, arrays, strings and non-negative numbers on
 * one line, with ", " and ": " as separators (the shape of the old Elastic
 * Inference tool's output). It places the commas itself; the caller only
 * says what comes next. Strings are escaped, and bytes that are not valid
 * UTF-8 become U+FFFD, so the output is always valid JSON.
 */
#ifndef EIA_CLI_JSON_H
#define EIA_CLI_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Deepest nesting of objects and arrays the writer tracks. */
#define JSON_MAX_DEPTH	8

struct json_writer {
	FILE *out;
	int depth;
	/* Per level: nothing written yet, so no comma before the next value. */
	bool empty[JSON_MAX_DEPTH];
	/* A key was just written: the next value follows it without a comma. */
	bool after_key;
};

void json_init(struct json_writer *w, FILE *out);

void json_object_begin(struct json_writer *w);
void json_object_end(struct json_writer *w);
void json_array_begin(struct json_writer *w);
void json_array_end(struct json_writer *w);

/* An object member's name; its value comes with the next call. */
void json_key(struct json_writer *w, const char *key);

void json_string(struct json_writer *w, const char *s);
void json_uint(struct json_writer *w, uint64_t v);
/* Thousandths as a decimal number, formatted by cli_fmt_milli(). */
void json_milli(struct json_writer *w, uint64_t milli);

/* Shorthands for a member with its value. */
void json_kv_string(struct json_writer *w, const char *key, const char *s);
void json_kv_uint(struct json_writer *w, const char *key, uint64_t v);
void json_kv_milli(struct json_writer *w, const char *key, uint64_t milli);

#endif /* EIA_CLI_JSON_H */
