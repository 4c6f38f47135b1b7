/* dut: see dut.h. */
#include "dut.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "program.h"
#include "util.h"

#define DUT_TOOL_TIMEOUT_NS (10 * FW_NS_PER_SEC)

struct dut {
	struct program prog;
};

static int dut_sh(int ns_fd, const char *command, const char *dir, bool bridged, char *err,
		  size_t errlen)
{
	char sh[512], out[1024], line[256], cdir[CASE_MAX_PATH + 16];
	char *env[16];
	int ret;

	if (proc_tool_find("sh", sh, sizeof(sh)) < 0)
		return fw_err(err, errlen, -ENOENT, "dut: no sh to run the setup command");
	program_env(env, sizeof(env) / sizeof(env[0]), cdir, sizeof(cdir), dir, bridged);
	ret = proc_run_ns(ns_fd, (char *const[]){ sh, "-c", (char *)command, NULL }, env,
			  DUT_TOOL_TIMEOUT_NS, out, sizeof(out));
	if (ret < 0) {
		proc_first_line(out, line, sizeof(line));
		return fw_err(err, errlen, ret, "dut: setup command '%s' failed: %s", command,
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

int dut_load_ruleset(const struct fw_dut *cfg, int ns_fd, char *err, size_t errlen)
{
	return cfg->ruleset[0] ? dut_ruleset(ns_fd, cfg->ruleset, err, errlen) : 0;
}

int dut_start(struct dut **out, const struct fw_dut *cfg, int ns_fd, int64_t deadline_ns,
	      char *err, size_t errlen)
{
	struct dut *d;
	int ret = 0;

	*out = NULL;
	if (cfg->setup[0] && (ret = dut_sh(ns_fd, cfg->setup, cfg->dir, cfg->mode == DUT_BRIDGE, err, errlen)) < 0)
		return ret;
	if (!cfg->run[0])
		return 0;
	d = calloc(1, sizeof(*d));
	if (!d)
		return fw_err(err, errlen, -ENOMEM, "dut: out of memory");
	*out = d;
	return program_start(&d->prog, "dut", ns_fd, cfg->run, cfg->mode == DUT_BRIDGE, cfg->dir,
			     cfg->ready_port, deadline_ns, err, errlen);
}

int dut_running(struct dut *d)
{
	if (!d || !d->prog.child.pid)
		return -1;
	return proc_reap(&d->prog.child) == 1 ? 0 : 1;
}

void dut_stop(struct dut *d, char *report, size_t len)
{
	if (len)
		report[0] = '\0';
	if (!d)
		return;
	program_stop(&d->prog, report, len);
	free(d);
}
