/* proc: the processes a case starts. Two kinds:
 *  - tools run to completion inside a namespace (iptables, nft, a device
 *    under test's setup command): proc_run_ns(), bounded in time;
 *  - long-lived programs (a proxy as the device under test): proc_spawn_ns(),
 *    killed with the case;
 * and endpoint children (below). Every one of them dies with the process that
 * started it (PR_SET_PDEATHSIG), so none can keep a case's namespace alive.
 *
 * Endpoint child processes: a case forks a child that holds copies of
 * one host's sockets and does nothing else, so a socket can be shared by two
 * processes (close() in one sends nothing) or die with a killed process (the
 * kernel closes it). The child dies with its parent (PR_SET_PDEATHSIG), never
 * dumps core, and exits by itself after PROC_MAX_LIFE_S at the latest. */
#ifndef FW_PROC_H
#define FW_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <stdint.h>

#define PROC_MAX_LIFE_S 300

/* Find a program in PATH and the sbin directories (a root shell's PATH may
 * lack them); 0 with its full path, or -ENOENT. */
int proc_tool_find(const char *name, char *path, size_t len);
/* The first line of text, for one-line messages. */
void proc_first_line(const char *text, char *line, size_t len);
/* Run argv (argv[0] a full path) inside the network namespace ns_fd (-1: the
 * caller's), its environment ours plus env ("K=V" entries, NULL-terminated;
 * may be NULL), stdin /dev/null, stdout and stderr into out. Returns 0 when it
 * exits 0; -EIO when it fails (out holds its words, or "exit status N");
 * -ETIMEDOUT when it ran past timeout_ns and was killed; another -errno when
 * it could not be started. */
int proc_run_ns(int ns_fd, char *const argv[], char *const env[], int64_t timeout_ns, char *out,
		size_t outlen);

struct proc_child {
	pid_t pid;   /* 0 when none */
	int pidfd;   /* readable when the child has exited, -1 when none */
	bool reaped;
	int status;  /* wait status once reaped */
	bool group;  /* leads a process group of its own (proc_spawn_ns): killed as a group */
};

/* Fork a child keeping only keep_fds (sorted or not) open. Returns 0 or -errno. */
int proc_fork(struct proc_child *out, const int *keep_fds, size_t nkeep);
/* Reap without blocking: 1 when the child is gone (status filled), 0 not yet. */
int proc_reap(struct proc_child *c);
/* "killed by SIGKILL", "exited with 0", "running" */
void proc_describe(const struct proc_child *c, char *buf, size_t len);
/* SIGKILL, wait for it, close the pidfd; accepts a child already reaped or none. */
void proc_destroy(struct proc_child *c);

/* Start argv (argv[0] a full path) in ns_fd with env as for proc_run_ns();
 * its stdout and stderr go to *log_fd (a memory file the caller reads with
 * proc_log_read() and closes). The program dies with the caller. Returns 0
 * or -errno; end it with proc_destroy(). */
int proc_spawn_ns(struct proc_child *out, int ns_fd, char *const argv[], char *const env[],
		  int *log_fd);
/* What a spawned program wrote so far (the last len-1 bytes at most). */
void proc_log_read(int log_fd, char *buf, size_t len);

#endif
