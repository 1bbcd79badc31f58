/* Parallel layer fetching with unpacking while the bytes arrive.
 *
 * The main thread drives every transfer on the registry's curl multi
 * handle.  A transfer's write callback copies into its layer's ring
 * buffer; when the ring is full the transfer is paused (curl keeps the
 * bytes and offers them again) until the unpacking thread has drained
 * space and woken the loop with curl_multi_wakeup().  The unpacking
 * thread digests, decompresses, unpacks, verifies and commits. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "image/unpack.h"
#include "lib/cleanup.h"
#include "registry/pull.h"

#define RING_SIZE (1u << 20)
#define RESUME_AT (RING_SIZE / 4) /* unpause once this much is free */

enum job_state
{
  JOB_QUEUED,
  JOB_RUNNING,  /* transfer active or waiting to retry */
  JOB_DRAINING, /* transfer done, unpacking thread finishing */
  JOB_DONE,
};

struct job
{
  struct keel_fetch_layer *layer;
  const struct keel_fetch_ctx *ctx;
  enum job_state state;
  CURL *easy;
  bool paused;
  uint64_t received; /* bytes accepted into the ring (across retries) */
  uint64_t skip;     /* bytes to drop: a server that ignored our Range */
  bool checked;      /* status of the current response looked at */
  unsigned attempts;
  int64_t retry_at_ms; /* 0: no retry pending */
  /* ring, shared with the thread */
  pthread_mutex_t mu;
  pthread_cond_t cond;
  unsigned char *ring;
  size_t head, len;
  bool eof, aborted, thread_done, thread_started;
  pthread_t thread;
  int result;
  struct keel_error err; /* the thread's */
};

static int64_t
now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
emit(const struct job *j, enum keel_pull_event_kind kind, const char *msg)
{
  const struct keel_pull_opts *o = j->ctx->opts;
  if (!o->progress)
    return;
  struct keel_pull_event ev = {
    .kind = kind,
    .digest = j->layer->desc->digest,
    .message = msg,
    .index = j->layer->index,
    .count = j->ctx->count,
    .done = j->received,
    .total = j->layer->desc->size,
  };
  o->progress(o->progress_userdata, &ev);
}

/* The unpacking thread's source: block until bytes, the end, or an abort. */
static ssize_t
ring_read(void *userdata, void *buf, size_t len, struct keel_error *err)
{
  struct job *j = userdata;
  pthread_mutex_lock(&j->mu);
  while (j->len == 0 && !j->eof && !j->aborted)
    pthread_cond_wait(&j->cond, &j->mu);
  if (j->aborted)
    {
      pthread_mutex_unlock(&j->mu);
      return keel_error_set(err, -ECANCELED, "download aborted");
    }
  size_t n = len < j->len ? len : j->len;
  size_t first = RING_SIZE - j->head < n ? RING_SIZE - j->head : n;
  memcpy(buf, j->ring + j->head, first);
  memcpy((char *)buf + first, j->ring, n - first);
  j->head = (j->head + n) % RING_SIZE;
  j->len -= n;
  bool wake = j->paused && RING_SIZE - j->len >= RESUME_AT;
  pthread_mutex_unlock(&j->mu);
  if (wake)
    curl_multi_wakeup(keel_registry_multi(j->ctx->registry));
  return (ssize_t)n;
}

static int
verify_and_commit(struct job *j, struct keel_layer_tmp *tmp, const struct keel_unpack_stats *st)
{
  const struct keel_fetch_layer *l = j->layer;
  if (st->compressed_bytes != l->desc->size)
    return keel_error_set(&j->err, -EBADMSG, "layer %s: got %llu bytes, want %llu", l->desc->digest,
                          (unsigned long long)st->compressed_bytes,
                          (unsigned long long)l->desc->size);
  if (strcmp(st->digest, l->desc->digest))
    return keel_error_set(&j->err, -EBADMSG,
                          "layer %s: digest mismatch, the registry sent %s (layer discarded)",
                          l->desc->digest, st->digest);
  if (strcmp(st->diff_id, l->diff_id))
    return keel_error_set(&j->err, -EBADMSG,
                          "layer %s: unpacked content has diff id %s, the config says %s",
                          l->desc->digest, st->diff_id, l->diff_id);
  struct keel_layer_info info = { .size = l->desc->size, .unpacked = st->content_bytes };
  strcpy(info.chain_id, l->chain_id);
  strcpy(info.diff_id, l->diff_id);
  strcpy(info.parent, l->parent);
  strcpy(info.digest, l->desc->digest);
  j->layer->unpacked = st->content_bytes;
  return keel_store_layer_commit(j->ctx->store, tmp, &info, &j->err);
}

static void *
unpack_thread(void *arg)
{
  struct job *j = arg;
  struct keel_layer_tmp *tmp = NULL;
  int r = keel_store_layer_tmp_new(j->ctx->store, &tmp, &j->err);
  if (r == 0)
    {
      struct keel_unpack_source src = { ring_read, j };
      struct keel_unpack_opts uo = { .compressed_size = j->layer->desc->size };
      /* The compressed bytes are kept as they arrive, for push and save. */
      r = keel_store_layer_tmp_blob(tmp, &j->err);
      uo.tee = r >= 0;
      uo.tee_fd = r;
      struct keel_unpack_stats st;
      r = r < 0 ? r : keel_unpack_layer(keel_store_layer_tmp_fd(tmp), &src, &uo, &st, &j->err);
      if (r < 0)
        keel_error_prefix(&j->err, "layer %.19s", j->layer->desc->digest);
      else
        r = verify_and_commit(j, TAKE_PTR(tmp), &st);
    }
  keel_store_layer_tmp_free(tmp);
  pthread_mutex_lock(&j->mu);
  j->result = r;
  j->thread_done = true;
  j->aborted = j->aborted || r < 0; /* the producer stops feeding a failed layer */
  pthread_mutex_unlock(&j->mu);
  curl_multi_wakeup(keel_registry_multi(j->ctx->registry));
  return NULL;
}

static size_t
on_data(char *p, size_t size, size_t n, void *userdata)
{
  struct job *j = userdata;
  size_t len = size * n;
  if (!j->checked)
    {
      long status = 0;
      curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &status);
      if (status == 200 && j->received > 0)
        j->skip = j->received; /* Range ignored: drop what we have */
      j->checked = true;
    }
  size_t off = 0;
  if (j->skip)
    {
      off = j->skip < len ? (size_t)j->skip : len;
      j->skip -= off;
      if (off == len)
        return len;
    }
  size_t want = len - off;
  if (j->received + want > j->layer->desc->size)
    return 0; /* more than the descriptor's size: abort, verification reports it */
  pthread_mutex_lock(&j->mu);
  if (j->aborted)
    {
      pthread_mutex_unlock(&j->mu);
      return 0;
    }
  if (RING_SIZE - j->len < want)
    {
      j->paused = true;
      pthread_mutex_unlock(&j->mu);
      if (off)
        {
          /* curl re-offers the whole buffer: skip the dropped part again */
          j->skip += off;
        }
      return CURL_WRITEFUNC_PAUSE;
    }
  size_t tail = (j->head + j->len) % RING_SIZE;
  size_t first = RING_SIZE - tail < want ? RING_SIZE - tail : want;
  memcpy(j->ring + tail, p + off, first);
  memcpy(j->ring, p + off + first, want - first);
  j->len += want;
  pthread_cond_signal(&j->cond);
  pthread_mutex_unlock(&j->mu);
  j->received += want;
  return len;
}

static int
start_transfer(struct job *j, struct keel_error *err)
{
  CURL *e;
  int r = keel_registry_blob_easy(j->ctx->registry, j->ctx->repo, j->layer->desc->digest,
                                  j->received, &e, err);
  if (r < 0)
    return r;
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, j);
  curl_easy_setopt(e, CURLOPT_FAILONERROR, 1L);
  j->easy = e;
  j->checked = false;
  j->skip = 0;
  j->paused = false;
  curl_multi_add_handle(keel_registry_multi(j->ctx->registry), e);
  return 0;
}

static void
stop_transfer(struct job *j)
{
  if (!j->easy)
    return;
  curl_multi_remove_handle(keel_registry_multi(j->ctx->registry), j->easy);
  keel_registry_easy_free(j->easy);
  j->easy = NULL;
}

static void
abort_job(struct job *j)
{
  stop_transfer(j);
  pthread_mutex_lock(&j->mu);
  j->aborted = true;
  pthread_cond_broadcast(&j->cond);
  pthread_mutex_unlock(&j->mu);
}

static int
start_job(struct job *j, struct keel_error *err)
{
  j->ring = malloc(RING_SIZE);
  if (!j->ring)
    return keel_error_set(err, -ENOMEM, "out of memory");
  j->state = JOB_RUNNING;
  emit(j, KEEL_PULL_LAYER_START, NULL);
  if (pthread_create(&j->thread, NULL, unpack_thread, j) != 0)
    return keel_error_set(err, -EAGAIN, "cannot start an unpacking thread");
  j->thread_started = true;
  return start_transfer(j, err);
}

/* A transfer ended: finished, to be retried (resuming), or failed. */
static int
transfer_done(struct job *j, CURLcode c, struct keel_error *err)
{
  long status = 0;
  curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &status);
  stop_transfer(j);
  pthread_mutex_lock(&j->mu);
  bool failed_inside = j->thread_done && j->result < 0;
  pthread_mutex_unlock(&j->mu);
  if (failed_inside)
    return 0; /* the thread's error is the one to report */
  const struct keel_descriptor *d = j->layer->desc;
  if (c == CURLE_OK && j->received == d->size)
    {
      pthread_mutex_lock(&j->mu);
      j->eof = true;
      pthread_cond_signal(&j->cond);
      pthread_mutex_unlock(&j->mu);
      j->state = JOB_DRAINING;
      return 0;
    }
  if (c == CURLE_WRITE_ERROR && j->received + 1 > d->size)
    return keel_error_set(err, -EBADMSG, "layer %s: registry sent more than its %llu bytes",
                          d->digest, (unsigned long long)d->size);
  bool auth = c == CURLE_HTTP_RETURNED_ERROR && status == 401;
  bool again = auth
               || (c == CURLE_HTTP_RETURNED_ERROR ? status >= 500 || status == 429
                                                  : c != CURLE_WRITE_ERROR);
  char why[200];
  if (c == CURLE_HTTP_RETURNED_ERROR)
    snprintf(why, sizeof(why), "HTTP %ld", status);
  else
    snprintf(why, sizeof(why), "%s",
             c == CURLE_OK ? "connection closed early" : curl_easy_strerror(c));
  if (!again || j->attempts >= keel_registry_opts(j->ctx->registry)->retries)
    return keel_error_set(err, status == 404 ? -ENOENT : -EIO,
                          "layer %s: %s after %llu of %llu bytes%s", d->digest, why,
                          (unsigned long long)j->received, (unsigned long long)d->size,
                          j->attempts ? " (retries exhausted)" : "");
  if (auth && keel_registry_reauth(j->ctx->registry, j->ctx->repo, err) < 0)
    return err->code;
  char msg[300];
  snprintf(msg, sizeof(msg), "%s; resuming at byte %llu", why, (unsigned long long)j->received);
  emit(j, KEEL_PULL_LAYER_RETRY, msg);
  j->retry_at_ms = now_ms() + keel_registry_backoff_ms(j->ctx->registry, j->attempts);
  j->attempts++;
  return 0;
}

struct loop
{
  const struct keel_fetch_ctx *ctx;
  struct job *jobs;
  size_t n, next, active;
  int64_t last_progress;
};

static struct job *
job_of(struct loop *L, CURL *e)
{
  for (size_t i = 0; i < L->n; i++)
    if (L->jobs[i].easy == e)
      return &L->jobs[i];
  return NULL;
}

/* Service timers, unpauses and finished threads; start queued jobs. */
static int
housekeeping(struct loop *L, struct keel_error *err)
{
  int64_t now = now_ms();
  bool progress = now - L->last_progress >= 200;
  for (size_t i = 0; i < L->n; i++)
    {
      struct job *j = &L->jobs[i];
      if (j->state == JOB_RUNNING && !j->easy && j->retry_at_ms && now >= j->retry_at_ms)
        {
          j->retry_at_ms = 0;
          int r = start_transfer(j, err);
          if (r < 0)
            return r;
        }
      if (j->state == JOB_RUNNING && j->easy && j->paused)
        {
          pthread_mutex_lock(&j->mu);
          bool room = RING_SIZE - j->len >= RESUME_AT;
          if (room)
            j->paused = false;
          pthread_mutex_unlock(&j->mu);
          if (room)
            curl_easy_pause(j->easy, CURLPAUSE_CONT);
        }
      pthread_mutex_lock(&j->mu);
      bool done = j->thread_done;
      pthread_mutex_unlock(&j->mu);
      if (done && j->state != JOB_DONE && j->state != JOB_QUEUED)
        {
          pthread_join(j->thread, NULL);
          j->thread_started = false;
          if (j->result < 0)
            {
              *err = j->err;
              return j->result;
            }
          stop_transfer(j);
          j->state = JOB_DONE;
          L->active--;
          emit(j, KEEL_PULL_LAYER_DONE, NULL);
        }
      else if (progress && j->state == JOB_RUNNING)
        emit(j, KEEL_PULL_LAYER_BYTES, NULL);
    }
  if (progress)
    L->last_progress = now;
  unsigned par = keel_registry_opts(L->ctx->registry)->parallel;
  while (L->next < L->n && L->active < par)
    {
      int r = start_job(&L->jobs[L->next++], err);
      L->active++;
      if (r < 0)
        return r;
    }
  return 0;
}

static int
run_loop(struct loop *L, struct keel_error *err)
{
  CURLM *m = keel_registry_multi(L->ctx->registry);
  int r;
  while ((r = housekeeping(L, err)) == 0 && (L->active > 0 || L->next < L->n))
    {
      int running;
      curl_multi_perform(m, &running);
      CURLMsg *msg;
      int left;
      while ((msg = curl_multi_info_read(m, &left)))
        {
          struct job *j = msg->msg == CURLMSG_DONE ? job_of(L, msg->easy_handle) : NULL;
          if (j && (r = transfer_done(j, msg->data.result, err)) < 0)
            return r;
        }
      curl_multi_poll(m, NULL, 0, 100, NULL);
    }
  return r;
}

int
keel_fetch_layers(const struct keel_fetch_ctx *ctx, struct keel_fetch_layer *layers, size_t n,
                  struct keel_error *err)
{
  if (n == 0)
    return 0;
  struct loop L = { .ctx = ctx, .n = n };
  L.jobs = calloc(n, sizeof(*L.jobs));
  if (!L.jobs)
    return keel_error_set(err, -ENOMEM, "out of memory");
  for (size_t i = 0; i < n; i++)
    {
      L.jobs[i].layer = &layers[i];
      L.jobs[i].ctx = ctx;
      pthread_mutex_init(&L.jobs[i].mu, NULL);
      pthread_cond_init(&L.jobs[i].cond, NULL);
    }
  int r = run_loop(&L, err);
  for (size_t i = 0; i < n; i++)
    {
      struct job *j = &L.jobs[i];
      if (r < 0)
        abort_job(j);
      else
        stop_transfer(j);
      if (j->thread_started)
        pthread_join(j->thread, NULL);
      pthread_mutex_destroy(&j->mu);
      pthread_cond_destroy(&j->cond);
      free(j->ring);
    }
  free(L.jobs);
  return r;
}
