#include "image/compress.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "image/decompress.h"
#include "lib/cleanup.h"
#include "lib/fs.h"

#define OUT_SIZE (256u << 10)

const char *
keel_compression_name(enum keel_layer_compression c)
{
  return c == KEEL_COMPRESSION_GZIP ? "gzip" : c == KEEL_COMPRESSION_ZSTD ? "zstd" : "none";
}

int
keel_blob_compression(int fd, enum keel_layer_compression *ret, struct keel_error *err)
{
  unsigned char m[4] = { 0 };
  ssize_t n = pread(fd, m, sizeof(m), 0);
  if (n < 0)
    return keel_error_set_errno(err, -errno, "cannot read layer blob");
  if (n >= 2 && m[0] == 0x1f && m[1] == 0x8b)
    *ret = KEEL_COMPRESSION_GZIP;
  else if (n == 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)
    *ret = KEEL_COMPRESSION_ZSTD;
  else
    *ret = KEEL_COMPRESSION_NONE;
  return 0;
}

/* The compressor: the output is digested and counted on its way out. */
struct keel_compressor
{
  int fd;
  struct keel_digest_ctx *dig;
  uint64_t size;
  enum keel_layer_compression to;
  z_stream z;
  ZSTD_CStream *zs;
  unsigned char *out;
};

static int
emit(struct keel_compressor *k, const void *p, size_t n, struct keel_error *err)
{
  if (!n)
    return 0;
  keel_digest_update(k->dig, p, n);
  k->size += n;
  int r = keel_write_all(k->fd, p, n);
  return r < 0 ? keel_error_set_errno(err, r, "cannot write the compressed layer") : 0;
}

/* Feed n bytes (end: finish the stream). */
static int
compress_block(struct keel_compressor *k, const void *p, size_t n, bool end, struct keel_error *err)
{
  int r;
  if (k->to == KEEL_COMPRESSION_NONE)
    return emit(k, p, n, err);
  if (k->to == KEEL_COMPRESSION_GZIP)
    {
      k->z.next_in = (unsigned char *)p;
      k->z.avail_in = (uInt)n;
      int zr;
      do
        {
          k->z.next_out = k->out;
          k->z.avail_out = OUT_SIZE;
          zr = deflate(&k->z, end ? Z_FINISH : Z_NO_FLUSH);
          if (zr == Z_STREAM_ERROR)
            return keel_error_set(err, -EIO, "gzip compression failed");
          if ((r = emit(k, k->out, OUT_SIZE - k->z.avail_out, err)) < 0)
            return r;
        }
      while (k->z.avail_out == 0 || (end && zr != Z_STREAM_END));
      return 0;
    }
  ZSTD_inBuffer in = { p, n, 0 };
  for (;;)
    {
      ZSTD_outBuffer out = { k->out, OUT_SIZE, 0 };
      size_t left = ZSTD_compressStream2(k->zs, &out, &in, end ? ZSTD_e_end : ZSTD_e_continue);
      if (ZSTD_isError(left))
        return keel_error_set(err, -EIO, "zstd: %s", ZSTD_getErrorName(left));
      if ((r = emit(k, k->out, out.pos, err)) < 0)
        return r;
      if (end ? left == 0 : in.pos == in.size)
        return 0;
    }
}

void
keel_compressor_free(struct keel_compressor *k)
{
  if (!k)
    return;
  if (k->to == KEEL_COMPRESSION_GZIP && k->out)
    deflateEnd(&k->z);
  ZSTD_freeCStream(k->zs);
  keel_digest_free(k->dig);
  free(k->out);
  free(k);
}

int
keel_compressor_new(int out_fd, enum keel_layer_compression to, struct keel_compressor **ret,
                    struct keel_error *err)
{
  struct keel_compressor *k = calloc(1, sizeof(*k));
  if (!k)
    return keel_error_set(err, -ENOMEM, "out of memory");
  k->fd = out_fd;
  k->to = to;
  int r = 0;
  k->out = malloc(OUT_SIZE);
  if (!k->out || keel_digest_new(&k->dig) < 0)
    r = keel_error_set(err, -ENOMEM, "out of memory");
  /* no file name and mtime 0 in the gzip header: the same tar gives the
   * same blob */
  else if (to == KEEL_COMPRESSION_GZIP
           && deflateInit2(&k->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8,
                           Z_DEFAULT_STRATEGY)
                  != Z_OK)
    {
      free(TAKE_PTR(k->out));
      r = keel_error_set(err, -ENOMEM, "cannot start gzip compression");
    }
  else if (to == KEEL_COMPRESSION_ZSTD && !(k->zs = ZSTD_createCStream()))
    r = keel_error_set(err, -ENOMEM, "cannot start zstd compression");
  if (r < 0)
    {
      keel_compressor_free(k);
      return r;
    }
  *ret = k;
  return 0;
}

int
keel_compressor_write(struct keel_compressor *k, const void *p, size_t n, struct keel_error *err)
{
  return n ? compress_block(k, p, n, false, err) : 0;
}

int
keel_compressor_finish(struct keel_compressor *k, char digest[KEEL_DIGEST_MAX], uint64_t *ret_size,
                       struct keel_error *err)
{
  int r = compress_block(k, "", 0, true, err);
  if (r < 0)
    return r;
  if ((r = keel_digest_final(TAKE_PTR(k->dig), digest)) < 0)
    return keel_error_set_errno(err, r, "cannot digest the compressed layer");
  *ret_size = k->size;
  return 0;
}

int
keel_recompress(int in_fd, int out_fd, enum keel_layer_compression to,
                struct keel_recompress_result *ret, struct keel_error *err)
{
  if (lseek(in_fd, 0, SEEK_SET) < 0)
    return keel_error_set_errno(err, -errno, "cannot rewind layer blob");
  struct keel_unpack_source src = { keel_unpack_read_fd, &in_fd };
  struct keel_dstream *ds = NULL;
  struct keel_compressor *k = NULL;
  int r = keel_dstream_new(&src, UINT64_MAX, &ds, err);
  if (r == 0)
    r = keel_compressor_new(out_fd, to, &k, err);
  const void *p;
  ssize_t n = 0;
  while (r == 0 && (n = keel_dstream_next(ds, &p, err)) > 0)
    r = keel_compressor_write(k, p, (size_t)n, err);
  if (r == 0 && n < 0)
    r = (int)n;
  if (r == 0)
    r = keel_compressor_finish(k, ret->digest, &ret->size, err);
  struct keel_unpack_stats st;
  if (r == 0)
    r = keel_dstream_finish(ds, &st, err);
  if (r == 0)
    memcpy(ret->diff_id, st.diff_id, sizeof(ret->diff_id));
  keel_compressor_free(k);
  keel_dstream_free(ds);
  return r;
}
