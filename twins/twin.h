/*
 * The harness every twin shares: the command line, the tasks (threads of one process, or forked
 * processes), pinning, a start barrier, timing, and the closing report line. A twin includes
 * this file after defining its per-task setup and its round (see page_fault1.c).
 *
 * Command line, as the model's workload parameters are written:
 *   TWIN threads=N mode=threads|processes iterations=N size=BYTES[K|M|G] [dir=PATH]
 * iterations=0 runs the set-up only (the "empty run" calibrate subtracts).
 *
 * Output, one line on stdout after every task has finished:
 *   twin=NAME mode=M threads=N iterations=N size=B ops=N loop_faults=N elapsed_ns=N minflt=N
 *   majflt=N utime_ns=N stime_ns=N
 * loop_faults is the sum of each task's own faults between the start barrier and the end of its
 * rounds (getrusage(RUSAGE_THREAD) before and after: exact, no start-up in it). elapsed_ns runs from the first task's start (after the barrier) to the last task's end;
 * the fault and time counts are getrusage()'s for the whole run (self and, in processes mode,
 * the children), so they include start-up.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct twin_task {
	int idx;
	long iterations;
	size_t size;
	const char *dir;
	int fd;            /* the task's file (file-backed twins), or -1 */
	long ops;          /* what the task counted */
	uint64_t start_ns; /* after the barrier */
	uint64_t end_ns;
	long loop_faults;  /* the task's own faults during its rounds (getrusage RUSAGE_THREAD) */
};

/* Supplied by the twin. */
static const char *twin_name;
static void twin_setup(struct twin_task *t);
static void twin_round(struct twin_task *t);

struct twin_shared {
	pthread_barrier_t barrier;
	struct twin_task tasks[];
};

static struct twin_shared *shared;
static long pagesize;

static void die(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", twin_name, what, strerror(errno));
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static size_t parse_size(const char *v)
{
	char *end;
	unsigned long long n = strtoull(v, &end, 10);
	switch (*end) {
	case 'G': case 'g': n <<= 10; /* fall through */
	case 'M': case 'm': n <<= 10; /* fall through */
	case 'K': case 'k': n <<= 10; end++; break;
	case 0: break;
	default: fprintf(stderr, "%s: bad size '%s'\n", twin_name, v); exit(2);
	}
	if (*end != 0) { fprintf(stderr, "%s: bad size '%s'\n", twin_name, v); exit(2); }
	return (size_t)n;
}

/* Bind the calling task to the idx-th CPU it may run on (will-it-scale binds task i to core i). */
static void pin(int idx)
{
	cpu_set_t allowed, one;
	int n = 0;
	if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0) return;
	int count = CPU_COUNT(&allowed);
	if (count == 0) return;
	for (int c = 0; c < CPU_SETSIZE; c++) {
		if (!CPU_ISSET(c, &allowed)) continue;
		if (n++ == idx % count) {
			CPU_ZERO(&one);
			CPU_SET(c, &one);
			sched_setaffinity(0, sizeof(one), &one);
			return;
		}
	}
}

static void *task_main(void *arg)
{
	struct twin_task *t = arg;
	pin(t->idx);
	twin_setup(t);
	struct rusage before, after;
	/* Once before the barrier: the clock's vDSO pages and getrusage's path are faulted in by
	 * the set-up, not counted in the loop. */
	getrusage(RUSAGE_THREAD, &before);
	t->start_ns = now_ns();
	pthread_barrier_wait(&shared->barrier);
	getrusage(RUSAGE_THREAD, &before);
	t->start_ns = now_ns();
	for (long i = 0; i < t->iterations; i++) twin_round(t);
	t->end_ns = now_ns();
	getrusage(RUSAGE_THREAD, &after);
	t->loop_faults = (after.ru_minflt - before.ru_minflt) + (after.ru_majflt - before.ru_majflt);
	return NULL;
}

static uint64_t tv_ns(struct timeval tv)
{
	return (uint64_t)tv.tv_sec * 1000000000u + (uint64_t)tv.tv_usec * 1000u;
}

int main(int argc, char **argv)
{
	long threads = 1, iterations = 1;
	int processes = 0;
	size_t size = 128u << 20;
	const char *dir = "/tmp";

	pagesize = sysconf(_SC_PAGESIZE);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strncmp(a, "threads=", 8) == 0) threads = atol(a + 8);
		else if (strncmp(a, "iterations=", 11) == 0) iterations = atol(a + 11);
		else if (strncmp(a, "size=", 5) == 0) size = parse_size(a + 5);
		else if (strncmp(a, "dir=", 4) == 0) dir = a + 4;
		else if (strcmp(a, "mode=threads") == 0) processes = 0;
		else if (strcmp(a, "mode=processes") == 0) processes = 1;
		else {
			fprintf(stderr, "usage: %s threads=N mode=threads|processes iterations=N size=BYTES [dir=PATH]\n", twin_name);
			return 2;
		}
	}
	if (threads < 1 || iterations < 0 || size < (size_t)pagesize) {
		fprintf(stderr, "%s: threads >= 1, iterations >= 0 and size >= one page, please\n", twin_name);
		return 2;
	}
	size -= size % (size_t)pagesize;

	/* Shared with forked children: the barrier and the tasks' results. */
	size_t bytes = sizeof(struct twin_shared) + (size_t)threads * sizeof(struct twin_task);
	shared = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED) die("mmap");
	pthread_barrierattr_t ba;
	pthread_barrierattr_init(&ba);
	pthread_barrierattr_setpshared(&ba, PTHREAD_PROCESS_SHARED);
	pthread_barrier_init(&shared->barrier, &ba, (unsigned)threads + 1);
	for (long i = 0; i < threads; i++) {
		struct twin_task *t = &shared->tasks[i];
		t->idx = (int)i;
		t->iterations = iterations;
		t->size = size;
		t->dir = dir;
		t->fd = -1;
	}

	pthread_t *tids = calloc((size_t)threads, sizeof(*tids));
	pid_t *pids = calloc((size_t)threads, sizeof(*pids));
	if (tids == NULL || pids == NULL) die("calloc");
	for (long i = 0; i < threads; i++) {
		if (processes) {
			pids[i] = fork();
			if (pids[i] < 0) die("fork");
			if (pids[i] == 0) {
				task_main(&shared->tasks[i]);
				_exit(0);
			}
		} else if ((errno = pthread_create(&tids[i], NULL, task_main, &shared->tasks[i])) != 0) {
			die("pthread_create");
		}
	}
	pthread_barrier_wait(&shared->barrier);
	int failed = 0;
	for (long i = 0; i < threads; i++) {
		if (processes) {
			int st;
			if (waitpid(pids[i], &st, 0) < 0) die("waitpid");
			if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) failed = 1;
		} else {
			pthread_join(tids[i], NULL);
		}
	}
	if (failed) {
		fprintf(stderr, "%s: a task failed\n", twin_name);
		return 1;
	}

	long ops = 0, loop_faults = 0;
	uint64_t first = UINT64_MAX, last = 0;
	for (long i = 0; i < threads; i++) {
		struct twin_task *t = &shared->tasks[i];
		ops += t->ops;
		loop_faults += t->loop_faults;
		if (t->start_ns < first) first = t->start_ns;
		if (t->end_ns > last) last = t->end_ns;
	}
	struct rusage self, kids;
	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &kids);
	printf("twin=%s mode=%s threads=%ld iterations=%ld size=%zu ops=%ld loop_faults=%ld elapsed_ns=%llu minflt=%ld majflt=%ld utime_ns=%llu stime_ns=%llu\n",
	       twin_name, processes ? "processes" : "threads", threads, iterations, size, ops, loop_faults,
	       (unsigned long long)(last - first), self.ru_minflt + kids.ru_minflt, self.ru_majflt + kids.ru_majflt,
	       (unsigned long long)(tv_ns(self.ru_utime) + tv_ns(kids.ru_utime)),
	       (unsigned long long)(tv_ns(self.ru_stime) + tv_ns(kids.ru_stime)));
	return 0;
}
