#include "proc.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

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
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	alarm(PROC_MAX_LIFE_S); /* the default SIGALRM action ends us */
	for (;;)
		pause();
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
	pid = fork();
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
