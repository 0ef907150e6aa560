/*
 * start: `bfbench start PORT RUNS -- COMMAND [ARGS...]` runs COMMAND RUNS
 * times; each time it measures the wall time from fork+exec to the first
 * "HTTP/1.1 200" answer to GET /health on 127.0.0.1:PORT (tried every
 * 200 us), then, after one idle second, the resident memory of the process
 * and its children (VmRSS summed: nginx's master and workers), then stops
 * it with SIGTERM (SIGKILL after 10 s).  Prints the medians:
 * "start_ms=X start_min_ms=Y idle_rss_kb=Z runs=N".
 */
#include "bench.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define START_MAX_RUNS	50
#define START_TIMEOUT_S	5.0

/* 1 when GET /health answers 200 now. */
static int
health_ok(int port)
{
	struct sockaddr_in	 sa;
	static const char	 q[] = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "Connection: close\r\n\r\n";
	char			 r[16];
	ssize_t			 n;
	size_t			 got = 0;
	int			 fd, ok = 0;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    write(fd, q, sizeof(q) - 1) == (ssize_t)(sizeof(q) - 1)) {
		while (got < 12 && (n = read(fd, r + got, 12 - got)) > 0)
			got += (size_t)n;
		ok = got == 12 && memcmp(r, "HTTP/1.1 200", 12) == 0;
	}
	close(fd);
	return ok;
}

/* VmRSS of pid and of its direct children, in kB. */
static long
tree_rss(pid_t pid)
{
	DIR		*d;
	struct dirent	*e;
	char		 path[300], line[256];
	long		 kb = bench_proc_kb(pid, "VmRSS");
	FILE		*f;

	if ((d = opendir("/proc")) == NULL)
		return kb;
	while ((e = readdir(d)) != NULL) {
		long	 child = strtol(e->d_name, NULL, 10);

		if (child <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/status", child);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		while (fgets(line, sizeof(line), f) != NULL)
			if (strncmp(line, "PPid:", 5) == 0) {
				if (strtol(line + 5, NULL, 10) == (long)pid)
					kb += bench_proc_kb(child, "VmRSS");
				break;
			}
		fclose(f);
	}
	closedir(d);
	return kb;
}

static void
stop(pid_t pid)
{
	double	t0 = bench_now();
	int	status;

	kill(pid, SIGTERM);
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (bench_now() - t0 > 10.0) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return;
		}
		usleep(10000);
	}
}

static int
cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
cmd_start(int argc, char **argv)
{
	struct timespec	 nap = { 0, 200000 };
	double		 ms[START_MAX_RUNS], rss[START_MAX_RUNS], t0;
	int		 port, runs, r, ok, exited;
	pid_t		 pid;

	if (argc < 5 || strcmp(argv[3], "--") != 0 ||
	    (port = (int)strtol(argv[1], NULL, 10)) <= 0 || port > 65535 ||
	    (runs = (int)strtol(argv[2], NULL, 10)) < 1 ||
	    runs > START_MAX_RUNS) {
		fprintf(stderr, "usage: bfbench start PORT RUNS(1-%d) -- "
		    "COMMAND [ARGS...]\n", START_MAX_RUNS);
		return 2;
	}
	for (r = 0; r < runs; r++) {
		if (health_ok(port)) {
			fprintf(stderr, "bfbench start: port %d already "
			    "answers\n", port);
			return 1;
		}
		t0 = bench_now();
		if ((pid = fork()) == -1)
			return 1;
		if (pid == 0) {
			int fd = open("/dev/null", O_WRONLY);

			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
			execvp(argv[4], argv + 4);
			_exit(127);
		}
		exited = 0;
		while (!(ok = health_ok(port)) &&
		    bench_now() - t0 < START_TIMEOUT_S) {
			if (waitpid(pid, NULL, WNOHANG) == pid) {
				exited = 1;
				break;
			}
			nanosleep(&nap, NULL);
		}
		ms[r] = (bench_now() - t0) * 1000.0;
		if (!ok) {
			fprintf(stderr, "bfbench start: %s %s\n", argv[4], exited ?
			    "exited before answering (port taken?)" :
			    "gave no 200 on /health in time");
			if (!exited)
				stop(pid);
			return 1;
		}
		sleep(1);
		rss[r] = (double)tree_rss(pid);
		stop(pid);
	}
	qsort(ms, (size_t)runs, sizeof(ms[0]), cmp_double);
	qsort(rss, (size_t)runs, sizeof(rss[0]), cmp_double);
	printf("start_ms=%.1f start_min_ms=%.1f idle_rss_kb=%.0f runs=%d\n",
	    ms[runs / 2], ms[0], rss[runs / 2], runs);
	return 0;
}
