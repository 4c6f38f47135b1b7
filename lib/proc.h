/* proc: endpoint child processes. A case forks a child that holds copies of
 * one host's sockets and does nothing else, so a socket can be shared by two
 * processes (close() in one sends nothing) or die with a killed process (the
 * kernel closes it). The child dies with its parent (PR_SET_PDEATHSIG), never
 * dumps core, and exits by itself after PROC_MAX_LIFE_S at the latest. */
#ifndef FW_PROC_H
#define FW_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define PROC_MAX_LIFE_S 300

struct proc_child {
	pid_t pid;   /* 0 when none */
	int pidfd;   /* readable when the child has exited, -1 when none */
	bool reaped;
	int status;  /* wait status once reaped */
};

/* Fork a child keeping only keep_fds (sorted or not) open. Returns 0 or -errno. */
int proc_fork(struct proc_child *out, const int *keep_fds, size_t nkeep);
/* Reap without blocking: 1 when the child is gone (status filled), 0 not yet. */
int proc_reap(struct proc_child *c);
/* "killed by SIGKILL", "exited with 0", "running" */
void proc_describe(const struct proc_child *c, char *buf, size_t len);
/* SIGKILL, wait for it, close the pidfd; accepts a child already reaped or none. */
void proc_destroy(struct proc_child *c);

#endif
