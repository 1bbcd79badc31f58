/* Keeping a monitor small while it idles.  Creating a container runs a lot
 * of code (spec parsing, mounts, cgroups, seccomp) once; afterwards the
 * monitor only moves bytes.  The pages that code was read into stay
 * mapped, and counted in our resident set, though they are clean copies
 * of the binary, shared with every other monitor, that the kernel can
 * bring back at any time.  So after a start we unmap them (MADV_DONTNEED
 * on a clean file mapping drops only our page-table entries; the next
 * use faults them in again) and give freed heap back (malloc_trim).
 * Mappings holding private copies (relocated data, written pages: the
 * "Anonymous" field of smaps is non-zero) are never touched: for them
 * DONTNEED would throw data away. */
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "cli/monitor/monitor.h"
#include "lib/cleanup.h"

struct region
{
  unsigned long start, end;
  bool candidate;
};

static void
drop(struct region *r)
{
  if (r->candidate && r->end > r->start)
    {
      /* no fault-around either: each page comes back alone, when used */
      madvise((void *)r->start, r->end - r->start, MADV_RANDOM);
      madvise((void *)r->start, r->end - r->start, MADV_DONTNEED);
    }
  r->candidate = false;
}

void
monitor_trim(void)
{
  malloc_trim(0);
  _cleanup_fclose_ FILE *f = fopen("/proc/self/smaps", "re");
  if (!f)
    return;
  char line[512];
  struct region cur = { 0 };
  while (fgets(line, sizeof(line), f))
    {
      unsigned long start, end, offset, inode;
      char perms[8], dev[16];
      int path_at = 0;
      unsigned long anon;
      if (sscanf(line, "%lx-%lx %7s %lx %15s %lu %n", &start, &end, perms, &offset, dev, &inode,
                 &path_at)
          >= 6)
        {
          drop(&cur);
          /* a file mapping (memfd included) that we never write */
          cur = (struct region){ start, end,
                                 perms[1] != 'w' && perms[3] == 'p' && path_at
                                     && line[path_at] != '[' && line[path_at] != '\n' };
        }
      else if (sscanf(line, "Anonymous: %lu kB", &anon) == 1 && anon > 0)
        cur.candidate = false;
    }
  drop(&cur);
}
