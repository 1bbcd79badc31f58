/* host's pure parts: host.conf, maintenance windows, sizes, the state file
 * and the GRUB environment block. */
#include "test.h"

#include <glib/gstdio.h>
#include <sys/stat.h>

#include "../../host/config.h"
#include "../../host/grubenv.h"

TEST(config_defaults)
{
  HostConfig c;
  host_config_init(&c);
  ASSERT_EQ(c.policy, HOST_POLICY_OFF);
  ASSERT_EQ(c.boot_tries, 3);
  ASSERT_EQ(c.health_timeout, 300);
  ASSERT_TRUE(c.health_engine && c.health_network);
  ASSERT_FALSE(c.has_window);
  host_config_clear(&c);
}

TEST(config_full)
{
  HostConfig c;
  GError *e = NULL;
  host_config_init(&c);
  const char *text = "# comment\n\n policy = stage-reboot \nwindow=02:00-04:30\nboot-tries=5\n"
                     "health-timeout=60\nhealth-image=debian:12\nhealth-engine=no\n"
                     "health-network=false\nmin-free-root=1G\n";
  ASSERT_TRUE(host_config_parse(text, &c, &e));
  ASSERT_EQ(c.policy, HOST_POLICY_STAGE_REBOOT);
  ASSERT_TRUE(c.has_window);
  ASSERT_EQ(c.window_start, 120);
  ASSERT_EQ(c.window_end, 270);
  ASSERT_EQ(c.boot_tries, 5);
  ASSERT_EQ(c.health_timeout, 60);
  ASSERT_STREQ(c.health_image, "debian:12");
  ASSERT_FALSE(c.health_engine);
  ASSERT_FALSE(c.health_network);
  ASSERT_EQ(c.min_free_root, 1ULL << 30);
  host_config_clear(&c);
}

/* Every invalid line is refused with its line number. */
TEST(config_invalid)
{
  static const char *const bad[] = {
    "policy=sometimes\n",   "window=2-4\n",    "window=25:00-26:00\n",  "window=02:00-02:00\n",
    "boot-tries=0\n",       "boot-tries=10\n", "boot-tries=x\n",        "health-timeout=0\n",
    "colour=blue\n",        "just words\n",    "health-engine=maybe\n", "min-free-root=12X\n",
    "window=02:60-03:00\n",
  };
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
    {
      HostConfig c;
      GError *e = NULL;
      host_config_init(&c);
      g_autofree char *text = g_strconcat("policy=check\n", bad[i], NULL);
      if (host_config_parse(text, &c, &e))
        FAIL_AT("accepted '%s'", bad[i]);
      if (!strstr(e->message, "line 2"))
        FAIL_AT("'%s': error lacks the line: %s", bad[i], e->message);
      g_error_free(e);
      host_config_clear(&c);
    }
}

TEST(window_contains)
{
  int a, b;
  ASSERT_TRUE(host_window_parse("02:00-04:00", &a, &b, NULL));
  ASSERT_TRUE(host_window_contains(a, b, 120));
  ASSERT_TRUE(host_window_contains(a, b, 239));
  ASSERT_FALSE(host_window_contains(a, b, 240));
  ASSERT_FALSE(host_window_contains(a, b, 119));
  /* across midnight */
  ASSERT_TRUE(host_window_parse("23:30-1:00", &a, &b, NULL));
  ASSERT_TRUE(host_window_contains(a, b, 23 * 60 + 45));
  ASSERT_TRUE(host_window_contains(a, b, 30));
  ASSERT_FALSE(host_window_contains(a, b, 60));
  ASSERT_FALSE(host_window_contains(a, b, 12 * 60));
}

TEST(sizes)
{
  guint64 v = 0;
  ASSERT_TRUE(host_size_parse("123", &v, NULL));
  ASSERT_EQ(v, 123);
  ASSERT_TRUE(host_size_parse("4k", &v, NULL));
  ASSERT_EQ(v, 4096);
  ASSERT_TRUE(host_size_parse("512M", &v, NULL));
  ASSERT_EQ(v, 512ULL << 20);
  ASSERT_FALSE(host_size_parse("", &v, NULL));
  ASSERT_FALSE(host_size_parse("-1", &v, NULL));
  ASSERT_FALSE(host_size_parse("1T", &v, NULL));
  ASSERT_FALSE(host_size_parse("99999999999999999999G", &v, NULL));
}

TEST(state_roundtrip)
{
  g_autofree char *dir = g_dir_make_tmp("keel-host-state-XXXXXX", NULL);
  g_autofree char *sub = g_build_filename(dir, "a/b", NULL);
  GKeyFile *s = host_state_load(sub, NULL);
  ASSERT_TRUE(s != NULL);
  ASSERT_FALSE(host_state_paused(s));
  host_state_pause(s, "rollback requested by the user");
  for (int i = 0; i < 20; i++)
    {
      char c[65];
      snprintf(c, sizeof(c), "%064d", i);
      host_state_add_failed_commit(s, c);
    }
  host_state_add_failed_commit(s,
                               "0000000000000000000000000000000000000000000000000000000000000019");
  ASSERT_TRUE(host_state_save(s, sub, NULL));
  g_key_file_unref(s);

  s = host_state_load(sub, NULL);
  ASSERT_TRUE(host_state_paused(s));
  g_autofree char *r = g_key_file_get_string(s, "auto-update", "paused-reason", NULL);
  ASSERT_STREQ(r, "rollback requested by the user");
  /* the newest sixteen are kept, without duplicates */
  gsize n = 0;
  g_auto(GStrv) list = g_key_file_get_string_list(s, "failed", "commits", &n, NULL);
  ASSERT_EQ(n, 16);
  ASSERT_TRUE(host_state_commit_failed(
      s, "0000000000000000000000000000000000000000000000000000000000000019"));
  ASSERT_FALSE(host_state_commit_failed(
      s, "0000000000000000000000000000000000000000000000000000000000000001"));
  host_state_resume(s);
  ASSERT_FALSE(host_state_paused(s));
  g_key_file_unref(s);

  /* a corrupt file is an error, not an empty state */
  g_autofree char *path = g_build_filename(sub, "state", NULL);
  ASSERT_TRUE(g_file_set_contents(path, "[unterminated\n", -1, NULL));
  GError *e = NULL;
  ASSERT_TRUE(host_state_load(sub, &e) == NULL);
  ASSERT_TRUE(strstr(e->message, "state file") != NULL);
  g_error_free(e);
  g_unlink(path);
  g_rmdir(sub);
  g_autofree char *a = g_build_filename(dir, "a", NULL);
  g_rmdir(a);
  g_rmdir(dir);
}

TEST(grubenv_format)
{
  g_autoptr(GHashTable) v = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  g_hash_table_insert(v, g_strdup("keel_tries"), g_strdup("2"));
  g_hash_table_insert(v, g_strdup("keel_pending"), g_strdup("/ostree/boot.1/keel/abc/0"));
  g_autofree char *block = host_grubenv_format(v, NULL);
  ASSERT_TRUE(block != NULL);
  ASSERT_EQ(strlen(block), HOST_GRUBENV_SIZE);
  ASSERT_TRUE(g_str_has_prefix(block, "# GRUB Environment Block\n"
                                      "keel_pending=/ostree/boot.1/keel/abc/0\nkeel_tries=2\n#"));
  ASSERT_EQ(block[HOST_GRUBENV_SIZE - 1], '#');
  g_autoptr(GHashTable) back = host_grubenv_parse(block, HOST_GRUBENV_SIZE);
  ASSERT_EQ(g_hash_table_size(back), 2);
  ASSERT_STREQ(g_hash_table_lookup(back, "keel_tries"), "2");

  /* newlines would corrupt the block; too much does not fit */
  g_hash_table_insert(v, g_strdup("bad"), g_strdup("a\nb"));
  ASSERT_TRUE(host_grubenv_format(v, NULL) == NULL);
  g_hash_table_remove(v, "bad");
  g_autofree char *big = g_strnfill(1000, 'x');
  g_hash_table_insert(v, g_strdup("big"), g_strdup(big));
  ASSERT_TRUE(host_grubenv_format(v, NULL) == NULL);
}

TEST(grubenv_file)
{
  g_autofree char *dir = g_dir_make_tmp("keel-grubenv-XXXXXX", NULL);
  g_autofree char *path = g_build_filename(dir, "grub/grubenv", NULL);
  g_autoptr(GHashTable) v = host_grubenv_read(path, NULL);
  ASSERT_EQ(g_hash_table_size(v), 0);
  g_hash_table_insert(v, g_strdup("keel_max_tries"), g_strdup("3"));
  ASSERT_TRUE(host_grubenv_write(path, v, NULL));
  struct stat st;
  ASSERT_EQ(stat(path, &st), 0);
  ASSERT_EQ(st.st_size, HOST_GRUBENV_SIZE);
  ASSERT_TRUE(st.st_blocks > 0); /* allocated: GRUB writes through the block list */
  g_autoptr(GHashTable) r = host_grubenv_read(path, NULL);
  ASSERT_STREQ(g_hash_table_lookup(r, "keel_max_tries"), "3");
  g_unlink(path);
  g_autofree char *g = g_build_filename(dir, "grub", NULL);
  g_rmdir(g);
  g_rmdir(dir);
}

TEST_MAIN
