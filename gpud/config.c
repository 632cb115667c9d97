// SPDX-License-Identifier: MIT
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fair.h"
#include "pool.h"

#define GIB (UINT64_C(1) << 30)

/* The published Elastic Inference table (Documentation/gpud.rst). */
static const struct gpud_type default_types[] = {
	{ "eia1.medium", 1 * GIB, 1000, 8000 },
	{ "eia1.large", 2 * GIB, 2000, 16000 },
	{ "eia1.xlarge", 4 * GIB, 4000, 32000 },
	{ "eia2.medium", 2 * GIB, 1000, 8000 },
	{ "eia2.large", 4 * GIB, 2000, 16000 },
	{ "eia2.xlarge", 8 * GIB, 4000, 32000 },
};

/* Bounds that keep every later sum and the 8x FP16 default far from overflow. */
#define CAPACITY_MTFLOPS_MAX	(1000ull * 1000 * 1000 * 1000)
#define MEMORY_BYTES_MAX	(1ull << 60)

void gpud_config_defaults(struct gpud_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->listen, sizeof(cfg->listen), "%s", GPUD_DEFAULT_LISTEN);
	snprintf(cfg->backend, sizeof(cfg->backend), "auto");
	snprintf(cfg->isolation, sizeof(cfg->isolation), "auto");
	cfg->max_connections = GPUD_DEFAULT_MAX_CONNECTIONS;
	cfg->concurrency = 1;
	cfg->ntypes = sizeof(default_types) / sizeof(default_types[0]);
	memcpy(cfg->types, default_types, sizeof(default_types));
}

static int parse_u64(const char *s, size_t ndigits, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (!ndigits)
		return -1;
	for (i = 0; i < ndigits; i++) {
		unsigned int d = (unsigned int)(s[i] - '0');

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* "1073741824", "512M", "2G", "1T" (binary multiples). */
static int parse_size(const char *s, uint64_t *out)
{
	size_t n = strspn(s, "0123456789");
	unsigned int shift = 0;
	uint64_t v;

	if (parse_u64(s, n, &v))
		return -1;
	if (s[n]) {
		static const char units[] = "KMGT";
		const char *u = strchr(units, toupper((unsigned char)s[n]));

		if (!u || !*u || s[n + 1])
			return -1;
		shift = 10 * (unsigned int)(u - units + 1);
	}
	if (v > MEMORY_BYTES_MAX >> shift)
		return -1;
	*out = v << shift;
	return 0;
}

/* "4", "0.5", "1.125": TFLOPS with at most three decimals, as thousandths. */
static int parse_tflops(const char *s, uint64_t max, uint64_t *out)
{
	size_t n = strspn(s, "0123456789");
	uint64_t whole, frac = 0;

	if (parse_u64(s, n, &whole) || whole > max / 1000)
		return -1;
	if (s[n] == '.') {
		const char *f = s + n + 1;
		size_t fn = strspn(f, "0123456789");

		if (fn < 1 || fn > 3 || f[fn] || parse_u64(f, fn, &frac))
			return -1;
		while (fn++ < 3)
			frac *= 10;
	} else if (s[n]) {
		return -1;
	}
	if (whole * 1000 + frac > max)
		return -1;
	*out = whole * 1000 + frac;
	return 0;
}

int gpud_parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len,
		    char *err, size_t errlen)
{
	char host[INET6_ADDRSTRLEN];
	const char *start, *end, *port;
	uint64_t portnum;
	bool v6 = s[0] == '[';

	if (v6) {
		start = s + 1;
		end = strchr(start, ']');
		if (!end || end[1] != ':')
			goto bad;
		port = end + 2;
	} else {
		start = s;
		end = strrchr(s, ':');
		if (!end)
			goto bad;
		port = end + 1;
	}
	if (end == start || (size_t)(end - start) >= sizeof(host) ||
	    strlen(port) > 5 || parse_u64(port, strlen(port), &portnum) ||
	    portnum > 65535)
		goto bad;
	memcpy(host, start, (size_t)(end - start));
	host[end - start] = '\0';

	memset(ss, 0, sizeof(*ss));
	if (v6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)portnum);
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			goto bad;
		*len = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)portnum);
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			goto bad;
		*len = sizeof(*sin);
	}
	return 0;
bad:
	snprintf(err, errlen,
		 "invalid listen address '%.64s' (expected A.B.C.D:PORT or [IPV6]:PORT, numeric)",
		 s);
	return -1;
}

int gpud_config_set_listen(struct gpud_config *cfg, const char *value,
			   char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (strlen(value) >= sizeof(cfg->listen)) {
		snprintf(err, errlen, "listen address too long");
		return -1;
	}
	if (gpud_parse_addr(value, &ss, &len, err, errlen))
		return -1;
	snprintf(cfg->listen, sizeof(cfg->listen), "%s", value);
	return 0;
}

int gpud_config_set_backend(struct gpud_config *cfg, const char *value,
			    char *err, size_t errlen)
{
	if (strcmp(value, "auto") && strcmp(value, "cpu") && strcmp(value, "cuda")) {
		snprintf(err, errlen, "unknown backend '%.32s' (expected auto, cpu or cuda)",
			 value);
		return -1;
	}
	snprintf(cfg->backend, sizeof(cfg->backend), "%s", value);
	return 0;
}

int gpud_config_set_isolation(struct gpud_config *cfg, const char *value,
			      char *err, size_t errlen)
{
	if (strcmp(value, "auto") && strcmp(value, "process") && strcmp(value, "thread")) {
		snprintf(err, errlen,
			 "unknown isolation '%.32s' (expected auto, process or thread)", value);
		return -1;
	}
	snprintf(cfg->isolation, sizeof(cfg->isolation), "%s", value);
	return 0;
}

bool gpud_config_isolate(const struct gpud_config *cfg, const char *backend)
{
	if (!strcmp(cfg->isolation, "auto"))
		return !strcmp(backend, "cuda");
	return !strcmp(cfg->isolation, "process");
}

int gpud_config_set_max_connections(struct gpud_config *cfg, const char *value,
				    char *err, size_t errlen)
{
	uint64_t v;

	if (parse_u64(value, strlen(value), &v) || v < 1 ||
	    v > GPUD_MAX_CONNECTIONS_LIMIT) {
		snprintf(err, errlen, "invalid max-connections '%.32s' (expected 1..%u)",
			 value, GPUD_MAX_CONNECTIONS_LIMIT);
		return -1;
	}
	cfg->max_connections = (unsigned int)v;
	return 0;
}

int gpud_config_set_threads(struct gpud_config *cfg, const char *value,
			    char *err, size_t errlen)
{
	uint64_t v;

	if (parse_u64(value, strlen(value), &v) || v < 1 || v > EIA_POOL_MAX_THREADS) {
		snprintf(err, errlen, "invalid threads '%.32s' (expected 1..%u)", value,
			 EIA_POOL_MAX_THREADS);
		return -1;
	}
	cfg->threads = (unsigned int)v;
	return 0;
}

int gpud_config_set_concurrency(struct gpud_config *cfg, const char *value,
				char *err, size_t errlen)
{
	uint64_t v;

	if (parse_u64(value, strlen(value), &v) || v < 1 ||
	    v > GPUD_FAIR_MAX_CONCURRENCY) {
		snprintf(err, errlen, "invalid concurrency '%.32s' (expected 1..%u)", value,
			 GPUD_FAIR_MAX_CONCURRENCY);
		return -1;
	}
	cfg->concurrency = (unsigned int)v;
	return 0;
}

unsigned int gpud_config_threads(const struct gpud_config *cfg)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (cfg->threads)
		return cfg->threads;
	if (n < 1)
		return 1;
	return n > EIA_POOL_MAX_THREADS ? EIA_POOL_MAX_THREADS : (unsigned int)n;
}

int gpud_type_name_ok(const char *name)
{
	size_t len = strlen(name);

	return len >= 1 && len < EIA_TYPE_NAME_MAX &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789.-") == len;
}

/* One "key=value" a line may carry; @max bounds a TFLOPS value. */
struct setting {
	const char *key;
	bool is_size;
	uint64_t max;
	uint64_t value;
	bool seen;
};

static int parse_settings(char **words, int n, struct setting *set, int nset,
			  char *err, size_t errlen)
{
	int i, j;

	for (i = 0; i < n; i++) {
		char *eq = strchr(words[i], '=');
		struct setting *s = NULL;

		if (eq) {
			*eq = '\0';
			for (j = 0; j < nset; j++)
				if (!strcmp(words[i], set[j].key))
					s = &set[j];
		}
		if (!s) {
			snprintf(err, errlen, "unknown setting '%.32s'", words[i]);
			return -1;
		}
		if (s->seen) {
			snprintf(err, errlen, "%s= given twice", s->key);
			return -1;
		}
		if ((s->is_size ? parse_size(eq + 1, &s->value) :
				  parse_tflops(eq + 1, s->max, &s->value)) ||
		    !s->value) {
			snprintf(err, errlen, "invalid %s '%.32s' (expected %s greater than 0)",
				 s->key, eq + 1,
				 s->is_size ? "bytes with an optional K, M, G or T suffix" :
					      "TFLOPS with at most 3 decimals");
			return -1;
		}
		s->seen = true;
	}
	return 0;
}

/* "type NAME memory=SIZE fp32=TFLOPS fp16=TFLOPS": adds or replaces a type. */
static int parse_type(struct gpud_config *cfg, char **words, int n, char *err,
		      size_t errlen)
{
	struct setting set[] = {
		{ .key = "memory", .is_size = true },
		{ .key = "fp32", .max = UINT32_MAX },
		{ .key = "fp16", .max = UINT32_MAX },
	};
	struct gpud_type *t;
	unsigned int i;

	if (n < 1 || !gpud_type_name_ok(words[0])) {
		snprintf(err, errlen,
			 "invalid type name '%.32s' (1 to 31 characters of a-z, 0-9, '.' and '-')",
			 n < 1 ? "" : words[0]);
		return -1;
	}
	if (parse_settings(words + 1, n - 1, set, 3, err, errlen))
		return -1;
	if (!set[0].seen || !set[1].seen || !set[2].seen) {
		snprintf(err, errlen, "type %s needs memory=, fp32= and fp16=", words[0]);
		return -1;
	}
	for (i = 0; i < cfg->ntypes; i++)
		if (!strcmp(cfg->types[i].name, words[0]))
			break;
	if (i == EIA_WIRE_MAX_TYPES) {
		snprintf(err, errlen, "too many types (at most %u)", EIA_WIRE_MAX_TYPES);
		return -1;
	}
	if (i == cfg->ntypes)
		cfg->ntypes++;
	t = &cfg->types[i];
	snprintf(t->name, sizeof(t->name), "%s", words[0]);
	t->memory_bytes = set[0].value;
	t->fp32_mtflops = (uint32_t)set[1].value;
	t->fp16_mtflops = (uint32_t)set[2].value;
	return 0;
}

/* "capacity [memory=SIZE] [fp32=TFLOPS] [fp16=TFLOPS]" */
static int parse_capacity(struct gpud_config *cfg, char **words, int n,
			  char *err, size_t errlen)
{
	struct setting set[] = {
		{ .key = "memory", .is_size = true },
		{ .key = "fp32", .max = CAPACITY_MTFLOPS_MAX },
		{ .key = "fp16", .max = CAPACITY_MTFLOPS_MAX },
	};

	if (n < 1) {
		snprintf(err, errlen, "capacity needs memory=, fp32= or fp16=");
		return -1;
	}
	if (parse_settings(words, n, set, 3, err, errlen))
		return -1;
	if (set[0].seen)
		cfg->capacity.memory_bytes = set[0].value;
	if (set[1].seen)
		cfg->capacity.fp32_mtflops = set[1].value;
	if (set[2].seen)
		cfg->capacity.fp16_mtflops = set[2].value;
	return 0;
}

#define MAX_WORDS 8

/* Splits @line in place at blanks, dropping a "#" comment. */
static int split_words(char *line, char **words, char *err, size_t errlen)
{
	char *save, *w;
	int n = 0;

	line[strcspn(line, "#\r\n")] = '\0';
	for (w = strtok_r(line, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if (n == MAX_WORDS) {
			snprintf(err, errlen, "too many words (at most %d)", MAX_WORDS);
			return -1;
		}
		words[n++] = w;
	}
	return n;
}

/* Keywords taking one value, set exactly as their command-line options. */
static const struct {
	const char *key;
	int (*set)(struct gpud_config *cfg, const char *value, char *err,
		   size_t errlen);
} one_value_keys[] = {
	{ "listen", gpud_config_set_listen },
	{ "backend", gpud_config_set_backend },
	{ "max-connections", gpud_config_set_max_connections },
	{ "threads", gpud_config_set_threads },
	{ "concurrency", gpud_config_set_concurrency },
	{ "isolation", gpud_config_set_isolation },
};

static int parse_line(struct gpud_config *cfg, char *line, char *err, size_t errlen)
{
	char *words[MAX_WORDS];
	int n = split_words(line, words, err, errlen);
	size_t i;

	if (n <= 0)
		return n;
	if (!strcmp(words[0], "type"))
		return parse_type(cfg, words + 1, n - 1, err, errlen);
	if (!strcmp(words[0], "capacity"))
		return parse_capacity(cfg, words + 1, n - 1, err, errlen);
	for (i = 0; i < sizeof(one_value_keys) / sizeof(one_value_keys[0]); i++) {
		if (strcmp(words[0], one_value_keys[i].key))
			continue;
		if (n != 2) {
			snprintf(err, errlen, "%s takes exactly one value", words[0]);
			return -1;
		}
		return one_value_keys[i].set(cfg, words[1], err, errlen);
	}
	snprintf(err, errlen, "unknown keyword '%.32s'", words[0]);
	return -1;
}

int gpud_config_load(struct gpud_config *cfg, const char *path, char *err,
		     size_t errlen)
{
	char why[GPUD_ERR_MAX];
	unsigned int lineno = 0;
	size_t cap = 0;
	char *line = NULL;
	int ret = 0;
	FILE *f;

	f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (getline(&line, &cap, f) >= 0) {
		lineno++;
		if (parse_line(cfg, line, why, sizeof(why))) {
			snprintf(err, errlen, "%s:%u: %s", path, lineno, why);
			ret = -1;
			break;
		}
	}
	if (!ret && ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		ret = -1;
	}
	free(line);
	fclose(f);
	return ret;
}

void gpud_format_bytes(char *buf, size_t len, uint64_t bytes)
{
	if (bytes && !(bytes % GIB))
		snprintf(buf, len, "%" PRIu64 " GiB", bytes / GIB);
	else if (bytes && !(bytes % (1u << 20)))
		snprintf(buf, len, "%" PRIu64 " MiB", bytes >> 20);
	else if (bytes >= GIB)
		snprintf(buf, len, "%.1f GiB", (double)bytes / GIB);
	else
		snprintf(buf, len, "%" PRIu64 " bytes", bytes);
}

void gpud_format_tflops(char *buf, size_t len, uint64_t mtflops)
{
	uint64_t frac = mtflops % 1000;
	int digits = 3;

	if (!frac) {
		snprintf(buf, len, "%" PRIu64, mtflops / 1000);
		return;
	}
	while (!(frac % 10)) {
		frac /= 10;
		digits--;
	}
	snprintf(buf, len, "%" PRIu64 ".%0*" PRIu64, mtflops / 1000, digits, frac);
}
