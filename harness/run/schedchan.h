/*
 * schedchan.h - the yield channel between an exec worker and its program.
 *
 * Under a controlled schedule an exec target's worker thread holds the token
 * while its program (another process) works on a request.  If the program
 * blocked in flock, a blocking fcntl lock or a sleep, the program that holds
 * the lock could never run: its worker waits for the token.  So the worker
 * gives its program a channel (targets/exec.c), and the preload shim in the
 * program (harness/ext/faults/shim.c) turns such a call into a request over
 * it: the worker yields the token exactly as an in-process would-block does
 * (contend_sched_would_block) and answers once it is scheduled again.
 *
 * The channel is one end of an AF_UNIX SOCK_SEQPACKET socketpair, so that
 * every request and every answer is one whole message even when several
 * threads or processes of the program share it.  The program finds it
 * through CONTEND_SCHED_CHANNEL=FD:INODE; the inode is checked before each
 * use, so a descriptor that the program closed and reused for something else
 * is never written to.  Without the variable, or without the shim, the
 * program runs exactly as under the OS.
 *
 *   program -> worker: the call's name ("flock", "fcntl-lock", "sleep"),
 *                      at most CONTEND_SCHED_CHAN_NAME bytes, no NUL
 *   worker -> program: one byte, what contend_sched_would_block() returned
 *                      (schedule.h, enum contend_sched_block): '0' make the
 *                      real call, '1' try again (a sleep: it is over), '2'
 *                      every scheduled thread is blocked: wait briefly on
 *                      the real clock (a sleep: sleep), then try again
 *
 * A channel that reaches EOF (the worker closed it, or died) means: make the
 * real call.  Layout only, shared by the shim, which links no harness code.
 */
#ifndef CONTEND_SCHEDCHAN_H
#define CONTEND_SCHEDCHAN_H

#define CONTEND_SCHED_CHANNEL_ENV "CONTEND_SCHED_CHANNEL"
#define CONTEND_SCHED_CHAN_NAME 32

#endif /* CONTEND_SCHEDCHAN_H */
