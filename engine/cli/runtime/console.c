/* The foreground side of `run` with a terminal: raw mode on our tty, bytes
 * copied both ways, window size followed, until the container exits. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "cli/runtime/cli.h"
#include "lib/fs.h"

static volatile sig_atomic_t winch;

static void
on_winch(int sig)
{
  (void)sig;
  winch = 1;
}

static void
copy_size(int master)
{
  struct winsize ws;
  if (ioctl(0, TIOCGWINSZ, &ws) == 0)
    ioctl(master, TIOCSWINSZ, &ws);
}

int
cli_console_proxy(int master, pid_t pid)
{
  struct termios saved, raw;
  bool tty = isatty(0) && tcgetattr(0, &saved) == 0;
  if (tty)
    {
      raw = saved;
      cfmakeraw(&raw);
      tcsetattr(0, TCSANOW, &raw);
      copy_size(master);
      struct sigaction sa = { .sa_handler = on_winch };
      sigaction(SIGWINCH, &sa, NULL);
    }
  bool in_open = true;
  char buf[16384];
  for (;;)
    {
      if (winch)
        {
          winch = 0;
          copy_size(master);
        }
      struct pollfd p[2] = { { master, POLLIN, 0 }, { in_open ? 0 : -1, POLLIN, 0 } };
      if (poll(p, 2, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          break;
        }
      if (p[0].revents & (POLLIN | POLLHUP | POLLERR))
        {
          ssize_t n = read(master, buf, sizeof(buf));
          if (n <= 0)
            break; /* EIO: every slave fd is closed, the container is done */
          if (keel_write_all(1, buf, (size_t)n) < 0)
            break;
        }
      if (p[1].revents & (POLLIN | POLLHUP | POLLERR))
        {
          ssize_t n = read(0, buf, sizeof(buf));
          if (n <= 0)
            {
              in_open = false;
              char eof = 4; /* ^D: tell the container's tty our input ended */
              if (write(master, &eof, 1) < 0)
                break;
            }
          else if (keel_write_all(master, buf, (size_t)n) < 0)
            break;
        }
    }
  if (tty)
    tcsetattr(0, TCSANOW, &saved);
  close(master);
  int code = 1;
  keel_container_wait_child(pid, &code);
  return code;
}
