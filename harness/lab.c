/* finwave lab: the same selection on several kernels, one matrix.
 * Each --kernel is prepared by scripts/lab/prepare-kernel.sh (a .deb, a
 * package fetched once with apt-get download into the cache, or
 * VMLINUZ:MODULES_DIR) and booted under qemu: KVM when it boots, else TCG.
 * The guest runs on the host's root (9p, read-only, under a tmpfs overlay)
 * with its own modules, runs this very finwave binary on the same paths and
 * options, writes its report into OUT/kernels/RELEASE (a writable 9p share)
 * and powers off with finwave's exit code. 'host' is this machine's kernel,
 * run directly. A guest past its deadline is killed and reported. Then the
 * results of every kernel make one matrix (matrix.c). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "datapath.h"
#include "lab.h"
#include "matrix.h"
#include "report.h"
#include "util.h"


#define LAB_MAX_KERNELS 32
#define LAB_MAX_ARGS 64
#define LAB_PROBE_SECONDS 20 /* KVM boots to the initramfs in seconds; a failing one hangs */
#define LAB_TCG_JOBS_PER_CPU 2L /* 'finwave run --jobs' in a TCG guest, per guest CPU */
#define LAB_PROBE_ANSWER 42  /* what stage1.sh writes to isa-debug-exit when probed */

enum lab_exit {
	LAB_EXIT_OK = 0,
	LAB_EXIT_FAILED = 1,
	LAB_EXIT_USAGE = 2,
	LAB_EXIT_ENVIRONMENT = 3,
	LAB_EXIT_INTERRUPTED = 130,
};

enum lab_accel { LAB_ACCEL_AUTO, LAB_ACCEL_KVM, LAB_ACCEL_TCG };

struct lab_options {
	const char *kernels[LAB_MAX_KERNELS];
	size_t nkernels;
	const char *out, *cache, *append, *claims;
	const char *run_args[LAB_MAX_ARGS]; /* passed to 'finwave run' as given */
	size_t nrun_args;
	long memory_mb, cpus, timeout_s;
	enum lab_accel accel;
	bool quiet;
	bool jobs_given; /* --jobs among run_args */
};

/* What prepare-kernel.sh prints. */
struct lab_kernel {
	char release[128], vmlinuz[1024], modules[1024], initrd[1024], source[512];
};

static volatile sig_atomic_t lab_stop;

static void lab_on_signal(int sig)
{
	(void)sig;
	lab_stop = 1;
}

static const char *lab_scripts_dir(void)
{
	const char *env = getenv("FINWAVE_LAB_SCRIPTS"), *found = datapath_find("lab");

	return env && *env ? env : found ? found : "scripts/lab";
}

/* Wait for pid until deadline_ms from now (-1: none). Returns 0 with
 * *status, -ETIME when the deadline passed, -EINTR on SIGINT/SIGTERM; in
 * both the process is killed and reaped. */
static int lab_wait(pid_t pid, long deadline_ms, int *status)
{
	int fd = pidfd_open(pid, 0), ret = 0;
	int64_t end = deadline_ms < 0 ? 0 : fw_now_ns() + (int64_t)deadline_ms * 1000000;

	while (fd >= 0 && !lab_stop) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int64_t left_ms = deadline_ms < 0 ? -1 : (end - fw_now_ns()) / 1000000;

		if (deadline_ms >= 0 && left_ms <= 0) {
			ret = -ETIME;
			break;
		}
		if (poll(&p, 1, left_ms > INT_MAX ? INT_MAX : (int)left_ms) > 0)
			break;
	}
	if (lab_stop && ret == 0)
		ret = -EINTR;
	if (ret < 0)
		kill(pid, SIGKILL);
	if (fd >= 0)
		close(fd);
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
	return ret;
}

/* Run argv with stdout into buf (NUL-terminated) or into the file
 * out_path, stderr into err_path (NULL: inherited). Returns the exit code,
 * or -errno. */
static int lab_spawn(char *const argv[], char *buf, size_t len, const char *out_path,
		     const char *err_path, long deadline_ms, int *wait_ret)
{
	int pipefd[2] = { -1, -1 }, status = 0, ret;
	size_t used = 0;
	pid_t pid;

	if (buf && pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		goto out;
	}
	if (pid == 0) {
		int fd;

		if (buf)
			dup2(pipefd[1], STDOUT_FILENO);
		if (out_path && (fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) >= 0)
			dup2(fd, STDOUT_FILENO);
		if (err_path && (fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) >= 0)
			dup2(fd, STDERR_FILENO);
		fd = open("/dev/null", O_RDONLY);
		dup2(fd, STDIN_FILENO);
		/* the lab's SIGINT handling is for the lab: the child gets defaults */
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		execvp(argv[0], argv);
		fprintf(stderr, "finwave lab: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (buf) {
		ssize_t n;

		close(pipefd[1]);
		pipefd[1] = -1;
		while ((n = read(pipefd[0], buf + used, len - 1 - used)) > 0 ||
		       (n < 0 && errno == EINTR && !lab_stop))
			if (n > 0)
				used += (size_t)n;
		buf[used] = '\0';
	}
	ret = lab_wait(pid, deadline_ms, &status);
	if (wait_ret)
		*wait_ret = ret;
	if (ret == 0)
		ret = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
out:
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	return ret;
}

/* "key=value" lines of prepare-kernel.sh into the struct. */
static void lab_kernel_parse(char *text, struct lab_kernel *k)
{
	static const struct {
		const char *key;
		size_t off, len;
	} fields[] = {
		{ "release=", offsetof(struct lab_kernel, release), sizeof(k->release) },
		{ "vmlinuz=", offsetof(struct lab_kernel, vmlinuz), sizeof(k->vmlinuz) },
		{ "modules=", offsetof(struct lab_kernel, modules), sizeof(k->modules) },
		{ "initrd=", offsetof(struct lab_kernel, initrd), sizeof(k->initrd) },
		{ "source=", offsetof(struct lab_kernel, source), sizeof(k->source) },
	};
	char *line, *save = NULL;
	size_t i;

	memset(k, 0, sizeof(*k));
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
			if (strncmp(line, fields[i].key, strlen(fields[i].key)) == 0)
				snprintf((char *)k + fields[i].off, fields[i].len, "%s",
					 line + strlen(fields[i].key));
}

static void lab_cache_dir(const struct lab_options *o, char *buf, size_t len)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");

	if (o->cache)
		snprintf(buf, len, "%s", o->cache);
	else if (getenv("FINWAVE_CACHE") && *getenv("FINWAVE_CACHE"))
		snprintf(buf, len, "%s", getenv("FINWAVE_CACHE"));
	else if (xdg && *xdg)
		snprintf(buf, len, "%s/finwave/kernels", xdg);
	else
		snprintf(buf, len, "%s/.cache/finwave/kernels", home && *home ? home : "/root");
}

/* The qemu command line for one guest (argv in a caller's array of
 * strings; the strings live in store). */
struct lab_qemu {
	char *argv[48];
	char store[8][4096];
	size_t n;
};

static void lab_qemu_build(struct lab_qemu *q, const struct lab_options *o,
			   const struct lab_kernel *k, const char *kdir, bool kvm, bool probe)
{
	static char mem[16], cpus[16];
	size_t s = 0;

#define ARG(x) (q->argv[q->n++] = (char *)(x))
#define FMT(...) (snprintf(q->store[s], sizeof(q->store[s]), __VA_ARGS__), q->store[s++])
	q->n = 0;
	snprintf(mem, sizeof(mem), "%ld", o->memory_mb);
	snprintf(cpus, sizeof(cpus), "%ld", o->cpus);
	ARG("qemu-system-x86_64");
	ARG("-accel");
	ARG(kvm ? "kvm" : "tcg");
	if (kvm) {
		ARG("-cpu");
		ARG("host");
	}
	ARG("-m");
	ARG(mem);
	ARG("-smp");
	ARG(cpus);
	ARG("-nodefaults");
	ARG("-no-user-config");
	ARG("-display");
	ARG("none");
	ARG("-no-reboot");
	ARG("-chardev");
	ARG(FMT("file,id=con,path=%s/%s", kdir, probe ? "probe-console.log" : "console.log"));
	ARG("-serial");
	ARG("chardev:con");
	ARG("-kernel");
	ARG(k->vmlinuz);
	ARG("-initrd");
	ARG(k->initrd);
	ARG("-append");
	ARG(FMT("console=ttyS0 panic=-1 quiet %s finwave.stage2=%s/stage2.sh finwave.job=%s/lab-job.sh %s",
		probe ? "finwave.probe" : "", lab_scripts_dir(), kdir, o->append ? o->append : ""));
	ARG("-fsdev");
	ARG("local,id=root,path=/,security_model=none,readonly=on,multidevs=remap");
	ARG("-device");
	ARG("virtio-9p-pci,fsdev=root,mount_tag=hostroot");
	ARG("-fsdev");
	ARG(FMT("local,id=out,path=%s,security_model=none,multidevs=remap", kdir));
	ARG("-device");
	ARG("virtio-9p-pci,fsdev=out,mount_tag=out");
	ARG("-device");
	ARG("isa-debug-exit,iobase=0xf4,iosize=0x04");
	q->argv[q->n] = NULL;
#undef ARG
#undef FMT
}

/* Does KVM boot this kernel to its initramfs? The paravirtual /dev/kvm of
 * a nested VM may open and then fail at the first instruction it cannot
 * emulate; only a boot says. */
static bool lab_kvm_works(const struct lab_options *o, const struct lab_kernel *k, const char *kdir)
{
	struct lab_qemu q;
	char errpath[4096];
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC), rc, wret = 0;

	if (fd < 0)
		return false;
	close(fd);
	lab_qemu_build(&q, o, k, kdir, true, true);
	snprintf(errpath, sizeof(errpath), "%s/probe-qemu-stderr.txt", kdir);
	rc = lab_spawn(q.argv, NULL, 0, "/dev/null", errpath, LAB_PROBE_SECONDS * 1000L, &wret);
	return wret == 0 && rc == (LAB_PROBE_ANSWER << 1 | 1);
}

/* The first line of a file, or "". */
static void lab_first_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	buf[0] = '\0';
	if (f && fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = '\0';
	if (f)
		fclose(f);
}

/* s in single quotes for sh: a path or an option is never code. */
static void lab_quote(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++)
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	fputc('\'', f);
}

/* 'finwave run --report-dir KDIR [run options] PATH...' as an argv (the
 * array malloc'd, NULL-terminated; its strings borrowed, jobs filled). */
static char **lab_run_argv(const struct lab_options *o, const char *self, const char *kdir,
			   char *const paths[], size_t npaths, bool tcg, char *jobs, size_t jobslen)
{
	char **argv = calloc(o->nrun_args + npaths + 8, sizeof(*argv));
	size_t n = 0, i;

	if (!argv)
		return NULL;
	argv[n++] = (char *)self;
	argv[n++] = "run";
	argv[n++] = "--report-dir";
	argv[n++] = (char *)kdir;
	for (i = 0; i < o->nrun_args; i++)
		argv[n++] = (char *)o->run_args[i];
	/* Emulated CPUs are slow: the host's default (16 cases per CPU) made
	 * 18 and 58 of 143 runs ERROR on 6.1 and 6.12 under TCG, the kernel's
	 * netlink answers coming after the 2 s setup deadline. */
	if (tcg && !o->jobs_given) {
		snprintf(jobs, jobslen, "%ld", LAB_TCG_JOBS_PER_CPU * o->cpus);
		argv[n++] = "--jobs";
		argv[n++] = jobs;
	}
	for (i = 0; i < npaths; i++)
		argv[n++] = paths[i];
	return argv;
}

/* KDIR/lab-job.sh, which stage2.sh sources: where to run, the kernel's
 * modules, and the command (eval'd there, so every word is quoted). */
static int lab_write_job(const char *kdir, const char *modules, char *const argv[])
{
	char path[4096], cwd[PATH_MAX], *cmd = NULL;
	size_t cmdlen = 0, i;
	FILE *f = NULL, *ms;
	int ret = 0;

	if (!getcwd(cwd, sizeof(cwd)))
		return -errno;
	ms = open_memstream(&cmd, &cmdlen);
	if (!ms)
		return -ENOMEM;
	for (i = 0; argv[i]; i++) {
		if (i)
			fputc(' ', ms);
		lab_quote(ms, argv[i]);
	}
	if (fclose(ms) != 0) {
		ret = -ENOMEM;
		goto out;
	}
	snprintf(path, sizeof(path), "%s/lab-job.sh", kdir);
	f = fopen(path, "w");
	if (!f) {
		ret = -errno;
		goto out;
	}
	fputs("# written by finwave lab: what the guest runs (scripts/lab/stage2.sh reads it)\nFW_CWD=", f);
	lab_quote(f, cwd);
	fputs("\nFW_MODULES=", f);
	lab_quote(f, modules);
	fputs("\nFW_CMD=", f);
	lab_quote(f, cmd);
	fputc('\n', f);
	ret = fclose(f) == 0 ? 0 : -EIO;
out:
	free(cmd);
	return ret;
}

/* One kernel: prepare, boot (or run here for 'host'), collect. Fills the
 * matrix column; returns 0, or a lab_exit code that stops the lab. */
/* The kernel to test: this machine's ("host"), or one prepare-kernel.sh
 * fetched and unpacked into the cache. 0, or an exit code. */
static int lab_kernel_prepare(const struct lab_options *o, const char *spec, struct lab_kernel *k)
{
	char text[8192], cache[1024], script[2048];
	char *pargv[] = { "bash", script, (char *)spec, cache, NULL };
	struct utsname un;
	int rc, wret = 0;

	memset(k, 0, sizeof(*k));
	if (strcmp(spec, "host") == 0) {
		uname(&un);
		snprintf(k->release, sizeof(k->release), "%s", un.release);
		snprintf(k->source, sizeof(k->source), "this machine's kernel, run directly");
		return 0;
	}
	lab_cache_dir(o, cache, sizeof(cache));
	snprintf(script, sizeof(script), "%s/prepare-kernel.sh", lab_scripts_dir());
	if (access(script, R_OK) < 0) {
		fprintf(stderr, "finwave lab: %s: missing (set FINWAVE_LAB_SCRIPTS to finwave's scripts/lab)\n",
			script);
		return LAB_EXIT_ENVIRONMENT;
	}
	fprintf(stderr, "finwave lab: %s: preparing (cache %s)\n", spec, cache);
	rc = lab_spawn(pargv, text, sizeof(text), NULL, NULL, -1, &wret);
	if (wret == -EINTR)
		return LAB_EXIT_INTERRUPTED;
	lab_kernel_parse(text, k);
	if (rc != 0 || !k->release[0] || !k->initrd[0])
		return LAB_EXIT_USAGE; /* the script said why on stderr */
	return 0;
}

/* OUT/kernels/RELEASE, made, with no result of an earlier lab left in it.
 * 0, or an exit code. */
static int lab_kernel_dir(const struct lab_options *o, const char *spec, const struct matrix *m,
			  const struct lab_kernel *k, char *kdir, size_t len)
{
	static const char *const stale[] = { "results.json", "lab-exit", "stdout.txt", "stderr.txt" };
	char path[4096];
	size_t i;

	for (i = 0; i < m->nk; i++)
		if (strcmp(m->k[i].label, k->release) == 0) {
			fprintf(stderr, "finwave lab: %s: kernel %s is given twice\n", spec, k->release);
			return LAB_EXIT_USAGE;
		}
	if (snprintf(kdir, len, "%s/kernels/%s", o->out, k->release) >= (int)len ||
	    matrix_dir_make(kdir) < 0) {
		fprintf(stderr, "finwave lab: %s: cannot create the directory\n", kdir);
		return LAB_EXIT_USAGE;
	}
	for (i = 0; i < sizeof(stale) / sizeof(stale[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", kdir, stale[i]);
		unlink(path);
	}
	return 0;
}

/* This machine's kernel: finwave run, directly. */
static int lab_run_host(const struct lab_options *o, const struct lab_kernel *k, const char *self,
			const char *kdir, char *const paths[], size_t npaths, int *guest_rc,
			int *wret)
{
	char path[4096], errpath[4096], jobs[32];
	char **argv = lab_run_argv(o, self, kdir, paths, npaths, false, jobs, sizeof(jobs));

	if (!argv)
		return LAB_EXIT_ENVIRONMENT;
	fprintf(stderr, "finwave lab: %s: running here\n", k->release);
	snprintf(path, sizeof(path), "%s/stdout.txt", kdir);
	snprintf(errpath, sizeof(errpath), "%s/stderr.txt", kdir);
	*guest_rc = lab_spawn(argv, NULL, 0, path, errpath, o->timeout_s * 1000, wret);
	free(argv);
	return 0;
}

/* Another kernel: boot it under qemu (KVM when it works, else TCG), which
 * runs lab-job.sh; the guest records finwave's exit code in lab-exit. */
static int lab_run_guest(const struct lab_options *o, const struct lab_kernel *k, const char *self,
			 const char *kdir, char *const paths[], size_t npaths, bool *kvm_known,
			 bool *kvm, int *guest_rc, int *wret)
{
	char path[4096], line[400], jobs[32];
	struct lab_qemu q;
	char **argv;
	int rc, ret;

	if (!*kvm_known) {
		*kvm = o->accel == LAB_ACCEL_KVM ||
		       (o->accel == LAB_ACCEL_AUTO && lab_kvm_works(o, k, kdir));
		*kvm_known = true;
		if (o->accel == LAB_ACCEL_AUTO)
			fprintf(stderr, "finwave lab: KVM %s: %s\n",
				*kvm ? "boots a guest" : "is not usable here (no /dev/kvm, or a boot under it failed)",
				*kvm ? "using it" : "using TCG emulation (much slower)");
	}
	argv = lab_run_argv(o, self, kdir, paths, npaths, !*kvm, jobs, sizeof(jobs));
	ret = argv ? lab_write_job(kdir, k->modules, argv) : -ENOMEM;
	free(argv);
	if (ret < 0) {
		fprintf(stderr, "finwave lab: %s/lab-job.sh: %s\n", kdir, strerror(-ret));
		return LAB_EXIT_USAGE;
	}
	lab_qemu_build(&q, o, k, kdir, *kvm, false);
	snprintf(path, sizeof(path), "%s/qemu-stderr.txt", kdir);
	fprintf(stderr, "finwave lab: %s: booting under %s (%ld MB, %ld CPUs, deadline %ld s)\n",
		k->release, *kvm ? "kvm" : "tcg", o->memory_mb, o->cpus, o->timeout_s);
	rc = lab_spawn(q.argv, NULL, 0, "/dev/null", path, o->timeout_s * 1000, wret);
	if (rc == 127 && *wret == 0) {
		fprintf(stderr, "finwave lab: cannot run qemu-system-x86_64 (bash scripts/install-deps.sh installs qemu-system-x86)\n");
		return LAB_EXIT_ENVIRONMENT;
	}
	snprintf(path, sizeof(path), "%s/lab-exit", kdir);
	lab_first_line(path, line, sizeof(line));
	if (line[0]) /* "RC START END": stage2.sh's record of finwave's exit */
		*guest_rc = atoi(line);
	return 0;
}

/* Why a kernel's column has fewer results than it should, in words. */
static void lab_column_note(const struct lab_options *o, const struct lab_kernel *k,
			    const char *kdir, struct matrix_kernel *col, int guest_rc, int wret)
{
	char path[4096], line[400];

	snprintf(path, sizeof(path), "%s/stderr.txt", kdir);
	lab_first_line(path, line, sizeof(line));
	if (wret == -ETIME)
		snprintf(col->note, sizeof(col->note),
			 "hung: killed at the %ld s deadline (--timeout; see kernels/%s/console.log)",
			 o->timeout_s, k->release);
	else if (wret == -EINTR)
		snprintf(col->note, sizeof(col->note), "interrupted");
	else if (guest_rc < 0)
		snprintf(col->note, sizeof(col->note),
			 "the guest stopped without finwave's exit code (see kernels/%s/console.log)",
			 k->release);
	else if (guest_rc > 1)
		snprintf(col->note, sizeof(col->note), "finwave exited %d%s%s", guest_rc,
			 line[0] ? ": " : "", line);
	else if (col->nres == 0)
		snprintf(col->note, sizeof(col->note), "finwave exited %d but wrote no results.json",
			 guest_rc);
}

static int lab_one(const struct lab_options *o, const char *spec, const char *self,
		   char *const paths[], size_t npaths, struct matrix *m, bool *kvm_known,
		   bool *kvm)
{
	bool host = strcmp(spec, "host") == 0;
	char kdir[2048], path[4096], err[FW_ERRLEN];
	struct matrix_kernel *col;
	struct lab_kernel k;
	int64_t t0;
	int wret = 0, ret, guest_rc = -1;

	if ((ret = lab_kernel_prepare(o, spec, &k)) != 0 ||
	    (ret = lab_kernel_dir(o, spec, m, &k, kdir, sizeof(kdir))) != 0)
		return ret;
	t0 = fw_now_ns();
	ret = host ? lab_run_host(o, &k, self, kdir, paths, npaths, &guest_rc, &wret)
		   : lab_run_guest(o, &k, self, kdir, paths, npaths, kvm_known, kvm, &guest_rc,
				   &wret);
	if (ret != 0)
		return ret;
	snprintf(path, sizeof(path), "%s/results.json", kdir);
	if (access(path, R_OK) == 0 && matrix_add_dir(m, kdir, k.release, err, sizeof(err)) < 0)
		fprintf(stderr, "finwave lab: %s\n", err);
	col = matrix_kernel_get(m, k.release);
	if (!col)
		return LAB_EXIT_ENVIRONMENT;
	col->wall_ns = fw_now_ns() - t0;
	snprintf(col->accel, sizeof(col->accel), "%s", host ? "host" : *kvm ? "kvm" : "tcg");
	snprintf(col->source, sizeof(col->source), "%s", k.source);
	lab_column_note(o, &k, kdir, col, guest_rc, wret);
	fprintf(stderr, "finwave lab: %s: %zu result(s) in %.1f s%s%s\n", k.release, col->nres,
		(double)col->wall_ns / 1e9, col->note[0] ? "; " : "", col->note);
	return wret == -EINTR ? LAB_EXIT_INTERRUPTED : 0;
}

static void lab_usage(FILE *f)
{
	fprintf(f,
		"usage: finwave lab --kernel K [--kernel K...] --report-dir OUT [options] PATH...\n"
		"  runs 'finwave run PATH...' on each kernel and writes one matrix (claims x kernels,\n"
		"  cases x kernels): OUT/matrix.{json,html}, each kernel's report in OUT/kernels/RELEASE\n"
		"kernels (K):\n"
		"  host                     this machine's kernel, run directly (no VM)\n"
		"  FILE.deb                 a Debian kernel package (linux-image-*.deb)\n"
		"  PACKAGE                  a package apt-get downloads once into the cache,\n"
		"                           e.g. linux-image-6.1.0-28-amd64\n"
		"  VMLINUZ:MODULES_DIR      a kernel image and its lib/modules/RELEASE directory\n"
		"options:\n"
		"  --cache DIR       downloaded and unpacked kernels (default $FINWAVE_CACHE,\n"
		"                    else $XDG_CACHE_HOME/finwave/kernels or ~/.cache/finwave/kernels)\n"
		"  --accel A         auto (default: KVM if a guest boots under it, else TCG), kvm, tcg\n"
		"  --memory MB       guest memory (default 1024)     --cpus N  guest CPUs (default 2)\n"
		"  --append ARGS     more kernel command line\n"
		"  --timeout S       a guest still running after S seconds is killed (default 3600)\n"
		"  --claims FILE     the claims list (default docs/claims.md)\n"
		"  --quiet           print only the matrix rows that differ or did not pass\n"
		"  --filter GLOB, --jobs N, --shard K/N, --repeat N, --slow: passed to 'finwave run'\n"
		"                    (a TCG guest runs --jobs 2 per guest CPU unless --jobs is given)\n"
		"exit: 0 all passed on every kernel, 1 a case failed or a kernel gave no results,\n"
		"      2 bad usage or kernel, 3 qemu or the lab's scripts missing, 130 interrupted\n");
}

/* A whole number from 1 to max, or -1 with one line. */
static long lab_count(const char *opt, const char *arg, long max)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (!*arg || *end || v < 1 || v > max) {
		fprintf(stderr, "finwave lab: %s needs a number from 1 to %ld, not '%s'\n", opt, max, arg);
		return -1;
	}
	return v;
}

/* --accel values */
static const struct {
	const char *name;
	enum lab_accel accel;
} lab_accels[] = {
	{ "auto", LAB_ACCEL_AUTO },
	{ "kvm", LAB_ACCEL_KVM },
	{ "tcg", LAB_ACCEL_TCG },
};

/* An option 'finwave run' takes, passed on to the run inside each guest. */
static int lab_pass_arg(struct lab_options *o, const char *name, const char *value)
{
	static char names[LAB_MAX_ARGS][16];

	if (o->nrun_args + 2 > LAB_MAX_ARGS) {
		fprintf(stderr, "finwave lab: too many options for 'run'\n");
		return LAB_EXIT_USAGE;
	}
	snprintf(names[o->nrun_args], sizeof(names[0]), "--%s", name);
	o->run_args[o->nrun_args] = names[o->nrun_args];
	o->nrun_args++;
	o->jobs_given |= strcmp(name, "jobs") == 0;
	if (value)
		o->run_args[o->nrun_args++] = value;
	return -1;
}

/* lab's options; those of 'finwave run' (OPT_PASS_ARG) pass on to it */
enum { OPT_KERNEL = 256, OPT_CACHE, OPT_ACCEL, OPT_MEMORY, OPT_CPUS, OPT_APPEND, OPT_TIMEOUT, OPT_CLAIMS,
       OPT_PASS_ARG, OPT_SLOW };
static const struct option lab_longopts[] = {
	{ "kernel", required_argument, NULL, OPT_KERNEL },
	{ "report-dir", required_argument, NULL, 'r' },
	{ "cache", required_argument, NULL, OPT_CACHE },
	{ "accel", required_argument, NULL, OPT_ACCEL },
	{ "memory", required_argument, NULL, OPT_MEMORY },
	{ "cpus", required_argument, NULL, OPT_CPUS },
	{ "append", required_argument, NULL, OPT_APPEND },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "claims", required_argument, NULL, OPT_CLAIMS },
	{ "quiet", no_argument, NULL, 'q' },
	{ "filter", required_argument, NULL, OPT_PASS_ARG },
	{ "jobs", required_argument, NULL, OPT_PASS_ARG },
	{ "shard", required_argument, NULL, OPT_PASS_ARG },
	{ "repeat", required_argument, NULL, OPT_PASS_ARG },
	{ "slow", no_argument, NULL, OPT_SLOW },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Fills o from the command line: -1 to go on, else the exit code. */
static int lab_options_parse(int argc, char **argv, struct lab_options *o)
{
	int opt, idx, code = -1;
	size_t i;

	optind = 2;
	while (code < 0 && (opt = getopt_long(argc, argv, "hq", lab_longopts, &idx)) != -1) {
		switch (opt) {
		case OPT_KERNEL:
			if (o->nkernels == LAB_MAX_KERNELS) {
				fprintf(stderr, "finwave lab: at most %d kernels\n", LAB_MAX_KERNELS);
				return LAB_EXIT_USAGE;
			}
			o->kernels[o->nkernels++] = optarg;
			break;
		case 'r':
			o->out = optarg;
			break;
		case OPT_CACHE:
			o->cache = optarg;
			break;
		case OPT_ACCEL:
			for (i = 0; i < sizeof(lab_accels) / sizeof(lab_accels[0]); i++)
				if (strcmp(optarg, lab_accels[i].name) == 0)
					break;
			if (i == sizeof(lab_accels) / sizeof(lab_accels[0])) {
				fprintf(stderr, "finwave lab: --accel is auto, kvm or tcg, not '%s'\n", optarg);
				return LAB_EXIT_USAGE;
			}
			o->accel = lab_accels[i].accel;
			break;
		case OPT_MEMORY:
			if ((o->memory_mb = lab_count("--memory", optarg, 1L << 20)) < 0)
				return LAB_EXIT_USAGE;
			break;
		case OPT_CPUS:
			if ((o->cpus = lab_count("--cpus", optarg, 256)) < 0)
				return LAB_EXIT_USAGE;
			break;
		case OPT_TIMEOUT:
			if ((o->timeout_s = lab_count("--timeout", optarg, 7 * 24 * 3600)) < 0)
				return LAB_EXIT_USAGE;
			break;
		case OPT_APPEND:
			o->append = optarg;
			break;
		case OPT_CLAIMS:
			o->claims = optarg;
			break;
		case 'q':
			o->quiet = true;
			break;
		case OPT_PASS_ARG:
			code = lab_pass_arg(o, lab_longopts[idx].name, optarg);
			break;
		case OPT_SLOW:
			code = lab_pass_arg(o, "slow", NULL);
			break;
		case 'h':
			lab_usage(stdout);
			return LAB_EXIT_OK;
		default:
			lab_usage(stderr);
			return LAB_EXIT_USAGE;
		}
	}
	if (code < 0 && (!o->nkernels || !o->out)) {
		fprintf(stderr, "finwave lab: needs --kernel K (at least one) and --report-dir OUT; finwave lab --help\n");
		return LAB_EXIT_USAGE;
	}
	return code;
}

/* The report directory made and made absolute (the guest sees the host's
 * root: every path it gets is absolute or relative to the same working
 * directory), and this binary's path: -1 to go on, else the exit code. */
static int lab_paths(struct lab_options *o, char *self, char *outabs)
{
	ssize_t len = readlink("/proc/self/exe", self, PATH_MAX - 1);

	if (len < 0) {
		fprintf(stderr, "finwave lab: cannot find my own binary: %s\n", strerror(errno));
		return LAB_EXIT_ENVIRONMENT;
	}
	self[len] = '\0';
	if (matrix_dir_make(o->out) < 0 || !realpath(o->out, outabs)) {
		fprintf(stderr, "finwave lab: %s: cannot create the directory: %s\n", o->out,
			strerror(errno));
		return LAB_EXIT_USAGE;
	}
	o->out = outabs;
	/* both travel on the guest's kernel command line, split at blanks */
	if (strpbrk(o->out, " \t\n") || strpbrk(lab_scripts_dir(), " \t\n")) {
		fprintf(stderr, "finwave lab: %s: the report directory (and finwave's scripts/lab) must have no blanks in their path\n",
			o->out);
		return LAB_EXIT_USAGE;
	}
	return -1;
}

int cmd_lab(int argc, char **argv)
{
	struct lab_options o = { .memory_mb = 1024, .cpus = 2, .timeout_s = 3600 };
	struct matrix m = { 0 };
	struct sigaction sa;
	char self[PATH_MAX], outabs[PATH_MAX], err[FW_ERRLEN];
	char *catalog[2] = { NULL, NULL }, **paths;
	bool kvm_known, kvm = false;
	size_t npaths, i;
	int code;

	if ((code = lab_options_parse(argc, argv, &o)) >= 0)
		return code;
	paths = argv + optind;
	npaths = (size_t)(argc - optind);
	if (optind >= argc) { /* the catalog, as 'finwave run' */
		catalog[0] = (char *)datapath_find("cases");
		if (!catalog[0]) {
			fprintf(stderr, "finwave lab: no catalog found: give the case paths\n");
			return LAB_EXIT_USAGE;
		}
		paths = catalog;
		npaths = 1;
	}
	if ((code = lab_paths(&o, self, outabs)) >= 0)
		return code;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = lab_on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	kvm_known = o.accel == LAB_ACCEL_TCG; /* tcg: no need to probe for KVM */
	code = LAB_EXIT_OK;
	for (i = 0; i < o.nkernels && code == LAB_EXIT_OK && !lab_stop; i++)
		code = lab_one(&o, o.kernels[i], self, paths, npaths, &m, &kvm_known, &kvm);
	if (lab_stop)
		code = LAB_EXIT_INTERRUPTED;
	if (code != LAB_EXIT_OK && m.nk == 0)
		goto out;
	matrix_sort(&m);
	if (matrix_write(&m, o.claims ? o.claims : datapath_find("claims.md"), o.claims != NULL,
			 stdout, o.quiet, o.out, err, sizeof(err)) < 0) {
		fprintf(stderr, "finwave lab: %s\n", err);
		if (code == LAB_EXIT_OK)
			code = LAB_EXIT_USAGE;
		goto out;
	}
	printf("matrix: %s/matrix.html, %s/matrix.json\n", o.out, o.out);
	if (code == LAB_EXIT_OK && matrix_failed(&m))
		code = LAB_EXIT_FAILED;
out:
	matrix_free(&m);
	return code;
}
