/* engine: runs one case end to end in the calling process.
 *
 * Builds the case's namespaces, starts capture on both legs, the interceptor
 * in the wire namespace, the injectors and socket probes, then walks the
 * steps. Every wait is an epoll loop with a deadline: segments, fault actions
 * and socket states are recorded into the timeline as they happen, and an
 * expectation is decided as soon as the timeline satisfies it or its deadline
 * passes. The first failed expectation ends the case.
 *
 * The caller must be single-threaded (setns() switches the whole process while
 * handles are opened) and is expected to be a process of its own per case, so
 * that a crash or kill takes the namespaces with it. */
#ifndef FW_ENGINE_H
#define FW_ENGINE_H

#include "case.h"
#include "result.h"

/* Runs c and fills res (status, message, timeline, duration). Returns 0 when
 * res holds a verdict (any status); -errno only when res could not be filled. */
int engine_run(const struct fw_case *c, struct case_result *res);

/* engine_run() in two parts, so that a result can be reported before the
 * slow part of the cleanup: engine_run_keep() returns once res is final,
 * with the case's captures, sockets and namespaces still open in *rest
 * (NULL when there are none); engine_release() closes them (accepts NULL).
 * res->duration_ns ends with the result. A process that dies in between
 * leaves nothing behind: the kernel closes its descriptors. */
struct engine;
int engine_run_keep(const struct fw_case *c, struct case_result *res, struct engine **rest);

/* engine_run_keep() in two parts, so that a case can be prepared while
 * others run: engine_prepare() builds the namespaces and opens every handle
 * (the slow part of a setup is waiting for the kernel's RCU grace periods),
 * engine_go() runs the steps, and the case's clock (its timeline, its
 * duration) starts there; what the setup recorded is dated 0. A setup that
 * failed leaves res an ERROR that engine_go() keeps. Returns -ENOMEM, with
 * *out NULL, only when nothing could be allocated. */
int engine_prepare(const struct fw_case *c, struct case_result *res, struct engine **out);
void engine_go(struct engine *E);
void engine_release(struct engine *rest);

#endif
