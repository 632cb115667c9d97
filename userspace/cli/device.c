// SPDX-License-Identifier: MIT
#include "device.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void get_str(struct nlattr **attrs, int type, char *buf, size_t cap)
{
	/* The policy checked the NUL and the length; a truncation here
	 * would only mean a newer kernel with a larger limit.
	 */
	snprintf(buf, cap, "%s", attrs[type] ? nla_get_string(attrs[type]) : "");
}

static uint32_t get_u32(struct nlattr **attrs, int type, uint32_t dflt)
{
	return attrs[type] ? nla_get_u32(attrs[type]) : dflt;
}

static uint64_t get_u64(struct nlattr **attrs, int type)
{
	return attrs[type] ? nla_get_u64(attrs[type]) : 0;
}

int eia_device_from_attrs(struct nlattr **attrs, struct eia_device *dev)
{
	memset(dev, 0, sizeof(*dev));
	if (!attrs[EIA_ATTR_INDEX])
		return -EPROTO;
	dev->index = nla_get_u32(attrs[EIA_ATTR_INDEX]);
	if (attrs[EIA_ATTR_DEV_NAME])
		get_str(attrs, EIA_ATTR_DEV_NAME, dev->name, sizeof(dev->name));
	else
		snprintf(dev->name, sizeof(dev->name), "eia%u", dev->index);
	get_str(attrs, EIA_ATTR_TYPE, dev->type, sizeof(dev->type));
	get_str(attrs, EIA_ATTR_ACCEL_ID, dev->accel_id, sizeof(dev->accel_id));
	get_str(attrs, EIA_ATTR_SERVER, dev->server, sizeof(dev->server));
	dev->status = get_u32(attrs, EIA_ATTR_STATUS, EIA_STATUS_UNKNOWN);
	dev->timeout_ms = get_u32(attrs, EIA_ATTR_TIMEOUT_MS, 0);
	dev->fp32_mtflops = get_u32(attrs, EIA_ATTR_FP32_MTFLOPS, 0);
	dev->fp16_mtflops = get_u32(attrs, EIA_ATTR_FP16_MTFLOPS, 0);
	dev->memory_total = get_u64(attrs, EIA_ATTR_MEMORY_TOTAL);
	dev->memory_used = get_u64(attrs, EIA_ATTR_MEMORY_USED);
	dev->requests = get_u64(attrs, EIA_ATTR_REQUESTS);
	dev->errors = get_u64(attrs, EIA_ATTR_ERRORS);
	dev->bytes_sent = get_u64(attrs, EIA_ATTR_BYTES_SENT);
	dev->bytes_received = get_u64(attrs, EIA_ATTR_BYTES_RECEIVED);
	return 0;
}

const char *eia_status_name(uint32_t status)
{
	switch (status) {
	case EIA_STATUS_HEALTHY:
		return "healthy";
	case EIA_STATUS_IMPAIRED:
		return "impaired";
	default:
		return "unknown";
	}
}

static int add_device(uint8_t cmd, struct nlattr **attrs, void *arg)
{
	struct eia_device_list *list = arg;
	struct eia_device *grown;

	if (cmd != EIA_CMD_GET)
		return 0;
	grown = realloc(list->dev, (list->n + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	list->dev = grown;
	if (eia_device_from_attrs(attrs, &list->dev[list->n]))
		return -EPROTO;
	list->n++;
	return 0;
}

static int by_index(const void *a, const void *b)
{
	const struct eia_device *x = a, *y = b;

	return (x->index > y->index) - (x->index < y->index);
}

int eia_device_list_get(struct eia_nl *nl, struct eia_device_list *list,
			struct eia_nl_error *err)
{
	struct nl_msg *msg;
	int ret;

	list->dev = NULL;
	list->n = 0;
	msg = eia_nl_msg(nl, EIA_CMD_GET, NLM_F_DUMP);
	if (!msg) {
		memset(err, 0, sizeof(*err));
		err->err = -ENOMEM;
		return err->err;
	}
	ret = eia_nl_call(nl, msg, add_device, list, err);
	if (ret) {
		if (ret == -EPROTO && !err->msg[0])
			snprintf(err->msg, sizeof(err->msg), "a device without an index");
		eia_device_list_free(list);
		return ret;
	}
	if (list->n > 1)
		qsort(list->dev, list->n, sizeof(*list->dev), by_index);
	return 0;
}

void eia_device_list_free(struct eia_device_list *list)
{
	free(list->dev);
	list->dev = NULL;
	list->n = 0;
}
