#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* In the child, after fork(): only async-signal-safe calls from here on. */
static void proc_child_main(pid_t parent, const int *keep, size_t nkeep)
{
	struct rlimit no_core = { 0, 0 };
	sigset_t none;
	unsigned int from = 3;
	size_t i;
	int sig;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent) /* the parent died before the line above */
		_exit(1);
	/* A "crash" (SIGSEGV) must leave no core file behind. */
	setrlimit(RLIMIT_CORE, &no_core);
	prctl(PR_SET_DUMPABLE, 0);
	for (i = 0; i < nkeep; i++) {
		if ((unsigned int)keep[i] > from)
			syscall(SYS_close_range, from, (unsigned int)keep[i] - 1, 0);
		from = (unsigned int)keep[i] + 1;
	}
	syscall(SYS_close_range, from, ~0U, 0);
	/* dispositions first, then the mask: a signal sent since fork() waits
	 * blocked (fork_blocked()) instead of meeting our SIG_IGN */
	/* Every signal back to its default action: the case's "crash" is the
	 * kernel's, not a handler's (under ASan the inherited SIGSEGV handler
	 * spent over a second symbolizing a stack before the process died). */
	for (sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	alarm(PROC_MAX_LIFE_S); /* the default SIGALRM action ends us */
	for (;;)
		pause();
}

/* fork() with every signal blocked until the child has set its own
 * dispositions: a blocked signal is kept pending, an ignored one (the case
 * process ignores SIGINT and SIGPIPE) would be lost. The parent's mask is
 * restored at once. */
static pid_t fork_blocked(void)
{
	sigset_t all, old;
	pid_t pid;
	int saved;

	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = fork();
	saved = errno;
	if (pid != 0)
		sigprocmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return pid;
}

int proc_fork(struct proc_child *out, const int *keep_fds, size_t nkeep)
{
	pid_t parent = getpid(), pid;
	int *keep = NULL, ret = 0;

	memset(out, 0, sizeof(*out));
	out->pidfd = -1;
	/* Sorted before fork(): the child may not call malloc or qsort. */
	keep = calloc(nkeep + 1, sizeof(*keep));
	if (!keep)
		return -ENOMEM;
	if (nkeep)
		memcpy(keep, keep_fds, nkeep * sizeof(*keep));
	qsort(keep, nkeep, sizeof(*keep), cmp_int);
	fflush(NULL);
	pid = fork_blocked();
	if (pid < 0) {
		ret = -errno;
		goto out;
	}
	if (pid == 0)
		proc_child_main(parent, keep, nkeep);
	out->pid = pid;
	out->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (out->pidfd < 0) {
		ret = -errno;
		proc_destroy(out);
	}
out:
	free(keep);
	return ret;
}

int proc_reap(struct proc_child *c)
{
	int status;
	pid_t r;

	if (!c->pid || c->reaped)
		return 1;
	r = waitpid(c->pid, &status, WNOHANG);
	if (r == c->pid) {
		c->reaped = true;
		c->status = status;
		return 1;
	}
	return 0;
}

void proc_describe(const struct proc_child *c, char *buf, size_t len)
{
	if (!c->pid)
		snprintf(buf, len, "not started");
	else if (!c->reaped)
		snprintf(buf, len, "running");
	else if (WIFSIGNALED(c->status))
		snprintf(buf, len, "killed by SIG%s",
			 sigabbrev_np(WTERMSIG(c->status)) ? sigabbrev_np(WTERMSIG(c->status)) : "?");
	else
		snprintf(buf, len, "exited with %d", WEXITSTATUS(c->status));
}

void proc_destroy(struct proc_child *c)
{
	if (!c)
		return;
	if (c->pid && c->group)
		kill(-c->pid, SIGKILL); /* its group: whatever it started, even after it ended */
	if (c->pid && !c->reaped) {
		int status;

		kill(c->pid, SIGKILL);
		/* SIGKILL cannot be caught: this wait ends. */
		while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
			;
		c->reaped = true;
		c->status = status;
	}
	if (c->pidfd >= 0)
		close(c->pidfd);
	c->pidfd = -1;
}

/* ---- tools and programs in a namespace ----------------------------------- */

int proc_tool_find(const char *name, char *path, size_t len)
{
	const char *env = getenv("PATH");
	char dirs[4096];
	char *save = NULL, *dir;
	int ret = -ENOENT;

	if (strchr(name, '/')) { /* a path already */
		snprintf(path, len, "%s", name);
		return access(path, X_OK) == 0 ? 0 : -ENOENT;
	}
	snprintf(dirs, sizeof(dirs), "%s:/usr/sbin:/sbin:/usr/bin:/bin", env ? env : "");
	for (dir = strtok_r(dirs, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		if (!*dir)
			continue;
		if ((size_t)snprintf(path, len, "%s/%s", dir, name) >= len)
			continue;
		if (access(path, X_OK) == 0) {
			ret = 0;
			break;
		}
	}
	if (ret < 0 && len)
		path[0] = '\0';
	return ret;
}

void proc_first_line(const char *text, char *line, size_t len)
{
	size_t n = strcspn(text, "\n");

	if (n >= len)
		n = len - 1;
	memcpy(line, text, n);
	line[n] = '\0';
}

/* environ plus extra, built before fork(): the child may not allocate. */
static char **proc_env_build(char *const extra[])
{
	extern char **environ;
	size_t n = 0, k = 0, i;
	char **env;

	while (environ[n])
		n++;
	while (extra && extra[k])
		k++;
	env = calloc(n + k + 1, sizeof(*env));
	if (!env)
		return NULL;
	for (i = 0; i < k; i++)
		env[i] = extra[i]; /* first: getenv() takes the first match */
	for (i = 0; i < n; i++)
		env[k + i] = environ[i];
	return env;
}

/* In the child: die with the parent, join the namespace, stdout and stderr
 * to out_fd, no other descriptor, exec. Async-signal-safe calls only. */
static void proc_exec_child(pid_t parent, int ns_fd, int out_fd, char *const argv[],
			    char *const envp[])
{
	static const char setns_msg[] = "cannot enter the namespace\n";
	static const char exec_msg[] = "cannot execute the command\n";
	static const int reset[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT };
	sigset_t none;
	size_t i;
	int null;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(126);
	/* ignored signals and the mask survive exec: the case process ignores
	 * SIGINT and SIGPIPE, the program must not. Dispositions first, then
	 * the mask: a signal sent since fork() waited blocked (fork_blocked()),
	 * where an ignored one would have been discarded. */
	for (i = 0; i < sizeof(reset) / sizeof(reset[0]); i++)
		signal(reset[i], SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* a group of its own: whatever it starts in the background is killed
	 * with it (kill(-pid)), and cannot keep a namespace alive */
	setpgid(0, 0);
	null = open("/dev/null", O_RDONLY);
	if (null >= 0)
		dup2(null, 0);
	if (dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
		_exit(126);
	if (ns_fd >= 0 && setns(ns_fd, CLONE_NEWNET) < 0) {
		(void)!write(2, setns_msg, sizeof(setns_msg) - 1);
		_exit(126);
	}
	/* The program needs none of our descriptors (queue socket, pcap, ...). */
	syscall(SYS_close_range, 3, ~0U, 0);
	execve(argv[0], argv, envp);
	(void)!write(2, exec_msg, sizeof(exec_msg) - 1);
	_exit(127);
}

/* Reads what the child writes into out until it ends (or the deadline):
 * not until its pipe closes, which a command that left something in the
 * background never does. Polls the pipe and, at least every 20 ms, whether
 * it ended. 0 with *status once it is reaped; -ETIMEDOUT or -errno after
 * killing and reaping it. */
static int proc_collect(pid_t pid, int fd, int64_t deadline, char *out, size_t outlen,
			int *status)
{
	size_t used = 0;
	int ret = 0;

	for (;;) {
		int64_t left = deadline - fw_now_ns();
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		char tmp[256];
		bool ended;
		pid_t w;
		ssize_t r;
		int n;

		if (left <= 0) {
			ret = -ETIMEDOUT;
			break;
		}
		w = waitpid(pid, status, WNOHANG);
		if (w < 0 && errno != EINTR)
			return -errno; /* not ours to reap any more */
		ended = w == pid;
		n = poll(&pfd, 1, ended ? 0 : (int)(left / FW_NS_PER_MS < 20 ? left / FW_NS_PER_MS + 1 : 20));
		if (n < 0 && errno != EINTR) {
			ret = -errno;
			break;
		}
		r = n > 0 ? read(fd, tmp, sizeof(tmp)) : 0;
		if (r > 0 && used + 1 < outlen) {
			size_t take = (size_t)r < outlen - 1 - used ? (size_t)r : outlen - 1 - used;

			memcpy(out + used, tmp, take);
			used += take;
			out[used] = '\0';
		}
		if (ended && r <= 0) {
			kill(-pid, SIGKILL); /* what it left running in the background, if anything */
			return 0; /* it ended and what it wrote is read */
		}
		if (n > 0 && r == 0) { /* EOF: everyone closed the pipe; it is ending */
			struct timespec nap = { 0, 1000000 };

			nanosleep(&nap, NULL);
		}
	}
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	waitpid(pid, status, 0);
	return ret;
}

int proc_run_ns(int ns_fd, char *const argv[], char *const env[], int64_t timeout_ns, char *out,
		size_t outlen)
{
	int pipefd[2] = { -1, -1 };
	char **envp = proc_env_build(env);
	pid_t parent = getpid(), pid;
	int ret, status = 0;

	out[0] = '\0';
	if (!envp)
		return -ENOMEM;
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		ret = -errno;
		goto out;
	}
	fflush(NULL);
	pid = fork_blocked();
	if (pid < 0) {
		ret = -errno;
		goto out;
	}
	if (pid == 0)
		proc_exec_child(parent, ns_fd, pipefd[1], argv, envp);
	close(pipefd[1]);
	pipefd[1] = -1;
	ret = proc_collect(pid, pipefd[0], fw_now_ns() + timeout_ns, out, outlen, &status);
	if (ret == -ETIMEDOUT)
		snprintf(out, outlen, "no answer within %llds, killed",
			 (long long)(timeout_ns / FW_NS_PER_SEC));
	if (ret < 0 || (WIFEXITED(status) && WEXITSTATUS(status) == 0))
		goto out;
	if (!out[0]) {
		if (WIFEXITED(status))
			snprintf(out, outlen, "exit status %d", WEXITSTATUS(status));
		else
			snprintf(out, outlen, "killed by signal %d", WTERMSIG(status));
	}
	ret = -EIO;
out:
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	free(envp);
	return ret;
}

int proc_spawn_ns(struct proc_child *out, int ns_fd, char *const argv[], char *const env[],
		  int *log_fd)
{
	char **envp = proc_env_build(env);
	pid_t parent = getpid(), pid;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	out->pidfd = -1;
	*log_fd = -1;
	if (!envp)
		return -ENOMEM;
	/* A memory file, not a pipe: a chatty program never blocks on it, and
	 * what it wrote is still there after it died. */
	*log_fd = memfd_create("finwave-log", MFD_CLOEXEC);
	if (*log_fd < 0) {
		ret = -errno;
		goto out;
	}
	fflush(NULL);
	pid = fork_blocked();
	if (pid < 0) {
		ret = -errno;
		goto out;
	}
	if (pid == 0)
		proc_exec_child(parent, ns_fd, *log_fd, argv, envp);
	setpgid(pid, pid); /* also here: no window where a kill(-pid) misses it */
	out->pid = pid;
	out->group = true;
	out->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (out->pidfd < 0) {
		ret = -errno;
		proc_destroy(out);
	}
out:
	if (ret < 0 && *log_fd >= 0) {
		close(*log_fd);
		*log_fd = -1;
	}
	free(envp);
	return ret;
}

void proc_log_read(int log_fd, char *buf, size_t len)
{
	off_t end = lseek(log_fd, 0, SEEK_END), from;
	ssize_t n;

	buf[0] = '\0';
	if (end < 0 || len < 2)
		return;
	from = end > (off_t)(len - 1) ? end - (off_t)(len - 1) : 0;
	n = pread(log_fd, buf, len - 1, from);
	buf[n > 0 ? n : 0] = '\0';
}
