/*
 * Not a twin: the microbenchmarks `--machine host` takes its measured costs from
 * (src/calibrate/hostcost.ts maps them onto the model's cost fields; docs/calibrate.md says how).
 * Built like the twins, with the system C compiler: cc -O2 -pthread hostcost.c
 *
 *   hostcost syscall  reps=N   a null syscall (getppid through syscall(2), which glibc cannot
 *                              cache): ns per call, one sample per 101 batches of 100 calls
 *                              (their median batch)
 *   hostcost fault    reps=N threads=1|2
 *                              first-touch write faults on fresh private anonymous pages (a 4 MiB
 *                              mapping, THP off, mapped and unmapped outside the timing), each
 *                              timed alone: one sample per mapping, the median fault less the
 *                              clock's own cost; and their mean (fault_mean_ns: what a loop of
 *                              faults pays, tail included; faults of 200 us or more are taken for
 *                              preemptions and left out). threads=2: another process takes the
 *                              same faults on the other CPU meanwhile (fault2_ns, fault2_mean_ns)
 *   hostcost munmap   reps=N threads=1|2
 *                              one-page munmaps inside one PTE table: a page that was written
 *                              (a PTE to zap, a TLB entry to flush) and a page never touched (no
 *                              PTE: no flush), alternately; one sample per mapping: the median
 *                              ns of each kind. threads=2: a second thread of the process spins
 *                              in user mode on the other CPU, so that every flush must reach it;
 *                              its loop rate during the written pages' munmaps against during the
 *                              untouched ones' gives what each flush costs the CPU it reaches
 *                              (munmap2_target_lost_ns: the loop time lost per flush)
 *   hostcost spin     reps=N threads=N
 *                              pure user-mode loops on CPUs 0..N-1 at once for 20 ms: loops per
 *                              ms, all threads together (calibrate compares N with 1: what the
 *                              CPUs can do together now, with no kernel in it)
 *   hostcost futex    reps=N   two threads on two CPUs wake each other by futex: one sample per
 *                              200 round trips, the median round trip, the median time the
 *                              waker spends in FUTEX_WAKE, and the median time from the waker's
 *                              FUTEX_WAKE to the woken thread back in user mode, of the rounds
 *                              it slept in (futex_wake_to_run_ns)
 *   hostcost wakeidle reps=N  a thread on the second CPU goes to sleep in FUTEX_WAIT; the first,
 *                              D ns after it said it would, wakes it, for D from 1 to 48 us in
 *                              turn (wakeidle_d_ns), 60 rounds of each a sample. Of the rounds it
 *                              slept in: per sample the 10th, 50th and 90th percentiles of the
 *                              time from FUTEX_WAKE to the woken thread back in user mode, every
 *                              D together (wakeidle_p10_ns, _p50_ns, _p90_ns: what calibrate
 *                              maps), and each D's median apart (wakeidle_<D>_ns, for the
 *                              record: how the latency moves with how long the CPU was idle);
 *                              the share of rounds it slept in (wakeidle_slept)
 *
 * Every sample is a median of many operations timed alone or in small batches, so that a task
 * preempted by another program drops out; what a busy machine still changes (the other CPU
 * taken while the second thread should run, the futex partner not asleep) is printed too.
 *
 * Output: `key=value` lines, a sample list as comma-separated numbers (the caller takes the
 * medians), and last `cpu_ns=` (user + system time of the process and its children, getrusage:
 * the caller tells its own load from the machine's). Threads are pinned to CPUs 0 and 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long pagesize;

static void die(const char *what)
{
	fprintf(stderr, "hostcost: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void pin(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof set, &set) != 0) die("sched_setaffinity");
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static uint64_t median_u64(uint64_t *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_u64);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void print_list(const char *key, const double *v, int n)
{
	printf("%s=", key);
	for (int i = 0; i < n; i++) printf("%s%.1f", i ? "," : "", v[i]);
	printf("\n");
}

/* A private anonymous mapping of `bytes`, THP off, aligned to `align` (a power of two). */
static char *map_aligned(size_t bytes, size_t align)
{
	char *raw = mmap(NULL, bytes + align, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED) die("mmap");
	char *p = (char *)(((uintptr_t)raw + align - 1) & ~(uintptr_t)(align - 1));
	if (p > raw) munmap(raw, (size_t)(p - raw));
	if (raw + bytes + align > p + bytes) munmap(p + bytes, (size_t)(raw + bytes + align - (p + bytes)));
	madvise(p, bytes, MADV_NOHUGEPAGE);
	return p;
}

/* Back-to-back clock reads: what timing one operation adds to it (the vDSO's clock_gettime). */
static uint64_t clock_overhead_ns(void)
{
	enum { N = 1001 };
	uint64_t *v = calloc(N, sizeof *v);
	for (int i = 0; i < N; i++) {
		uint64_t t0 = now_ns();
		v[i] = now_ns() - t0;
	}
	uint64_t m = median_u64(v, N);
	free(v);
	return m;
}

/* Each sample: the median of 101 batches of 100 calls (a batch a preemption hit drops out). */
static void bench_syscall(int reps)
{
	enum { BATCHES = 101, N = 100 };
	double *v = calloc((size_t)reps, sizeof *v);
	uint64_t *b = calloc(BATCHES, sizeof *b);
	for (int i = 0; i < 1000; i++) syscall(SYS_getppid);
	for (int r = 0; r < reps; r++) {
		for (int k = 0; k < BATCHES; k++) {
			uint64_t t0 = now_ns();
			for (int i = 0; i < N; i++) syscall(SYS_getppid);
			b[k] = now_ns() - t0;
		}
		v[r] = (double)median_u64(b, BATCHES) / N;
	}
	print_list("syscall_ns", v, reps);
}

/* Each sample: the median of one fresh mapping's 1024 faults, each timed alone, less the clock's
 * own cost (into v), and their mean (into mean), faults of PREEMPTED_NS or more left out
 * (a preemption, not a fault), less the clock's cost: the twins pay the mean, tail included.
 * threads=2: meanwhile another process on the other CPU takes the same faults, so that what two
 * vCPUs faulting at once cost each other shows (`progress` counts the other's faults; v and
 * mean NULL there). */
enum { PREEMPTED_NS = 200000 };

static void fault_loop(int reps, volatile unsigned long *progress, double *v, double *mean)
{
	const size_t bytes = 4u << 20;
	const int pages = (int)(bytes / (size_t)pagesize);
	uint64_t *f = calloc((size_t)pages, sizeof *f);
	uint64_t clk = clock_overhead_ns();
	for (int r = 0; r < reps; r++) {
		volatile char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) die("mmap");
		madvise((void *)p, bytes, MADV_NOHUGEPAGE);
		for (int i = 0; i < pages; i++) {
			uint64_t t0 = now_ns();
			p[(size_t)i * (size_t)pagesize] = 1;
			if (v == NULL) (*progress)++;
			else f[i] = now_ns() - t0;
		}
		if (v != NULL) {
			double sum = 0;
			int n = 0;
			for (int i = 0; i < pages; i++)
				if (f[i] < PREEMPTED_NS) sum += (double)f[i], n++;
			double avg = n > 0 ? sum / n : 0;
			mean[r] = avg > (double)clk ? avg - (double)clk : 0;
			uint64_t m = median_u64(f, pages);
			v[r] = (double)(m > clk ? m - clk : 0);
		}
		munmap((void *)p, bytes);
	}
	free(f);
}

static void bench_fault(int reps, int threads)
{
	double *v = calloc((size_t)reps, sizeof *v);
	double *mean = calloc((size_t)reps, sizeof *mean);
	if (threads == 1) {
		fault_loop(reps, NULL, v, mean);
		print_list("fault_ns", v, reps);
		print_list("fault_mean_ns", mean, reps);
		return;
	}
	/* Shared with the child: its fault count, and the flag that stops it. */
	volatile unsigned long *shm = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shm == MAP_FAILED) die("mmap");
	pid_t child = fork();
	if (child < 0) die("fork");
	if (child == 0) {
		pin(1);
		while (!shm[1]) fault_loop(1, &shm[0], NULL, NULL);
		_exit(0);
	}
	pin(0);
	while (shm[0] == 0) sched_yield();
	unsigned long c0 = shm[0];
	fault_loop(reps, NULL, v, mean);
	unsigned long c1 = shm[0];
	shm[1] = 1;
	waitpid(child, NULL, 0);
	/* The other process's faults per fault of ours: about 1 when it ran all along. */
	printf("fault2_other_faults=%.3f\n", (double)(c1 - c0) / (double)(reps * (int)((4u << 20) / (size_t)pagesize)));
	print_list("fault2_ns", v, reps);
	print_list("fault2_mean_ns", mean, reps);
}

static volatile unsigned long spin_count;
static volatile int spin_stop;

static void *spinner(void *arg)
{
	(void)arg;
	pin(1);
	while (!spin_stop) spin_count++;
	return NULL;
}

static void bench_munmap(int reps, int threads)
{
	/* One PTE table's span (2 MiB on x86-64), aligned: its last page stays mapped while the
	 * others are unmapped one by one, so the table is never freed inside the timing. */
	const size_t span = 512 * (size_t)pagesize;
	const int n = 510;
	double *touched = calloc((size_t)reps, sizeof *touched);
	double *untouched = calloc((size_t)reps, sizeof *untouched);
	double *lost = calloc((size_t)reps, sizeof *lost);
	uint64_t *a = calloc(n, sizeof *a), *b = calloc(n, sizeof *b);
	long seen = 0, calls = 0;
	pthread_t th;
	pin(0);
	if (threads == 2) {
		if (pthread_create(&th, NULL, spinner, NULL) != 0) die("pthread_create");
		while (spin_count == 0) sched_yield();
	}
	for (int r = 0; r < reps; r++) {
		char *p = map_aligned(span, span);
		for (int i = 0; i < n; i += 2) p[(size_t)i * (size_t)pagesize] = 1;
		p[(size_t)(n + 1) * (size_t)pagesize] = 1;
		int na = 0, nb = 0;
		/* The spinner's loops and the time, during each kind of munmap (threads=2). */
		double loops_a = 0, loops_b = 0, ns_a = 0, ns_b = 0;
		for (int i = 0; i < n; i++) {
			unsigned long c0 = spin_count;
			uint64_t t0 = now_ns();
			if (munmap(p + (size_t)i * (size_t)pagesize, (size_t)pagesize) != 0) die("munmap");
			uint64_t dt = now_ns() - t0;
			unsigned long dc = spin_count - c0;
			if (threads == 2) {
				calls++;
				seen += dc != 0;
			}
			if (i % 2 == 0) {
				a[na++] = dt;
				loops_a += (double)dc;
				ns_a += (double)dt;
			} else {
				b[nb++] = dt;
				loops_b += (double)dc;
				ns_b += (double)dt;
			}
		}
		munmap(p + (size_t)n * (size_t)pagesize, span - (size_t)n * (size_t)pagesize);
		touched[r] = (double)median_u64(a, na);
		untouched[r] = (double)median_u64(b, nb);
		/* The share of the spinner's rate the flushes took, times their mean duration. */
		if (loops_b > 0 && ns_a > 0)
			lost[r] = (1.0 - (loops_a / ns_a) / (loops_b / ns_b)) * (ns_a / na);
	}
	if (threads == 2) {
		spin_stop = 1;
		pthread_join(th, NULL);
		/* How often the second thread ran during a munmap: a busy machine takes its CPU away. */
		printf("munmap_other_running=%.3f\n", calls ? (double)seen / (double)calls : 0.0);
	}
	print_list(threads == 2 ? "munmap2_touched_ns" : "munmap1_touched_ns", touched, reps);
	print_list(threads == 2 ? "munmap2_untouched_ns" : "munmap1_untouched_ns", untouched, reps);
	if (threads == 2) print_list("munmap2_target_lost_ns", lost, reps);
}

/* Pure user-mode work on `threads` CPUs at once, for ms milliseconds: what the CPUs can do
 * together, with no kernel in it (a guest's vCPUs sharing a host core, or packed by the host,
 * give less than `threads` times one). Prints the total loop count per ns. */
static volatile int capacity_go, capacity_stop;
static unsigned long capacity_count[64];

static void *capacity_worker(void *arg)
{
	int i = (int)(long)arg;
	pin(i);
	while (!capacity_go) ;
	unsigned long c = 0;
	while (!capacity_stop) {
		for (int k = 0; k < 1000; k++) __asm__ volatile("");
		c++;
	}
	capacity_count[i] = c;
	return NULL;
}

static void bench_spin(int reps, int threads)
{
	double *v = calloc((size_t)reps, sizeof *v);
	pthread_t th[64];
	for (int r = 0; r < reps; r++) {
		capacity_go = capacity_stop = 0;
		for (int i = 0; i < threads; i++)
			if (pthread_create(&th[i], NULL, capacity_worker, (void *)(long)i) != 0) die("pthread_create");
		struct timespec d = { 0, 2000000 };
		nanosleep(&d, NULL);
		uint64_t t0 = now_ns();
		capacity_go = 1;
		d.tv_nsec = 20000000;
		nanosleep(&d, NULL);
		capacity_stop = 1;
		uint64_t t1 = now_ns();
		double sum = 0;
		for (int i = 0; i < threads; i++) {
			pthread_join(th[i], NULL);
			sum += (double)capacity_count[i];
		}
		v[r] = sum * 1e6 / (double)(t1 - t0);
	}
	print_list(threads == 1 ? "spin1_per_ms" : "spinn_per_ms", v, reps);
}

static int futex_word[2];
enum { ROUNDS = 200 };

static long futex(int *addr, int op, int val)
{
	return syscall(SYS_futex, addr, op, val, NULL, NULL, 0);
}

/* Wait until *w is `val`: sleep in FUTEX_WAIT while it is not. 1 if a FUTEX_WAIT slept and was woken. */
static int wait_for(int *w, int val)
{
	int woken = 0;
	for (;;) {
		int cur = __atomic_load_n(w, __ATOMIC_ACQUIRE);
		if (cur == val) return woken;
		if (futex(w, FUTEX_WAIT_PRIVATE, cur) == 0) woken = 1;
	}
}

static volatile int pong_reps;
/* The waker's clock just before its FUTEX_WAKE of round k, and when the woken ponger ran again (0: it had not slept). */
static uint64_t wake_t0;
static uint64_t *ran_after;

static void *ponger(void *arg)
{
	(void)arg;
	pin(1);
	for (long k = 1; k <= (long)pong_reps * ROUNDS; k++) {
		int slept = wait_for(&futex_word[0], (int)k);
		uint64_t t1 = now_ns();
		ran_after[k - 1] = slept ? t1 - __atomic_load_n(&wake_t0, __ATOMIC_ACQUIRE) : 0;
		__atomic_store_n(&futex_word[1], (int)k, __ATOMIC_RELEASE);
		futex(&futex_word[1], FUTEX_WAKE_PRIVATE, 1);
	}
	return NULL;
}

static void bench_futex(int reps)
{
	double *rtt = calloc((size_t)reps, sizeof *rtt);
	double *wake = calloc((size_t)reps, sizeof *wake);
	double *run = calloc((size_t)reps, sizeof *run);
	uint64_t *w = calloc(ROUNDS, sizeof *w), *t = calloc(ROUNDS, sizeof *t);
	long woke = 0, wakes = 0;
	pthread_t th;
	pin(0);
	pong_reps = reps;
	ran_after = calloc((size_t)reps * ROUNDS, sizeof *ran_after);
	if (pthread_create(&th, NULL, ponger, NULL) != 0) die("pthread_create");
	long k = 0;
	for (int r = 0; r < reps; r++) {
		for (int i = 0; i < ROUNDS; i++) {
			k++;
			uint64_t t0 = now_ns();
			__atomic_store_n(&wake_t0, t0, __ATOMIC_RELEASE);
			__atomic_store_n(&futex_word[0], (int)k, __ATOMIC_RELEASE);
			long n = futex(&futex_word[0], FUTEX_WAKE_PRIVATE, 1);
			w[i] = now_ns() - t0;
			wakes++;
			woke += n > 0;
			wait_for(&futex_word[1], (int)k);
			t[i] = now_ns() - t0;
		}
		rtt[r] = (double)median_u64(t, ROUNDS);
		wake[r] = (double)median_u64(w, ROUNDS);
	}
	pthread_join(th, NULL);
	/* Per sample, the median time from the waker's FUTEX_WAKE to the woken thread running again, of the rounds it slept in. */
	int runs = 0;
	for (int r = 0; r < reps; r++) {
		int n = 0;
		for (int i = 0; i < ROUNDS; i++)
			if (ran_after[(size_t)r * ROUNDS + i] != 0) t[n++] = ran_after[(size_t)r * ROUNDS + i];
		if (n > 0) run[runs++] = (double)median_u64(t, n);
	}
	/* How often FUTEX_WAKE found the other thread asleep (else it was still on its way). */
	printf("futex_woke=%.3f\n", wakes ? (double)woke / (double)wakes : 0.0);
	print_list("futex_rtt_ns", rtt, reps);
	print_list("futex_wake_ns", wake, reps);
	if (runs > 0) print_list("futex_wake_to_run_ns", run, runs);
}

/* wakeidle: the sleeper announces round k (sleep_k), then sleeps until wake_k is k. */
static int sleep_k, wake_k, ran_k;
static uint64_t idle_t0, idle_lat;
static volatile long idle_rounds;

static void *idle_sleeper(void *arg)
{
	(void)arg;
	pin(1);
	for (long k = 1; k <= idle_rounds; k++) {
		__atomic_store_n(&sleep_k, (int)k, __ATOMIC_RELEASE);
		int slept = wait_for(&wake_k, (int)k);
		uint64_t t1 = now_ns();
		__atomic_store_n(&idle_lat, slept ? t1 - __atomic_load_n(&idle_t0, __ATOMIC_ACQUIRE) : 0, __ATOMIC_RELEASE);
		__atomic_store_n(&ran_k, (int)k, __ATOMIC_RELEASE);
	}
	return NULL;
}

enum { IDLE_ROUNDS = 60, IDLE_DS = 9 };
static const uint64_t idle_d_ns[IDLE_DS] = { 1000, 2000, 3000, 4000, 6000, 8000, 12000, 24000, 48000 };

static void bench_wakeidle(int reps)
{
	double *v = calloc((size_t)reps * IDLE_DS, sizeof *v);
	uint64_t *lat = calloc((size_t)IDLE_DS * IDLE_ROUNDS, sizeof *lat);
	int *n = calloc(IDLE_DS, sizeof *n);
	uint64_t *pooled = calloc((size_t)IDLE_DS * IDLE_ROUNDS, sizeof *pooled);
	double *q10 = calloc((size_t)reps, sizeof *q10), *q50 = calloc((size_t)reps, sizeof *q50), *q90 = calloc((size_t)reps, sizeof *q90);
	int nq = 0;
	long slept = 0;
	pthread_t th;
	pin(0);
	idle_rounds = (long)reps * IDLE_DS * IDLE_ROUNDS;
	if (pthread_create(&th, NULL, idle_sleeper, NULL) != 0) die("pthread_create");
	long k = 0;
	for (int r = 0; r < reps; r++) {
		memset(n, 0, IDLE_DS * sizeof *n);
		/* The D's in turn, so that a slow spell of the machine falls on all of them alike. */
		for (int i = 0; i < IDLE_ROUNDS * IDLE_DS; i++) {
			int d = i % IDLE_DS;
			k++;
			while (__atomic_load_n(&sleep_k, __ATOMIC_ACQUIRE) != (int)k) ;
			uint64_t s = now_ns();
			while (now_ns() - s < idle_d_ns[d]) ;
			uint64_t t0 = now_ns();
			__atomic_store_n(&idle_t0, t0, __ATOMIC_RELEASE);
			__atomic_store_n(&wake_k, (int)k, __ATOMIC_RELEASE);
			long woke = futex(&wake_k, FUTEX_WAKE_PRIVATE, 1);
			while (__atomic_load_n(&ran_k, __ATOMIC_ACQUIRE) != (int)k) ;
			uint64_t l = __atomic_load_n(&idle_lat, __ATOMIC_ACQUIRE);
			/* Only the rounds the sleeper slept in and this FUTEX_WAKE woke it. */
			if (woke > 0 && l != 0) lat[(size_t)d * IDLE_ROUNDS + n[d]++] = l;
		}
		for (int d = 0; d < IDLE_DS; d++) {
			v[(size_t)d * reps + r] = n[d] > 0 ? (double)median_u64(&lat[(size_t)d * IDLE_ROUNDS], n[d]) : 0;
		}
		/* The rep's wake-ups of every D together: their 10th, 50th and 90th percentiles. */
		int all = 0;
		for (int d = 0; d < IDLE_DS; d++)
			for (int i = 0; i < n[d]; i++) pooled[all++] = lat[(size_t)d * IDLE_ROUNDS + i];
		if (all > 0) {
			qsort(pooled, (size_t)all, sizeof *pooled, cmp_u64);
			q10[nq] = (double)pooled[all / 10];
			q50[nq] = (double)pooled[all / 2];
			q90[nq] = (double)pooled[all * 9 / 10];
			nq++;
		}
		slept += all;
	}
	pthread_join(th, NULL);
	/* How many rounds found the sleeper asleep and woke it (the others are left out). */
	printf("wakeidle_slept=%.3f\n", (double)slept / (double)idle_rounds);
	if (nq > 0) {
		print_list("wakeidle_p10_ns", q10, nq);
		print_list("wakeidle_p50_ns", q50, nq);
		print_list("wakeidle_p90_ns", q90, nq);
	}
	printf("wakeidle_d_ns=");
	for (int d = 0; d < IDLE_DS; d++) printf("%s%llu", d ? "," : "", (unsigned long long)idle_d_ns[d]);
	printf("\n");
	for (int d = 0; d < IDLE_DS; d++) {
		char key[64];
		/* A D none of whose rounds slept (a busy machine) prints no samples. */
		int m = 0;
		for (int r = 0; r < reps; r++)
			if (v[(size_t)d * reps + r] > 0) v[(size_t)d * reps + m++] = v[(size_t)d * reps + r];
		if (m == 0) continue;
		snprintf(key, sizeof key, "wakeidle_%llu_ns", (unsigned long long)idle_d_ns[d]);
		print_list(key, &v[(size_t)d * reps], m);
	}
}

int main(int argc, char **argv)
{
	pagesize = sysconf(_SC_PAGESIZE);
	if (argc < 2) {
		fprintf(stderr, "usage: hostcost syscall|fault|munmap|futex|wakeidle|spin [reps=N] [threads=N]\n");
		return 2;
	}
	int reps = 9, threads = 1;
	for (int i = 2; i < argc; i++) {
		if (strncmp(argv[i], "reps=", 5) == 0) reps = atoi(argv[i] + 5);
		else if (strncmp(argv[i], "threads=", 8) == 0) threads = atoi(argv[i] + 8);
		else {
			fprintf(stderr, "hostcost: unknown argument '%s'\n", argv[i]);
			return 2;
		}
	}
	if (reps < 1 || reps > 1000 || threads < 1 || threads > 64) {
		fprintf(stderr, "hostcost: reps must be 1..1000, threads 1..64\n");
		return 2;
	}
	if (threads > 2 && strcmp(argv[1], "spin") != 0) {
		fprintf(stderr, "hostcost: %s takes threads=1 or 2\n", argv[1]);
		return 2;
	}
	if (strcmp(argv[1], "syscall") == 0) bench_syscall(reps);
	else if (strcmp(argv[1], "fault") == 0) bench_fault(reps, threads);
	else if (strcmp(argv[1], "munmap") == 0) bench_munmap(reps, threads);
	else if (strcmp(argv[1], "futex") == 0) bench_futex(reps);
	else if (strcmp(argv[1], "wakeidle") == 0) bench_wakeidle(reps);
	else if (strcmp(argv[1], "spin") == 0) bench_spin(reps, threads);
	else {
		fprintf(stderr, "hostcost: unknown benchmark '%s'\n", argv[1]);
		return 2;
	}
	struct rusage ru, rc;
	getrusage(RUSAGE_SELF, &ru);
	getrusage(RUSAGE_CHILDREN, &rc);
	printf("cpu_ns=%lld\n", (long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + rc.ru_utime.tv_sec + rc.ru_stime.tv_sec) * 1000000000LL +
	       (long long)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec + rc.ru_utime.tv_usec + rc.ru_stime.tv_usec) * 1000LL);
	return 0;
}
