/* dut: see dut.h. */
#include "dut.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"
#include "sockprobe.h"
#include "util.h"

#define DUT_TOOL_TIMEOUT_NS (10 * FW_NS_PER_SEC)
#define DUT_LOG_MAX 2048

struct dut {
	struct proc_child child;
	int log_fd;
	char prog[64];
};

/* What the box's commands see of the topology (topo_desc_dut). */
static char *const dut_env[] = {
	"FW_DUT_IF_A=a0",		  "FW_DUT_IF_B=b0",
	"FW_DUT_A_V4=198.18.3.2",	  "FW_DUT_B_V4=198.18.4.2",
	"FW_DUT_A_V6=2001:2:0:3::2",	  "FW_DUT_B_V6=2001:2:0:4::2",
	"FW_CLIENT_V4=198.18.1.2",	  "FW_SERVER_V4=198.18.2.2",
	"FW_CLIENT_V6=2001:2:0:1::2",	  "FW_SERVER_V6=2001:2:0:2::2",
	NULL,
};

static int dut_sh(int ns_fd, const char *what, const char *command, const char *dir, char *err,
		  size_t errlen)
{
	char sh[512], out[1024], line[256], cdir[CASE_MAX_PATH + 16];
	char *env[16];
	size_t i;
	int ret;

	if (proc_tool_find("sh", sh, sizeof(sh)) < 0)
		return fw_err(err, errlen, -ENOENT, "dut: no sh to run the %s command", what);
	for (i = 0; dut_env[i]; i++)
		env[i] = dut_env[i];
	snprintf(cdir, sizeof(cdir), "FW_CASE_DIR=%s", dir);
	env[i++] = cdir;
	env[i] = NULL;
	ret = proc_run_ns(ns_fd, (char *const[]){ sh, "-c", (char *)command, NULL }, env,
			  DUT_TOOL_TIMEOUT_NS, out, sizeof(out));
	if (ret < 0) {
		proc_first_line(out, line, sizeof(line));
		return fw_err(err, errlen, ret, "dut: %s command '%s' failed: %s", what, command,
			      line[0] ? line : strerror(-ret));
	}
	return 0;
}

static int dut_ruleset(int ns_fd, const char *path, char *err, size_t errlen)
{
	char nft[512], out[1024], line[256];
	int ret;

	if (access(path, R_OK) < 0)
		return fw_err(err, errlen, -ENOENT, "dut: ruleset %s: %s", path, strerror(errno));
	if (proc_tool_find("nft", nft, sizeof(nft)) < 0)
		return fw_err(err, errlen, -ENOENT, "dut: ruleset %s needs nft (apt-get install nftables)",
			      path);
	ret = proc_run_ns(ns_fd, (char *const[]){ nft, "-f", (char *)path, NULL }, NULL,
			  DUT_TOOL_TIMEOUT_NS, out, sizeof(out));
	if (ret < 0) {
		proc_first_line(out, line, sizeof(line));
		return fw_err(err, errlen, ret, "dut: ruleset %s does not load: %s", path,
			      line[0] ? line : strerror(-ret));
	}
	return 0;
}

/* A listener on port in the box's namespace? */
static int dut_listening(struct sockprobe *p, uint16_t port)
{
	struct sock_info *socks = NULL;
	char err[FW_ERRLEN];
	size_t n = 0, i;
	int found = 0;

	if (sockprobe_dump(p, &socks, &n, err, sizeof(err)) < 0)
		return 0;
	for (i = 0; i < n && !found; i++)
		found = socks[i].state == FW_TCP_LISTEN && socks[i].sport == port;
	free(socks);
	return found;
}

static int dut_wait_ready(struct dut *d, int ns_fd, uint16_t port, int64_t deadline_ns,
			  char *err, size_t errlen)
{
	struct sockprobe *p = NULL;
	char why[96], log[DUT_LOG_MAX], line[256];
	int ret = sockprobe_open(&p, ns_fd, err, errlen);

	while (ret == 0) {
		/* a program's readiness sends no event: probe every 2 ms, but wake
		 * at once when it dies (its pidfd turns readable) */
		struct pollfd pfd = { .fd = d->child.pidfd, .events = POLLIN };

		if (dut_listening(p, port))
			break;
		if (proc_reap(&d->child) == 1) {
			proc_describe(&d->child, why, sizeof(why));
			proc_log_read(d->log_fd, log, sizeof(log));
			proc_first_line(log, line, sizeof(line));
			ret = fw_err(err, errlen, -ECHILD, "dut: %s %s before listening on port %u%s%s",
				     d->prog, why, port, line[0] ? ": " : "", line);
		} else if (fw_now_ns() >= deadline_ns) {
			ret = fw_err(err, errlen, -ETIMEDOUT, "dut: %s never listened on port %u",
				     d->prog, port);
		} else {
			poll(&pfd, 1, 2);
		}
	}
	sockprobe_free(p);
	return ret;
}

static int dut_spawn(struct dut *d, const struct fw_dut *cfg, int ns_fd, char *err, size_t errlen)
{
	char sh[512], cmd[CASE_MAX_TEXT + 8], cdir[CASE_MAX_PATH + 16];
	char *env[16];
	size_t i;
	int ret;

	if (proc_tool_find("sh", sh, sizeof(sh)) < 0)
		return fw_err(err, errlen, -ENOENT, "dut: no sh to start '%s'", cfg->run);
	/* exec: the program itself is our child, so killing it kills it */
	snprintf(cmd, sizeof(cmd), "exec %s", cfg->run);
	for (i = 0; dut_env[i]; i++)
		env[i] = dut_env[i];
	snprintf(cdir, sizeof(cdir), "FW_CASE_DIR=%s", cfg->dir);
	env[i++] = cdir;
	env[i] = NULL;
	ret = proc_spawn_ns(&d->child, ns_fd, (char *const[]){ sh, "-c", cmd, NULL }, env,
			    &d->log_fd);
	if (ret < 0)
		return fw_err(err, errlen, ret, "dut: cannot start '%s': %s", cfg->run,
			      strerror(-ret));
	return 0;
}

int dut_start(struct dut **out, const struct fw_dut *cfg, int ns_fd, int64_t deadline_ns,
	      char *err, size_t errlen)
{
	struct dut *d;
	int ret = 0;

	*out = NULL;
	if (cfg->ruleset[0] && (ret = dut_ruleset(ns_fd, cfg->ruleset, err, errlen)) < 0)
		return ret;
	if (cfg->setup[0] && (ret = dut_sh(ns_fd, "setup", cfg->setup, cfg->dir, err, errlen)) < 0)
		return ret;
	if (!cfg->run[0])
		return 0;
	d = calloc(1, sizeof(*d));
	if (!d)
		return fw_err(err, errlen, -ENOMEM, "dut: out of memory");
	d->log_fd = -1;
	snprintf(d->prog, sizeof(d->prog), "%.*s", (int)strcspn(cfg->run, " \t"), cfg->run);
	*out = d;
	ret = dut_spawn(d, cfg, ns_fd, err, errlen);
	if (ret == 0 && cfg->ready_port)
		ret = dut_wait_ready(d, ns_fd, cfg->ready_port, deadline_ns, err, errlen);
	return ret;
}

int dut_running(struct dut *d)
{
	if (!d || !d->child.pid)
		return -1;
	return proc_reap(&d->child) == 1 ? 0 : 1;
}

void dut_stop(struct dut *d, char *report, size_t len)
{
	char why[96], log[DUT_LOG_MAX];
	bool was_running;

	if (len)
		report[0] = '\0';
	if (!d)
		return;
	was_running = d->child.pid && proc_reap(&d->child) == 0;
	proc_destroy(&d->child);
	if (d->child.pid) {
		proc_describe(&d->child, why, sizeof(why));
		log[0] = '\0';
		if (d->log_fd >= 0)
			proc_log_read(d->log_fd, log, sizeof(log));
		snprintf(report, len, "%s: %s%s%s%s", d->prog,
			 was_running ? "ran until the end of the case" : why,
			 log[0] ? "; it wrote: " : "; it wrote nothing", log, "");
	}
	if (d->log_fd >= 0)
		close(d->log_fd);
	free(d);
}
