// SPDX-License-Identifier: GPL-2.0
/*
 * The eia CLI against the real module and gpud: attach, list, detach,
 * reattach, monitor and describe-accelerators --json, and its messages when
 * something is wrong (connection refused, unknown type, no permission).
 * Each result is checked against the kernel's own answer over netlink.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json.h>

#include "kselftest_harness.h"

#include "eia_test_lib.h"
#include "eia_test_main.h"

#define CLI_TIMEOUT_MS	30000

FIXTURE(cli) {
	struct eia_nl nl;
	char out[8192];
	char err[4096];
};

FIXTURE_SETUP(cli)
{
	ASSERT_EQ(0, eia_test_prepare(&self->nl));
}

FIXTURE_TEARDOWN(cli)
{
	eia_gpud_kill(SIGCONT);
	if (self->nl.sk)
		eia_detach_all(&self->nl);
	eia_nl_close(&self->nl);
	eia_gpud_ensure();
}

/* Runs `eia ARGS...`, output into self->out and self->err; its exit status. */
#define EIA(flags, ...) \
	eia_run((char *const[]){ "eia", __VA_ARGS__, NULL }, flags, CLI_TIMEOUT_MS, \
		self->out, sizeof(self->out), self->err, sizeof(self->err))

static void chomp(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = '\0';
}

TEST_F(cli, attach_prints_device)
{
	struct eia_dev devs[2];
	char buf[32];

	ASSERT_EQ(0, EIA(0, "attach", "--server", (char *)eia_server(), "--type", "eia2.medium")) {
		TH_LOG("stderr: %s", self->err);
	}
	chomp(self->out);
	ASSERT_EQ(1, eia_dump(&self->nl, devs, 2));
	EXPECT_STREQ(devs[0].name, self->out);
	EXPECT_STREQ("eia2.medium", devs[0].type);
	EXPECT_STREQ(eia_server(), devs[0].server);
	ASSERT_EQ(0, eia_sysfs_read(devs[0].name, "status", buf, sizeof(buf)));
	EXPECT_STREQ("healthy", buf);
}

TEST_F(cli, attach_timeout_option)
{
	struct eia_dev devs[2];

	ASSERT_EQ(0, EIA(0, "attach", "--server", (char *)eia_server(), "--type", "eia1.medium",
			 "--timeout-ms", "777")) {
		TH_LOG("stderr: %s", self->err);
	}
	ASSERT_EQ(1, eia_dump(&self->nl, devs, 2));
	EXPECT_EQ(777, devs[0].timeout_ms);
}

TEST_F(cli, list_shows_devices)
{
	struct eia_dev a, b;

	ASSERT_EQ(0, eia_attach(&self->nl, "eia2.medium", 0, &a));
	ASSERT_EQ(0, eia_attach(&self->nl, "eia1.large", 0, &b));
	ASSERT_EQ(0, EIA(0, "list")) {
		TH_LOG("stderr: %s", self->err);
	}
	EXPECT_NE(NULL, strstr(self->out, a.name));
	EXPECT_NE(NULL, strstr(self->out, a.accel_id));
	EXPECT_NE(NULL, strstr(self->out, b.accel_id));
	EXPECT_NE(NULL, strstr(self->out, "eia1.large"));
	EXPECT_NE(NULL, strstr(self->out, "healthy"));
}

TEST_F(cli, detach_removes_device)
{
	struct eia_dev dev;

	ASSERT_EQ(0, eia_attach(&self->nl, "eia2.medium", 0, &dev));
	ASSERT_EQ(0, EIA(0, "detach", dev.name)) {
		TH_LOG("stderr: %s", self->err);
	}
	EXPECT_STREQ("", self->out);
	EXPECT_EQ(0, eia_dump(&self->nl, NULL, 0));
	EXPECT_EQ(0, eia_wait_sessions(0, 5000));
}

TEST_F(cli, detach_unknown_device)
{
	EXPECT_NE(0, EIA(0, "detach", "eia4242"));
	EXPECT_NE(NULL, strstr(self->err, "4242")) {
		TH_LOG("stderr: %s", self->err);
	}
}

TEST_F(cli, connection_refused)
{
	/* Port 1 on loopback: nothing listens there. */
	EXPECT_NE(0, EIA(0, "attach", "--server", "127.0.0.1:1", "--type", "eia2.medium"));
	EXPECT_NE(NULL, strcasestr(self->err, "connection refused")) {
		TH_LOG("stderr: %s", self->err);
	}
	EXPECT_EQ(0, eia_dump(&self->nl, NULL, 0));
}

TEST_F(cli, unknown_type)
{
	EXPECT_NE(0, EIA(0, "attach", "--server", (char *)eia_server(), "--type", "eia9.enormous"));
	EXPECT_NE(NULL, strcasestr(self->err, "type")) {
		TH_LOG("stderr: %s", self->err);
	}
	EXPECT_EQ(0, eia_dump(&self->nl, NULL, 0));
	EXPECT_EQ(0, eia_wait_sessions(0, 5000));
}

TEST_F(cli, no_permission)
{
	EXPECT_NE(0, EIA(EIA_RUN_AS_NOBODY, "attach", "--server", (char *)eia_server(),
			 "--type", "eia2.medium"));
	EXPECT_TRUE(strstr(self->err, "CAP_NET_ADMIN") || strcasestr(self->err, "permi")) {
		TH_LOG("stderr: %s", self->err);
	}
	EXPECT_EQ(0, eia_dump(&self->nl, NULL, 0));
}

/* Checks `describe-accelerators --json` against a GET dump. */
static void check_describe(struct __test_metadata *_metadata, const char *text,
			   const struct eia_dev *devs, int n)
{
	struct json_object *root, *v, *list;
	int i;

	root = json_tokener_parse(text);
	ASSERT_NE(NULL, root) {
		TH_LOG("not JSON: %s", text);
	}
	ASSERT_TRUE(json_object_object_get_ex(root, "ei_client_version", &v));
	EXPECT_TRUE(json_object_is_type(v, json_type_string));
	ASSERT_TRUE(json_object_object_get_ex(root, "time", &v));
	EXPECT_TRUE(json_object_is_type(v, json_type_string));
	ASSERT_TRUE(json_object_object_get_ex(root, "attached_accelerators", &v));
	EXPECT_EQ(n, json_object_get_int(v));
	ASSERT_TRUE(json_object_object_get_ex(root, "devices", &list));
	ASSERT_TRUE(json_object_is_type(list, json_type_array));
	ASSERT_EQ(n, (int)json_object_array_length(list));
	for (i = 0; i < n; i++) {
		struct json_object *d = json_object_array_get_idx(list, (size_t)i);
		const struct eia_dev *want = NULL;
		int j, ordinal;

		ASSERT_TRUE(json_object_object_get_ex(d, "ordinal", &v));
		ordinal = json_object_get_int(v);
		for (j = 0; j < n; j++)
			if ((int)devs[j].index == ordinal)
				want = &devs[j];
		ASSERT_NE(NULL, want) {
			TH_LOG("ordinal %d is no attached device", ordinal);
		}
		ASSERT_TRUE(json_object_object_get_ex(d, "type", &v));
		EXPECT_STREQ(want->type, json_object_get_string(v));
		ASSERT_TRUE(json_object_object_get_ex(d, "id", &v));
		EXPECT_STREQ(want->accel_id, json_object_get_string(v));
		ASSERT_TRUE(json_object_object_get_ex(d, "status", &v));
		EXPECT_STREQ(want->status == EIA_STATUS_HEALTHY ? "healthy" :
			     want->status == EIA_STATUS_IMPAIRED ? "impaired" : "unknown",
			     json_object_get_string(v));
	}
	json_object_put(root);
}

TEST_F(cli, describe_json_matches_devices)
{
	struct eia_dev devs[4];
	int n;

	ASSERT_EQ(0, eia_attach(&self->nl, "eia2.medium", 0, &devs[0]));
	ASSERT_EQ(0, eia_attach(&self->nl, "eia1.xlarge", 0, &devs[1]));
	ASSERT_EQ(0, EIA(0, "describe-accelerators", "--json")) {
		TH_LOG("stderr: %s", self->err);
	}
	n = eia_dump(&self->nl, devs, 4);
	ASSERT_EQ(2, n);
	check_describe(_metadata, self->out, devs, n);
}

TEST_F(cli, describe_json_nothing_attached)
{
	ASSERT_EQ(0, EIA(0, "describe-accelerators", "--json")) {
		TH_LOG("stderr: %s", self->err);
	}
	check_describe(_metadata, self->out, NULL, 0);
}

TEST_F(cli, describe_json_impaired)
{
	struct eia_dev devs[2];

	if (!eia_gpud_local())
		SKIP(return, "gpud is not on this machine (%s)", eia_server());
	ASSERT_EQ(0, eia_attach(&self->nl, "eia2.medium", 1000, &devs[0]));
	ASSERT_EQ(0, eia_gpud_kill(SIGKILL));
	ASSERT_EQ(0, eia_wait_status(devs[0].name, "impaired", 3000));
	ASSERT_EQ(0, EIA(0, "describe-accelerators", "--json"));
	ASSERT_EQ(1, eia_dump(&self->nl, devs, 2));
	EXPECT_EQ(EIA_STATUS_IMPAIRED, devs[0].status);
	check_describe(_metadata, self->out, devs, 1);
}

TEST_F(cli, reattach_after_gpud_restart)
{
	struct eia_dev dev, g;

	if (!eia_gpud_local())
		SKIP(return, "gpud is not on this machine (%s)", eia_server());
	ASSERT_EQ(0, eia_attach(&self->nl, "eia2.large", 1000, &dev));
	ASSERT_EQ(0, eia_gpud_kill(SIGKILL));
	ASSERT_EQ(0, eia_wait_status(dev.name, "impaired", 3000));
	/* gpud still down: a clear failure. */
	EXPECT_NE(0, EIA(0, "reattach", dev.name, "--server", (char *)eia_server()));
	EXPECT_NE(NULL, strcasestr(self->err, "connection refused")) {
		TH_LOG("stderr: %s", self->err);
	}
	ASSERT_EQ(0, eia_gpud_start());
	ASSERT_EQ(0, EIA(0, "reattach", dev.name, "--server", (char *)eia_server())) {
		TH_LOG("stderr: %s", self->err);
	}
	ASSERT_EQ(0, eia_get(&self->nl, dev.index, &g));
	EXPECT_EQ(EIA_STATUS_HEALTHY, g.status);
	EXPECT_STREQ(dev.accel_id, g.accel_id);
}

/* Reads a line from @fd into @buf within @timeout_ms; false on EOF or timeout. */
static bool read_line(int fd, char *buf, size_t len, int timeout_ms)
{
	int64_t deadline = eia_now_ms() + timeout_ms;
	size_t used = 0;

	while (used + 1 < len) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - eia_now_ms();

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			return false;
		if (read(fd, buf + used, 1) != 1)
			return false;
		if (buf[used] == '\n')
			break;
		used++;
	}
	buf[used] = '\0';
	return true;
}

TEST_F(cli, monitor_prints_events)
{
	char line[256], want[256];
	struct eia_dev dev;
	int p[2], status;
	pid_t pid;

	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		dup2(p[1], STDOUT_FILENO);
		close(p[0]);
		execlp("eia", "eia", "monitor", "--count", "2", "--timeout-ms", "20000",
		       (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	ASSERT_TRUE(read_line(p[0], line, sizeof(line), 10000));
	EXPECT_STREQ("monitoring", line);

	ASSERT_EQ(0, eia_attach(&self->nl, "eia2.medium", 0, &dev));
	ASSERT_EQ(0, eia_detach(&self->nl, dev.index));
	ASSERT_TRUE(read_line(p[0], line, sizeof(line), 10000));
	snprintf(want, sizeof(want), "attached %s type=eia2.medium id=%s", dev.name,
		 dev.accel_id);
	EXPECT_EQ(0, strncmp(line, want, strlen(want))) {
		TH_LOG("got '%s'", line);
	}
	ASSERT_TRUE(read_line(p[0], line, sizeof(line), 10000));
	snprintf(want, sizeof(want), "detached %s", dev.name);
	EXPECT_STREQ(want, line);
	close(p[0]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

EIA_TEST_MAIN
