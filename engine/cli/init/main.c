/* keel-init: the tiny init `keel run --init` puts in front of the
 * container's command (tini's and catatonit's role).  As PID 1 it runs
 * the command as its child, forwards every catchable signal to it (a bare
 * PID 1 ignores SIGTERM and SIGINT unless it handles them), reaps every
 * orphan that the kernel reparents to it, and exits with the command's
 * status (128+N for a signal).  Linked statically: it runs from a
 * read-only bind mount at /run/keel-init inside any image. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
  int first = argc > 1 && !strcmp(argv[1], "--") ? 2 : 1;
  if (first >= argc)
    {
      fprintf(stderr, "usage: keel-init [--] COMMAND [ARG...]\n");
      return 125;
    }
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, &old);
  pid_t child = fork();
  if (child < 0)
    {
      perror("keel-init: fork");
      return 125;
    }
  if (child == 0)
    {
      sigprocmask(SIG_SETMASK, &old, NULL);
      /* its own process group, so a terminal's ^C reaches it as it would
       * without an init */
      setpgid(0, 0);
      execvp(argv[first], argv + first);
      int e = errno;
      fprintf(stderr, "keel-init: cannot execute '%s': %s\n", argv[first], strerror(e));
      _exit(e == ENOENT ? 127 : 126);
    }
  for (;;)
    {
      siginfo_t si;
      int sig = sigwaitinfo(&all, &si);
      if (sig < 0)
        continue;
      if (sig != SIGCHLD)
        {
          kill(child, sig);
          continue;
        }
      int status;
      pid_t pid;
      while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
        if (pid == child)
          return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
}
