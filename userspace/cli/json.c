// SPDX-License-Identifier: MIT
#include "json.h"

#include <assert.h>
#include <inttypes.h>

#include "cli.h"

void json_init(struct json_writer *w, FILE *out)
{
	w->out = out;
	w->depth = 0;
	w->empty[0] = true;
	w->after_key = false;
}

/* Writes the separator a new value or key needs at the current level. */
static void before_value(struct json_writer *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (!w->empty[w->depth])
		fputs(", ", w->out);
	w->empty[w->depth] = false;
}

static void open_level(struct json_writer *w, char c)
{
	before_value(w);
	fputc(c, w->out);
	assert(w->depth + 1 < JSON_MAX_DEPTH);
	w->empty[++w->depth] = true;
}

static void close_level(struct json_writer *w, char c)
{
	assert(w->depth > 0 && !w->after_key);
	w->depth--;
	fputc(c, w->out);
}

void json_object_begin(struct json_writer *w)
{
	open_level(w, '{');
}

void json_object_end(struct json_writer *w)
{
	close_level(w, '}');
}

void json_array_begin(struct json_writer *w)
{
	open_level(w, '[');
}

void json_array_end(struct json_writer *w)
{
	close_level(w, ']');
}

/*
 * Length of the well-formed UTF-8 sequence at @s (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or 0 if there is none.
 */
static int utf8_len(const unsigned char *s)
{
	int len, i;
	unsigned char lo = 0x80, hi = 0xbf;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	/* The second byte's range is what excludes the bad code points. */
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	/* A NUL ends the string and fails this test, so we never read past it. */
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

static void write_escaped(FILE *out, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	while (*s) {
		int len = utf8_len(s);

		if (!len) {
			fputs("\\ufffd", out);
			s++;
			continue;
		}
		switch (*s) {
		case '"':
			fputs("\\\"", out);
			break;
		case '\\':
			fputs("\\\\", out);
			break;
		case '\b':
			fputs("\\b", out);
			break;
		case '\f':
			fputs("\\f", out);
			break;
		case '\n':
			fputs("\\n", out);
			break;
		case '\r':
			fputs("\\r", out);
			break;
		case '\t':
			fputs("\\t", out);
			break;
		default:
			if (*s < 0x20)
				fprintf(out, "\\u%04x", *s);
			else
				fwrite(s, 1, (size_t)len, out);
		}
		s += len;
	}
}

void json_key(struct json_writer *w, const char *key)
{
	assert(!w->after_key);
	before_value(w);
	fputc('"', w->out);
	write_escaped(w->out, key);
	fputs("\": ", w->out);
	w->after_key = true;
}

void json_string(struct json_writer *w, const char *s)
{
	before_value(w);
	fputc('"', w->out);
	write_escaped(w->out, s);
	fputc('"', w->out);
}

void json_uint(struct json_writer *w, uint64_t v)
{
	before_value(w);
	fprintf(w->out, "%" PRIu64, v);
}

void json_milli(struct json_writer *w, uint64_t milli)
{
	char num[CLI_NUM_MAX];

	before_value(w);
	fputs(cli_fmt_milli(num, milli), w->out);
}

void json_kv_string(struct json_writer *w, const char *key, const char *s)
{
	json_key(w, key);
	json_string(w, s);
}

void json_kv_uint(struct json_writer *w, const char *key, uint64_t v)
{
	json_key(w, key);
	json_uint(w, v);
}

void json_kv_milli(struct json_writer *w, const char *key, uint64_t milli)
{
	json_key(w, key);
	json_milli(w, milli);
}
