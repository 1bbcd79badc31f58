/* engine/systemd: unit-file parsing, word splitting and quoting, and the
 * translation of .container files into services (what the generator and
 * `keel generate systemd` write). */
#include "test.h"

#include "lib/cleanup.h"
#include "systemd/quadlet.h"
#include "systemd/unitfile.h"

TEST(parse_sections_comments_continuations)
{
  _cleanup_unit_ struct keel_unit *u = NULL;
  const char *text = "# comment\n; another\n[Unit]\nDescription = spaced  \n\n"
                     "[Container]\nExec=sh -c \\\n# skipped comment\n  \"echo hi\"\n"
                     "Image=a\nImage=b\n";
  ASSERT_OK(keel_unit_parse(text, "t", &u, NULL));
  ASSERT_EQ(u->n, 4);
  ASSERT_STREQ(keel_unit_get(u, "Unit", "Description"), "spaced");
  ASSERT_STREQ(keel_unit_get(u, "Container", "Exec"), "sh -c    \"echo hi\"");
  ASSERT_EQ(u->v[1].line, 7); /* a continued line reports where it began */
  ASSERT_STREQ(keel_unit_get(u, "Container", "Image"), "b"); /* the last wins */
  ASSERT_TRUE(keel_unit_get(u, "Unit", "Nope") == NULL);
}

TEST(parse_invalid_snippets)
{
  static const char *const bad[] = {
    "Key=outside a section\n", "[Unit\nA=b\n", "[Unit]\njust words\n",
    "[Unit]\n=value\n",        "[A]B]\nC=d\n", "[Unit]\nbad key=1\n",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
    {
      struct keel_unit *u = NULL;
      struct keel_error err = KEEL_ERROR_INIT;
      if (keel_unit_parse(bad[i], "f.container", &u, &err) != -EINVAL)
        FAIL_AT("accepted: %s", bad[i]);
      ASSERT_CONTAINS(err.msg, "f.container:");
    }
}

TEST(split_words)
{
  _cleanup_strv_ char **w = NULL;
  ASSERT_OK(keel_unit_split("  a \"b c\" 'd \"e\"' f\\tg \\x41 \"\" ", &w, NULL));
  ASSERT_STREQ(w[0], "a");
  ASSERT_STREQ(w[1], "b c");
  ASSERT_STREQ(w[2], "d \"e\"");
  ASSERT_STREQ(w[3], "f\tg");
  ASSERT_STREQ(w[4], "A");
  ASSERT_STREQ(w[5], "");
  ASSERT_TRUE(w[6] == NULL);
  char **x = NULL;
  struct keel_error err = KEEL_ERROR_INIT;
  ASSERT_EQ(keel_unit_split("a \"open", &x, &err), -EINVAL);
  ASSERT_CONTAINS(err.msg, "unterminated quote");
  ASSERT_EQ(keel_unit_split("a\\q", &x, &err), -EINVAL);
}

TEST(quote_round_trip)
{
  static const char *const words[]
      = { "plain", "two words", "q\"uote", "back\\slash", "", "tab\there", ";", "it's" };
  _cleanup_free_ char *line = NULL;
  for (size_t i = 0; i < sizeof(words) / sizeof(*words); i++)
    ASSERT_OK(keel_unit_quote_append(&line, words[i], true));
  _cleanup_strv_ char **back = NULL;
  ASSERT_OK(keel_unit_split(line, &back, NULL));
  for (size_t i = 0; i < sizeof(words) / sizeof(*words); i++)
    ASSERT_STREQ(back[i], words[i]);
  _cleanup_free_ char *lit = NULL;
  ASSERT_OK(keel_unit_quote_append(&lit, "100% $HOME", false));
  ASSERT_STREQ(lit, "\"100%% $$HOME\""); /* systemd's literal % and $ */
}

static int
translate(const char *text, const char *name, struct keel_quadlet *q, struct keel_error *err)
{
  _cleanup_unit_ struct keel_unit *u = NULL;
  int r = keel_unit_parse(text, name, &u, err);
  struct keel_quadlet_opts o
      = { .keel = "/usr/bin/keel", .source = "/etc/keel/systemd/x", .name = name };
  return r < 0 ? r : keel_quadlet_container(u, &o, q, err);
}

TEST(container_to_service)
{
  struct keel_quadlet q = { 0 };
  const char *text = "[Unit]\nDescription=web\n[Container]\nImage=busybox\n"
                     "Exec=httpd -f -p 80\nEnvironment=A=1 \"B=x y\"\nPublishPort=8080:80\n"
                     "Volume=data:/data\nNetwork=front\nContainerName=web1\nLabel=a=b c=d\n"
                     "User=app\nGroup=users\nReadOnly=yes\nNoNewPrivileges=true\nRunInit=off\n"
                     "HealthCmd=wget -q localhost\nKeelArgs=--memory 64m\nNotify=true\n"
                     "[Service]\nRestart=always\n[Install]\nWantedBy=multi-user.target\n"
                     "RequiredBy=a.target b.target\nAlias=w.service\n";
  ASSERT_OK(translate(text, "web.container", &q, NULL));
  ASSERT_STREQ(q.service, "web.service");
  ASSERT_CONTAINS(q.text,
                  "\nExecStart=/usr/bin/keel run --name=web1 --replace --rm --detach "
                  "--sdnotify=container --user=app:users --env=A=1 \"--env=B=x y\" "
                  "--publish=8080:80 --volume=data:/data --network=front --label=a=b "
                  "--label=c=d --read-only --security-opt=no-new-privileges "
                  "\"--health-cmd=wget -q localhost\" --memory 64m busybox httpd -f -p 80\n");
  ASSERT_FALSE(strstr(q.text, "--init"));
  ASSERT_CONTAINS(q.text, "\nExecStop=/usr/bin/keel rm --force --ignore --volumes web1\n");
  ASSERT_CONTAINS(q.text, "\nType=notify\nNotifyAccess=all\n");
  ASSERT_CONTAINS(q.text, "[Unit]\nWants=network-online.target\n");
  ASSERT_CONTAINS(q.text, "SourcePath=/etc/keel/systemd/x\nDescription=web\n");
  ASSERT_CONTAINS(q.text, "\nRestart=always\n");
  ASSERT_FALSE(strstr(q.text, "[Install]"));
  ASSERT_STREQ(q.wanted_by[0], "multi-user.target");
  ASSERT_STREQ(q.required_by[1], "b.target");
  ASSERT_STREQ(q.alias[0], "w.service");
  keel_quadlet_done(&q);
}

TEST(container_defaults_and_specifiers)
{
  struct keel_quadlet q = { 0 };
  ASSERT_OK(
      translate("[Container]\nImage=busybox\nVolume=%h/data:/data\n", "a.container", &q, NULL));
  /* systemd names the container and expands %h */
  ASSERT_CONTAINS(q.text, "run --name=systemd-%N --replace --rm --detach --sdnotify=conmon "
                          "--volume=%h/data:/data busybox\n");
  keel_quadlet_done(&q);
}

TEST(container_invalid)
{
  static const struct
  {
    const char *name, *text, *msg;
  } bad[] = {
    { "a.container", "[Container]\nExec=true\n", "no Image key" },
    { "a.container", "[Container]\nImage=x\nFrobnicate=1\n", "unsupported key 'Frobnicate'" },
    { "a.container", "[Container]\nImage=x\nReadOnly=maybe\n", "not a boolean" },
    { "a.container", "[Container]\nImage=x\nExec=sh -c \"oops\n", "unterminated quote" },
    { "a.container", "[Container]\nImage=x\nGroup=g\n", "Group= needs User=" },
    { "a.container", "[Container]\nImage=x\n[Install]\nWantedBy=../etc\n", "not a unit name" },
    { "a.container", "[Container]\nImage=x\n[Install]\nAlso=b.service\n", "unsupported key" },
    { "a@.container", "[Container]\nImage=x\n", "templates" },
    { "a.service", "[Container]\nImage=x\n", "must end in .container" },
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
    {
      struct keel_quadlet q = { 0 };
      struct keel_error err = KEEL_ERROR_INIT;
      if (translate(bad[i].text, bad[i].name, &q, &err) >= 0)
        FAIL_AT("accepted: %s", bad[i].text);
      ASSERT_CONTAINS(err.msg, bad[i].msg);
      ASSERT_CONTAINS(err.msg, "/etc/keel/systemd/x");
      ASSERT_TRUE(q.text == NULL);
    }
}

TEST_MAIN
