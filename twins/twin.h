/*
 * The harness every twin shares: the command line, the tasks (threads of one process, or forked
 * processes), pinning, a start barrier, timing, and the closing report line. A twin defines what
 * it takes (the macros below), includes this file, then defines its per-task set-up and its round
 * (see page_fault1.c).
 *
 * Command line, as the model's workload parameters are written:
 *   TWIN threads=N WORK=N [mode=threads|processes] [size=BYTES[K|M|G]] [dir=PATH] [the twin's own]
 * WORK is the workload's fixed-work parameter (TWIN_WORK: `iterations` unless the twin says
 * otherwise, e.g. multi-fault's `rounds`). WORK=0 runs the set-up only (the "empty run"
 * calibrate subtracts). mode=, size= and dir= are taken by the twins that define TWIN_MODE,
 * TWIN_SIZE and TWIN_DIR; a twin's own parameters go to its twin_param() (TWIN_PARAM).
 *
 * Optional, defined by the twin before including this file:
 *   TWIN_INIT    the twin defines twin_init(): the process's set-up, run by the main thread
 *                before the tasks start (ebizzy's chunks); elapsed_ns then starts before it
 *   TWIN_PER_RUN one round is one run of the whole process (pft): the main thread calls
 *                twin_run_begin(), starts the tasks, each does one twin_round() after a barrier
 *                of the tasks, joins them, and calls twin_run_end(), WORK times; before that the
 *                tasks are started and joined once with the set-up only. Threads only.
 *   TWIN_NO_PIN  the tasks are not pinned (ebizzy's threads are not)
 *
 * Output, one line on stdout after every task has finished:
 *   twin=NAME mode=M threads=N iterations=N size=B ops=N loop_faults=N elapsed_ns=N minflt=N
 *   majflt=N utime_ns=N stime_ns=N
 * (iterations= is the WORK count, whatever its name.) loop_faults is the sum of each task's own
 * faults in its rounds (getrusage(RUSAGE_THREAD) after the start barrier and after its last
 * round; with TWIN_PER_RUN, around each round): exact, no start-up in it. elapsed_ns runs from
 * the first task's start (after the barrier; with TWIN_INIT, from before twin_init(); with
 * TWIN_PER_RUN, from the first run's begin) to the last task's end (the last run's end); the
 * fault and time counts are getrusage()'s for the whole run (self and, in processes mode, the
 * children), so they include start-up.
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

#ifndef TWIN_WORK
#define TWIN_WORK "iterations"
#endif

struct twin_task {
	int idx;
	long iterations;   /* the WORK count */
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
#ifdef TWIN_PARAM
/* One `key=value` argument the harness does not take: 1 if the twin took it, 0 if unknown. */
static int twin_param(const char *key, const char *value);
#endif
#ifdef TWIN_INIT
static void twin_init(long threads);
#endif
#ifdef TWIN_PER_RUN
static void twin_run_begin(long threads, size_t size);
static void twin_run_end(void);
#endif

struct twin_shared {
	pthread_barrier_t barrier;       /* the tasks and the main thread: the start */
	pthread_barrier_t task_barrier;  /* the tasks only: twin_barrier() */
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
	if (end == v) { fprintf(stderr, "%s: bad size '%s'\n", twin_name, v); exit(2); }
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

/* A whole number >= 0 (a flag, a count), or exit 2. */
static long parse_count(const char *key, const char *v)
{
	char *end;
	long n = strtol(v, &end, 10);
	if (end == v || *end != 0 || n < 0) { fprintf(stderr, "%s: %s=%s is not a whole number >= 0\n", twin_name, key, v); exit(2); }
	return n;
}

/* Wait for every task (not the main thread): a barrier of the workload's `threads` group. */
static __attribute__((unused)) void twin_barrier(void)
{
	pthread_barrier_wait(&shared->task_barrier);
}

/* Bind the calling task to the idx-th CPU it may run on (will-it-scale binds task i to core i). */
static __attribute__((unused)) void pin(int idx)
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

static void pin_task(struct twin_task *t)
{
#ifdef TWIN_NO_PIN
	(void)t;
#else
	pin(t->idx);
#endif
}

static long faults_of(const struct rusage *r)
{
	return r->ru_minflt + r->ru_majflt;
}

#ifndef TWIN_PER_RUN
static void *task_main(void *arg)
{
	struct twin_task *t = arg;
	pin_task(t);
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
	t->loop_faults = faults_of(&after) - faults_of(&before);
	return NULL;
}
#else
/* The set-up pass: each task is started once before the runs (and in the empty run). */
static void *task_setup_main(void *arg)
{
	struct twin_task *t = arg;
	struct rusage r;
	pin_task(t);
	twin_setup(t);
	getrusage(RUSAGE_THREAD, &r);
	(void)now_ns();
	twin_barrier();
	return NULL;
}

/* One run's task: after the tasks' barrier, one round, its faults counted around it. */
static void *task_run_main(void *arg)
{
	struct twin_task *t = arg;
	struct rusage before, after;
	pin_task(t);
	twin_barrier();
	getrusage(RUSAGE_THREAD, &before);
	twin_round(t);
	getrusage(RUSAGE_THREAD, &after);
	t->loop_faults += faults_of(&after) - faults_of(&before);
	return NULL;
}

static void run_threads(pthread_t *tids, long threads, void *(*fn)(void *))
{
	for (long i = 0; i < threads; i++)
		if ((errno = pthread_create(&tids[i], NULL, fn, &shared->tasks[i])) != 0) die("pthread_create");
	for (long i = 0; i < threads; i++) pthread_join(tids[i], NULL);
}
#endif

static uint64_t tv_ns(struct timeval tv)
{
	return (uint64_t)tv.tv_sec * 1000000000u + (uint64_t)tv.tv_usec * 1000u;
}

static void usage(void)
{
	fprintf(stderr, "usage: %s threads=N " TWIN_WORK "=N"
#ifdef TWIN_MODE
		" mode=threads|processes"
#endif
#ifdef TWIN_SIZE
		" size=BYTES"
#endif
#ifdef TWIN_DIR
		" [dir=PATH]"
#endif
#ifdef TWIN_PARAM
		" [the workload's own parameters]"
#endif
		"\n", twin_name);
	exit(2);
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
		const char *eq = strchr(a, '=');
		if (eq == NULL) usage();
		size_t klen = (size_t)(eq - a);
		char key[64];
		if (klen >= sizeof(key)) usage();
		memcpy(key, a, klen);
		key[klen] = 0;
		const char *v = eq + 1;
		if (strcmp(key, "threads") == 0) threads = parse_count(key, v);
		else if (strcmp(key, TWIN_WORK) == 0) iterations = parse_count(key, v);
#ifdef TWIN_MODE
		else if (strcmp(a, "mode=threads") == 0) processes = 0;
		else if (strcmp(a, "mode=processes") == 0) processes = 1;
#endif
#ifdef TWIN_SIZE
		else if (strcmp(key, "size") == 0) size = parse_size(v);
#endif
#ifdef TWIN_DIR
		else if (strcmp(key, "dir") == 0) dir = v;
#endif
#ifdef TWIN_PARAM
		else if (twin_param(key, v)) continue;
#endif
		else usage();
	}
	if (threads < 1 || size < (size_t)pagesize) {
		fprintf(stderr, "%s: threads >= 1 and size >= one page, please\n", twin_name);
		return 2;
	}
	size -= size % (size_t)pagesize;

	/* Shared with forked children: the barriers and the tasks' results. */
	size_t bytes = sizeof(struct twin_shared) + (size_t)threads * sizeof(struct twin_task);
	shared = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED) die("mmap");
	pthread_barrierattr_t ba;
	pthread_barrierattr_init(&ba);
	pthread_barrierattr_setpshared(&ba, PTHREAD_PROCESS_SHARED);
	pthread_barrier_init(&shared->barrier, &ba, (unsigned)threads + 1);
	pthread_barrier_init(&shared->task_barrier, &ba, (unsigned)threads);
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
	uint64_t first = UINT64_MAX, last = 0;
#ifdef TWIN_INIT
	first = now_ns();
	twin_init(threads);
#endif
#ifdef TWIN_PER_RUN
	run_threads(tids, threads, task_setup_main);
	if (iterations > 0) first = now_ns();
	for (long r = 0; r < iterations; r++) {
		twin_run_begin(threads, size);
		run_threads(tids, threads, task_run_main);
		twin_run_end();
	}
	if (iterations > 0) last = now_ns();
	else first = last = 0;
#else
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
#endif

	long ops = 0, loop_faults = 0;
	for (long i = 0; i < threads; i++) {
		struct twin_task *t = &shared->tasks[i];
		ops += t->ops;
		loop_faults += t->loop_faults;
#ifndef TWIN_PER_RUN
		if (t->start_ns < first) first = t->start_ns;
		if (t->end_ns > last) last = t->end_ns;
#endif
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
