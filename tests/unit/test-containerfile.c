/* The Containerfile parser: directives, continuations, heredocs, every
 * instruction's form, and one clear "FILE:LINE: ..." error per bad input. */
#include "test.h"

#include "build/containerfile.h"

static struct keel_containerfile *
parse(const char *text, struct keel_error *err)
{
  struct keel_containerfile *cf = NULL;
  if (keel_containerfile_parse("Containerfile", text, strlen(text), &cf, err) < 0)
    return NULL;
  return cf;
}

static const struct keel_cf_instr *
instr(const struct keel_containerfile *cf, size_t stage, size_t i)
{
  if (stage >= cf->n_stages || i >= cf->stages[stage].n_instrs)
    return NULL;
  return &cf->stages[stage].instrs[i];
}

TEST(minimal)
{
  struct keel_error err = KEEL_ERROR_INIT;
  struct keel_containerfile *cf = parse("FROM busybox\nRUN echo hi\n", &err);
  ASSERT_TRUE(cf);
  ASSERT_EQ(cf->n_stages, 1);
  ASSERT_STREQ(cf->stages[0].base, "busybox");
  ASSERT_TRUE(cf->stages[0].name == NULL);
  ASSERT_EQ(cf->stages[0].n_instrs, 2);
  ASSERT_EQ(instr(cf, 0, 1)->cmd, KEEL_CF_RUN);
  ASSERT_EQ(instr(cf, 0, 1)->line, 2);
  ASSERT_STREQ(instr(cf, 0, 1)->args, "echo hi");
  ASSERT_FALSE(instr(cf, 0, 1)->json);
  keel_containerfile_free(cf);
}

TEST(case_insensitive_keywords_and_stage_names)
{
  struct keel_error err = KEEL_ERROR_INIT;
  struct keel_containerfile *cf = parse("from scratch as Build\ncopy a b\n", &err);
  ASSERT_TRUE(cf);
  ASSERT_STREQ(cf->stages[0].base, "scratch");
  ASSERT_STREQ(cf->stages[0].name, "build");
  ASSERT_EQ(instr(cf, 0, 1)->cmd, KEEL_CF_COPY);
  ASSERT_STREQ(instr(cf, 0, 1)->text, "COPY a b");
  keel_containerfile_free(cf);
}

TEST(comments_blank_lines_and_continuations)
{
  struct keel_error err = KEEL_ERROR_INIT;
  struct keel_containerfile *cf = parse("# a comment\n\n   # indented comment\nFROM x\n"
                                        "RUN echo a \\\n# comment inside\n\n  && echo b\r\n"
                                        "ENV A=1\n",
                                        &err);
  ASSERT_TRUE(cf);
  ASSERT_EQ(cf->stages[0].n_instrs, 3);
  ASSERT_STREQ(instr(cf, 0, 1)->args, "echo a   && echo b");
  ASSERT_EQ(instr(cf, 0, 1)->line, 5);
  ASSERT_EQ(instr(cf, 0, 2)->line, 9);
  keel_containerfile_free(cf);
}

TEST(escape_directive_backtick)
{
  struct keel_error err = KEEL_ERROR_INIT;
  struct keel_containerfile *cf = parse("# escape=`\n# syntax=docker/dockerfile:1\nFROM x\n"
                                        "RUN dir c:\\ `\n  && echo done\n",
                                        &err);
  ASSERT_TRUE(cf);
  ASSERT_EQ(cf->escape, '`');
  ASSERT_STREQ(cf->syntax, "docker/dockerfile:1");
  ASSERT_STREQ(instr(cf, 0, 1)->args, "dir c:\\   && echo done");
  keel_containerfile_free(cf);
}

TEST(directive_after_comment_is_a_comment)
{
  struct keel_error err = KEEL_ERROR_INIT;
  struct keel_containerfile *cf = parse("# hello\n# escape=`\nFROM x\nRUN a \\\n b\n", &err);
  ASSERT_TRUE(cf);
  ASSERT_EQ(cf->escape, '\\');
  ASSERT_STREQ(instr(cf, 0, 1)->args, "a  b");
  keel_containerfile_free(cf);
}

TEST(json_and_shell_forms)
{
  struct keel_error err = KEEL_ERROR_INIT;
  struct keel_containerfile *cf
      = parse("FROM x\nCMD [\"/bin/sh\", \"-c\", \"echo hi\"]\nENTRYPOINT top -b\n"
              "RUN [ -f /etc/passwd ]\nSHELL [\"/bin/bash\", \"-c\"]\nVOLUME [\"/a\", \"/b\"]\n"
              "VOLUME /c /d\n",
              &err);
  ASSERT_TRUE(cf);
  const struct keel_cf_instr *c = instr(cf, 0, 1);
  ASSERT_TRUE(c->json);
  ASSERT_STREQ(c->argv[0], "/bin/sh");
  ASSERT_STREQ(c->argv[2], "echo hi");
  ASSERT_TRUE(c->argv[3] == NULL);
  ASSERT_FALSE(instr(cf, 0, 2)->json);
  ASSERT_FALSE(instr(cf, 0, 3)->json); /* a shell test, not JSON */
  ASSERT_TRUE(instr(cf, 0, 4)->json);
  ASSERT_TRUE(instr(cf, 0, 5)->json);
  ASSERT_FALSE(instr(cf, 0, 6)->json);
  keel_containerfile_free(cf);
}

TEST(from_platform_and_meta_args)
{
  struct keel_error err = KEEL_ERROR_INIT;
  struct keel_containerfile *cf
      = parse("ARG BASE=busybox\nARG V\nFROM --platform=linux/amd64 ${BASE}:$V AS one\n", &err);
  ASSERT_TRUE(cf);
  ASSERT_EQ(cf->n_meta, 2);
  ASSERT_STREQ(cf->meta[0].kv[0].key, "BASE");
  ASSERT_STREQ(cf->meta[0].kv[0].value, "busybox");
  ASSERT_TRUE(cf->meta[1].kv[0].value == NULL);
  ASSERT_STREQ(cf->stages[0].platform, "linux/amd64");
  ASSERT_STREQ(cf->stages[0].base, "${BASE}:$V");
  ASSERT_STREQ(cf->stages[0].name, "one");
  keel_containerfile_free(cf);
}

TEST(env_label_arg_forms)
{
  struct keel_error err = KEEL_ERROR_INIT;
  struct keel_containerfile *cf = parse("FROM x\nENV A=1 B=\"two words\" C=three\\ words\n"
                                        "ENV LEGACY value with spaces\n"
                                        "LABEL \"com.example.a\"=\"x y\" b=c\n"
                                        "ARG ONE=1 TWO\n",
                                        &err);
  ASSERT_TRUE(cf);
  const struct keel_cf_instr *e = instr(cf, 0, 1);
  ASSERT_EQ(e->n_kv, 3);
  ASSERT_STREQ(e->kv[1].key, "B");
  ASSERT_STREQ(e->kv[1].value, "\"two words\"");
  ASSERT_STREQ(e->kv[2].value, "three\\ words");
  e = instr(cf, 0, 2);
  ASSERT_EQ(e->n_kv, 1);
  ASSERT_STREQ(e->kv[0].key, "LEGACY");
  ASSERT_STREQ(e->kv[0].value, "value with spaces");
  e = instr(cf, 0, 3);
  ASSERT_EQ(e->n_kv, 2);
  ASSERT_STREQ(e->kv[0].key, "\"com.example.a\"");
  e = instr(cf, 0, 4);
  ASSERT_EQ(e->n_kv, 2);
  ASSERT_STREQ(e->kv[0].value, "1");
  ASSERT_TRUE(e->kv[1].value == NULL);
  keel_containerfile_free(cf);
}

TEST(copy_flags)
{
  struct keel_error err = KEEL_ERROR_INIT;
  struct keel_containerfile *cf
      = parse("FROM x AS a\nFROM y\nCOPY --from=a --chown=1:2 --chmod=640 --link /x /y\n"
              "ADD --chown=bin f.tar /opt/\nCOPY [\"a b\", \"/c\"]\n",
              &err);
  ASSERT_TRUE(cf);
  const struct keel_cf_instr *c = instr(cf, 1, 1);
  ASSERT_EQ(c->n_flags, 4);
  ASSERT_STREQ(keel_cf_flag_get(c, "from"), "a");
  ASSERT_STREQ(keel_cf_flag_get(c, "chown"), "1:2");
  ASSERT_STREQ(keel_cf_flag_get(c, "chmod"), "640");
  ASSERT_STREQ(keel_cf_flag_get(c, "link"), "true");
  ASSERT_STREQ(c->args, "/x /y");
  ASSERT_TRUE(instr(cf, 1, 3)->json);
  ASSERT_STREQ(instr(cf, 1, 3)->argv[0], "a b");
  keel_containerfile_free(cf);
}

TEST(run_mounts_and_network)
{
  struct keel_error err = KEEL_ERROR_INIT;
  struct keel_containerfile *cf
      = parse("FROM x\nRUN --mount=type=cache,target=/var/cache,id=c1,sharing=locked "
              "--mount=type=bind,source=src,target=/src --network=none make\n",
              &err);
  ASSERT_TRUE(cf);
  const struct keel_cf_instr *r = instr(cf, 0, 1);
  ASSERT_EQ(r->n_flags, 3);
  ASSERT_STREQ(r->args, "make");
  struct keel_cf_mount m;
  ASSERT_OK(keel_cf_mount_parse(r->flags[0].value, &m, &err));
  ASSERT_EQ(m.type, KEEL_CF_MOUNT_CACHE);
  ASSERT_STREQ(m.target, "/var/cache");
  ASSERT_STREQ(m.id, "c1");
  ASSERT_EQ(m.sharing, KEEL_CF_SHARING_LOCKED);
  ASSERT_FALSE(m.readonly);
  keel_cf_mount_clear(&m);
  ASSERT_OK(keel_cf_mount_parse(r->flags[1].value, &m, &err));
  ASSERT_EQ(m.type, KEEL_CF_MOUNT_BIND);
  ASSERT_STREQ(m.source, "src");
  ASSERT_TRUE(m.readonly);
  keel_cf_mount_clear(&m);
  ASSERT_OK(keel_cf_mount_parse("target=/t,rw", &m, &err));
  ASSERT_EQ(m.type, KEEL_CF_MOUNT_BIND);
  ASSERT_FALSE(m.readonly);
  keel_cf_mount_clear(&m);
  keel_containerfile_free(cf);
}

TEST(heredocs)
{
  struct keel_error err = KEEL_ERROR_INIT;
  struct keel_containerfile *cf = parse("FROM x\nRUN <<EOF\necho one\necho two\nEOF\n"
                                        "COPY <<-\"END\" /etc/a\n\tline $X\n\tEND\n"
                                        "RUN cat <<A >/a && cat <<'B' >/b\nalpha\nA\nbeta\nB\n"
                                        "ENV Z=1\n",
                                        &err);
  ASSERT_TRUE(cf);
  const struct keel_cf_instr *r = instr(cf, 0, 1);
  ASSERT_EQ(r->n_heredocs, 1);
  ASSERT_STREQ(r->heredocs[0].delim, "EOF");
  ASSERT_STREQ(r->heredocs[0].body, "echo one\necho two\n");
  ASSERT_TRUE(r->heredocs[0].expand);
  const struct keel_cf_instr *c = instr(cf, 0, 2);
  ASSERT_EQ(c->n_heredocs, 1);
  ASSERT_STREQ(c->heredocs[0].body, "line $X\n");
  ASSERT_FALSE(c->heredocs[0].expand);
  ASSERT_TRUE(c->heredocs[0].strip_tabs);
  r = instr(cf, 0, 3);
  ASSERT_EQ(r->n_heredocs, 2);
  ASSERT_STREQ(r->heredocs[0].body, "alpha\n");
  ASSERT_STREQ(r->heredocs[1].body, "beta\n");
  ASSERT_FALSE(r->heredocs[1].expand);
  ASSERT_EQ(instr(cf, 0, 4)->cmd, KEEL_CF_ENV);
  ASSERT_EQ(instr(cf, 0, 4)->line, 14);
  keel_containerfile_free(cf);
}

TEST(healthcheck_onbuild_misc)
{
  struct keel_error err = KEEL_ERROR_INIT;
  struct keel_containerfile *cf
      = parse("FROM x\nHEALTHCHECK --interval=5m --timeout=3s --retries=3 CMD curl -f http://l/\n"
              "HEALTHCHECK NONE\nONBUILD RUN echo later\nSTOPSIGNAL SIGTERM\n"
              "MAINTAINER someone <a@b>\nEXPOSE 80/tcp 53/udp\nUSER 1000:1000\nWORKDIR /srv\n",
              &err);
  ASSERT_TRUE(cf);
  const struct keel_cf_instr *h = instr(cf, 0, 1);
  ASSERT_FALSE(h->hc_none);
  ASSERT_STREQ(h->args, "curl -f http://l/");
  ASSERT_STREQ(keel_cf_flag_get(h, "interval"), "5m");
  ASSERT_TRUE(instr(cf, 0, 2)->hc_none);
  const struct keel_cf_instr *o = instr(cf, 0, 3);
  ASSERT_TRUE(o->onbuild);
  ASSERT_EQ(o->onbuild->cmd, KEEL_CF_RUN);
  ASSERT_STREQ(o->args, "RUN echo later");
  ASSERT_STREQ(instr(cf, 0, 5)->args, "someone <a@b>");
  keel_containerfile_free(cf);
}

/* Table-driven invalid input: each must fail with exactly this message. */
static const struct
{
  const char *text;
  const char *msg;
} invalid[] = {
  { "", "Containerfile:1: no FROM instruction" },
  { "# just a comment\n", "Containerfile:1: no FROM instruction" },
  { "RUN echo\n", "Containerfile:1: RUN before the first FROM (only ARG may come before FROM)" },
  { "FROM x\nFROBNICATE y\n", "Containerfile:2: unknown instruction: FROBNICATE" },
  { "FROM x\nCMD [\"a\", b]\n", "Containerfile:2: CMD: malformed JSON arguments [\"a\", b]: " },
  { "FROM x\nENTRYPOINT [\"a\", 1]\n", "element 1 is not a string" },
  { "FROM x\nSHELL /bin/sh -c\n", "Containerfile:2: SHELL requires the arguments in JSON form" },
  { "FROM x\nRUN --bogus=1 true\n", "Containerfile:2: unknown flag for RUN: --bogus" },
  { "FROM x\nCOPY --chown a b\n", "Containerfile:2: missing a value for flag --chown" },
  { "FROM x\nCOPY --from=a --from=b x y\n", "Containerfile:2: flag --from given twice" },
  { "FROM x\nADD --from=a x y\n", "Containerfile:2: unknown flag for ADD: --from" },
  { "FROM x\nCOPY onlyone\n", "Containerfile:2: COPY requires at least two arguments" },
  { "FROM x\nRUN\n", "Containerfile:2: RUN requires at least one argument" },
  { "FROM x y\n", "Containerfile:1: FROM requires either one argument or IMAGE AS NAME" },
  { "FROM x AS 1bad\n", "Containerfile:1: invalid stage name '1bad'" },
  { "FROM x AS a\nFROM y AS A\n", "Containerfile:2: duplicate stage name 'a' (first at line 1)" },
  { "FROM x\nENV A=1 B\n", "Containerfile:2: ENV: 'B' is not of the form NAME=VALUE" },
  { "FROM x\nENV A\n", "Containerfile:2: ENV A: missing a value" },
  { "FROM x\nLABEL =v\n", "Containerfile:2: LABEL: empty name in '=v'" },
  { "FROM x\nARG a-b\n", "Containerfile:2: ARG: invalid name 'a-b'" },
  { "FROM x\nRUN <<EOF\necho\n", "Containerfile:2: heredoc 'EOF' is not terminated" },
  { "FROM x\nRUN --mount=type=secret,target=/s true\n", "type=secret is not supported" },
  { "FROM x\nRUN --mount=type=cache true\n", "Containerfile:2: RUN --mount=type=cache: missing " },
  { "FROM x\nRUN --mount=type=cache,target=/a,sharing=bad true\n", "sharing=bad: expected" },
  { "FROM x\nRUN --network=bridge true\n", "RUN --network=bridge: expected default, none" },
  { "FROM x\nHEALTHCHECK --interval=soon CMD true\n", "HEALTHCHECK --interval=soon: not a" },
  { "FROM x\nHEALTHCHECK --retries=x CMD true\n", "HEALTHCHECK --retries=x: not a count" },
  { "FROM x\nHEALTHCHECK --retries=1 NONE\n", "HEALTHCHECK NONE takes no options" },
  { "FROM x\nHEALTHCHECK PING x\n", "HEALTHCHECK: unknown type 'PING' (use CMD or NONE)" },
  { "FROM x\nONBUILD ONBUILD RUN x\n", "Containerfile:2: ONBUILD ONBUILD is not allowed" },
  { "FROM x\nONBUILD FROM y\n", "ONBUILD FROM is not allowed" },
  { "FROM x\nONBUILD NOPE y\n", "Containerfile:2: ONBUILD: unknown instruction: NOPE" },
  { "# escape=x\nFROM x\n", "Containerfile:1: invalid escape directive: use \\ or `" },
  { "# escape=`\n# escape=\\\nFROM x\n",
    "Containerfile:2: a parser directive may appear only once" },
  { "FROM x\nWORKDIR\n", "Containerfile:2: WORKDIR requires an argument" },
  { "FROM x\nCOPY --link=maybe a b\n", "flag --link expects true or false" },
  { "FROM x\nRUN --security=insecure true\n", "only sandbox is supported" },
};

TEST(invalid_input)
{
  for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
    {
      struct keel_error err = KEEL_ERROR_INIT;
      struct keel_containerfile *cf = parse(invalid[i].text, &err);
      if (cf)
        {
          keel_containerfile_free(cf);
          FAIL_AT("case %zu parsed: %s", i, invalid[i].text);
        }
      ASSERT_TRUE(err.code < 0);
      ASSERT_CONTAINS(err.msg, invalid[i].msg);
      ASSERT_TRUE(strchr(err.msg, '\n') == NULL);
    }
}

TEST(nul_bytes_refused)
{
  struct keel_error err = KEEL_ERROR_INIT;
  struct keel_containerfile *cf = NULL;
  ASSERT_TRUE(keel_containerfile_parse("F", "FROM x\0\n", 8, &cf, &err) < 0);
  ASSERT_CONTAINS(err.msg, "F:1: not a text file");
}

TEST_MAIN
