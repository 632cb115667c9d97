/* SPDX-License-Identifier: MIT */
/*
 * gpud's configuration: built-in defaults (the six types of the design brief),
 * then an optional config file, then the command line, which wins.
 * See Documentation/gpud.rst for the file format.
 */
#ifndef GPUD_CONFIG_H
#define GPUD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "eia_wire.h"

#define GPUD_DEFAULT_LISTEN		"127.0.0.1:8443"
#define GPUD_DEFAULT_MAX_CONNECTIONS	1024
#define GPUD_MAX_CONNECTIONS_LIMIT	65536
/* Longest --listen value: "[" IPv6 address "]:" port, with room to spare. */
#define GPUD_LISTEN_MAX			64
#define GPUD_ERR_MAX			256

/* One accelerator type: what a grant of it reserves from the backend. */
struct gpud_type {
	char name[EIA_TYPE_NAME_MAX];
	uint64_t memory_bytes;
	uint32_t fp32_mtflops;
	uint32_t fp16_mtflops;
};

/* A backend's capacity; in a config, 0 means "the backend's own figure". */
struct gpud_capacity {
	uint64_t memory_bytes;
	uint64_t fp32_mtflops;
	uint64_t fp16_mtflops;
};

struct gpud_config {
	char listen[GPUD_LISTEN_MAX];
	char backend[8];			/* "auto", "cpu" or "cuda" */
	unsigned int max_connections;
	unsigned int threads;			/* operator pool; 0: online CPUs */
	unsigned int concurrency;		/* devices running at once (fair.h) */
	char isolation[8];			/* "auto", "process" or "thread" */
	struct gpud_capacity capacity;
	unsigned int ntypes;
	struct gpud_type types[EIA_WIRE_MAX_TYPES];
};

/* The built-in defaults. */
void gpud_config_defaults(struct gpud_config *cfg);

/*
 * Apply the config file at @path. Returns 0, or -1 with "PATH:LINE: what"
 * (or "PATH: why" when it cannot be read) in @err.
 */
int gpud_config_load(struct gpud_config *cfg, const char *path, char *err,
		     size_t errlen);

/*
 * Setters shared by the config file and the command line, so both accept
 * exactly the same values. Each returns 0, or -1 with the reason in @err.
 */
int gpud_config_set_listen(struct gpud_config *cfg, const char *value,
			   char *err, size_t errlen);
int gpud_config_set_backend(struct gpud_config *cfg, const char *value,
			    char *err, size_t errlen);
int gpud_config_set_max_connections(struct gpud_config *cfg, const char *value,
				    char *err, size_t errlen);
int gpud_config_set_threads(struct gpud_config *cfg, const char *value,
			    char *err, size_t errlen);
int gpud_config_set_concurrency(struct gpud_config *cfg, const char *value,
				char *err, size_t errlen);
int gpud_config_set_isolation(struct gpud_config *cfg, const char *value,
			      char *err, size_t errlen);

/*
 * Whether each tenant runs in a worker process of its own (tenant.h) on
 * @backend, the backend gpud runs: "auto" means on CUDA only, where a fault
 * in one tenant's kernel would otherwise take the others' contexts along.
 */
bool gpud_config_isolate(const struct gpud_config *cfg, const char *backend);

/* The operator pool's size: cfg->threads, or the online CPUs (at most 64). */
unsigned int gpud_config_threads(const struct gpud_config *cfg);

/*
 * Parse "A.B.C.D:PORT" or "[IPV6]:PORT" (numeric only; port 0 picks a free
 * port). Returns 0, or -1 with the reason in @err.
 */
int gpud_parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len,
		    char *err, size_t errlen);

/* True for a valid type name: 1..31 characters of [a-z0-9.-]. */
int gpud_type_name_ok(const char *name);

/* "8 GiB", "512 MiB", "11.8 GiB" or "1000 bytes", for logs and messages. */
void gpud_format_bytes(char *buf, size_t len, uint64_t bytes);
/* Thousandths of a TFLOPS as a decimal: "4", "0.5", "1.25". */
void gpud_format_tflops(char *buf, size_t len, uint64_t mtflops);

#endif /* GPUD_CONFIG_H */
