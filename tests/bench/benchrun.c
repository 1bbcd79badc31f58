/* benchrun: run a command once, print "wall_us cpu_us maxrss_kb status".
 * CPU time is user+system of the command and everything it waited for
 * (getrusage of the children), in microseconds; precise where time(1) is
 * not. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
  if (argc < 2)
    {
      fprintf(stderr, "usage: benchrun COMMAND [ARGS...]\n");
      return 2;
    }
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  pid_t pid = fork();
  if (pid < 0)
    return 2;
  if (pid == 0)
    {
      execvp(argv[1], argv + 1);
      _exit(127);
    }
  int status;
  if (waitpid(pid, &status, 0) < 0)
    return 2;
  clock_gettime(CLOCK_MONOTONIC, &b);
  struct rusage ru;
  getrusage(RUSAGE_CHILDREN, &ru);
  long long wall = (b.tv_sec - a.tv_sec) * 1000000LL + (b.tv_nsec - a.tv_nsec) / 1000;
  long long cpu = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000LL + ru.ru_utime.tv_usec
                  + ru.ru_stime.tv_usec;
  printf("%lld %lld %ld %d\n", wall, cpu, ru.ru_maxrss,
         WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  return 0;
}
