/* SPDX-License-Identifier: MIT */
/*
 * An attached accelerator as the kernel describes it (EIA_CMD_GET, the
 * ATTACH reply, events), and the list of all of them.
 */
#ifndef EIA_CLI_DEVICE_H
#define EIA_CLI_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#include "eia_netlink.h"
#include "eia_wire.h"
#include "genl.h"

/*
 * Attributes the kernel left out read as empty strings and zeros, and the
 * status as EIA_STATUS_UNKNOWN: only the index is required.
 */
struct eia_device {
	uint32_t index;
	uint32_t status;
	uint32_t timeout_ms;
	uint32_t fp32_mtflops;
	uint32_t fp16_mtflops;
	uint64_t memory_total;
	uint64_t memory_used;
	uint64_t requests;
	uint64_t errors;
	uint64_t bytes_sent;
	uint64_t bytes_received;
	char name[16];
	char type[EIA_TYPE_NAME_MAX];
	char accel_id[EIA_ACCEL_ID_MAX];
	char server[EIA_SERVER_NAME_MAX];
};

/*
 * Fills @dev from a message's attributes (as eia_nl_handler gets them).
 * Returns 0, or -EPROTO when EIA_ATTR_INDEX is missing.
 */
int eia_device_from_attrs(struct nlattr **attrs, struct eia_device *dev);

/* "healthy", "impaired", "unknown"; a status this tool does not know is "unknown". */
const char *eia_status_name(uint32_t status);

struct eia_device_list {
	struct eia_device *dev;
	size_t n;
};

/*
 * Dumps every device (EIA_CMD_GET), sorted by index.
 * Returns 0 or a negative errno with @err filled; free with eia_device_list_free().
 */
int eia_device_list_get(struct eia_nl *nl, struct eia_device_list *list,
			struct eia_nl_error *err);

void eia_device_list_free(struct eia_device_list *list);

#endif /* EIA_CLI_DEVICE_H */
