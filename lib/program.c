/* program: see program.h. */
#include "program.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sockprobe.h"
#include "util.h"

#define PROGRAM_LOG_MAX 2048

/* What a box's or an endpoint's commands see of the topology (topo.h): a
 * bridged box has no addresses of its own, a routed one no bridge. */
static const struct {
	const char *entry;
	bool routed, bridged;
} topology_env[] = {
	{ "FW_DUT_IF_A=a0", true, true },
	{ "FW_DUT_IF_B=b0", true, true },
	{ "FW_DUT_BRIDGE=br0", false, true },
	{ "FW_DUT_A_V4=198.18.3.2", true, false },
	{ "FW_DUT_B_V4=198.18.4.2", true, false },
	{ "FW_DUT_A_V6=2001:2:0:3::2", true, false },
	{ "FW_DUT_B_V6=2001:2:0:4::2", true, false },
	{ "FW_CLIENT_V4=198.18.1.2", true, true },
	{ "FW_SERVER_V4=198.18.2.2", true, true },
	{ "FW_CLIENT_V6=2001:2:0:1::2", true, true },
	{ "FW_SERVER_V6=2001:2:0:2::2", true, true },
};
#define TOPOLOGY_ENV_COUNT (sizeof(topology_env) / sizeof(topology_env[0]))

void program_env(char *env[], size_t max, char *case_dir_entry, size_t entry_len,
		 const char *case_dir, bool bridged)
{
	size_t i, n = 0;

	for (i = 0; i < TOPOLOGY_ENV_COUNT && n + 2 < max; i++)
		if (bridged ? topology_env[i].bridged : topology_env[i].routed)
			env[n++] = (char *)topology_env[i].entry;
	snprintf(case_dir_entry, entry_len, "FW_CASE_DIR=%s", case_dir);
	env[n++] = case_dir_entry;
	env[n] = NULL;
}

void program_output(const struct program *p, char *buf, size_t len)
{
	buf[0] = '\0';
	if (p->log_fd >= 0)
		proc_log_read(p->log_fd, buf, len);
}

/* A listener on port in the namespace? */
static int program_listening(struct sockprobe *sp, uint16_t port)
{
	struct sock_info *socks = NULL;
	char err[FW_ERRLEN];
	size_t n = 0, i;
	int found = 0;

	if (sockprobe_dump(sp, &socks, &n, err, sizeof(err)) < 0)
		return 0;
	for (i = 0; i < n && !found; i++)
		found = socks[i].state == FW_TCP_LISTEN && socks[i].sport == port;
	free(socks);
	return found;
}

static int program_wait_ready(struct program *p, const char *what, int ns_fd, uint16_t port,
			      int64_t deadline_ns, char *err, size_t errlen)
{
	struct sockprobe *sp = NULL;
	char why[96], log[PROGRAM_LOG_MAX], line[256];
	int ret = sockprobe_open(&sp, ns_fd, err, errlen);

	while (ret == 0) {
		/* readiness sends no event: probe every 2 ms, but wake at once
		 * when the program dies (its pidfd turns readable) */
		struct pollfd pfd = { .fd = p->child.pidfd, .events = POLLIN };

		if (program_listening(sp, port))
			break;
		if (proc_reap(&p->child) == 1) {
			proc_describe(&p->child, why, sizeof(why));
			program_output(p, log, sizeof(log));
			proc_first_line(log, line, sizeof(line));
			ret = fw_err(err, errlen, -ECHILD, "%s: %s %s before listening on port %u%s%s",
				     what, p->name, why, port, line[0] ? ": " : "", line);
		} else if (fw_now_ns() >= deadline_ns) {
			ret = fw_err(err, errlen, -ETIMEDOUT, "%s: %s never listened on port %u", what,
				     p->name, port);
		} else {
			poll(&pfd, 1, 2);
		}
	}
	sockprobe_free(sp);
	return ret;
}

int program_start(struct program *p, const char *what, int ns_fd, const char *command, bool bridged,
		  const char *case_dir, uint16_t ready_port, int64_t deadline_ns, char *err,
		  size_t errlen)
{
	char sh[512], cmd[600], cdir[600];
	char *env[16];
	int ret;

	memset(p, 0, sizeof(*p));
	p->log_fd = -1;
	p->child.pidfd = -1;
	snprintf(p->name, sizeof(p->name), "%.*s", (int)strcspn(command, " \t"), command);
	if (proc_tool_find("sh", sh, sizeof(sh)) < 0)
		return fw_err(err, errlen, -ENOENT, "%s: no sh to start '%s'", what, command);
	/* exec: the program itself is our child, so killing it kills it */
	snprintf(cmd, sizeof(cmd), "exec %s", command);
	program_env(env, sizeof(env) / sizeof(env[0]), cdir, sizeof(cdir), case_dir, bridged);
	ret = proc_spawn_ns(&p->child, ns_fd, (char *const[]){ sh, "-c", cmd, NULL }, env,
			    &p->log_fd);
	if (ret < 0)
		return fw_err(err, errlen, ret, "%s: cannot start '%s': %s", what, command,
			      strerror(-ret));
	if (ready_port)
		ret = program_wait_ready(p, what, ns_fd, ready_port, deadline_ns, err, errlen);
	return ret;
}

void program_stop(struct program *p, char *report, size_t len)
{
	char why[96], log[PROGRAM_LOG_MAX];
	bool was_running;

	if (len)
		report[0] = '\0';
	if (!p->child.pid) {
		if (p->log_fd >= 0)
			close(p->log_fd);
		p->log_fd = -1;
		return;
	}
	was_running = proc_reap(&p->child) == 0;
	proc_destroy(&p->child);
	proc_describe(&p->child, why, sizeof(why));
	program_output(p, log, sizeof(log));
	snprintf(report, len, "%s: %s%s%s", p->name,
		 was_running ? "ran until the end of the case" : why,
		 log[0] ? "; it wrote: " : "; it wrote nothing", log);
	if (p->log_fd >= 0)
		close(p->log_fd);
	p->log_fd = -1;
}
