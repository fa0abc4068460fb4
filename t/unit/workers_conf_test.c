
/*
 * ngx_race workers: unit tests of the table-driven settings, TAP output.
 *
 * A table of the test's own with every kind of setting (strings with
 * and without a check, integers at the edges of int64, enums) over the
 * defaults, --set arguments and files (comments, blank lines, blanks,
 * quotes, CRLF, NUL bytes, errors with their line), in the tracker's
 * order: defaults, then the file, then --set, the last one winning.
 * Every refusal is checked for its exact message: the setting named,
 * the value quoted.  Then the rows every daemon shares (race_daemon.h),
 * in a table of a daemon's shape: their defaults, bounds and checks.
 */


#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "race_conf.h"
#include "race_daemon.h"
#include "tap.h"


typedef struct {
    char       *name;
    char       *topic;
    char       *note;
    int64_t     port;
    int64_t     delta;
    int64_t     big;
    int         level;
    int         mode;
} t_conf_t;


/* a daemon's settings: its own around the shared ones */
typedef struct {
    int64_t                 own;
    race_daemon_conf_t      daemon;
    int64_t                 last;
} t_daemon_conf_t;


static void test_defaults(void);
static void test_bad_defaults(void);
static void test_str(void);
static void test_int(void);
static void test_enum(void);
static void test_unknown(void);
static void test_set_arg(void);
static void test_file(void);
static void test_file_errors(void);
static void test_override(void);
static void test_err_size(void);
static void test_daemon_rows(void);
static void test_daemon_bounds(void);
static void daemon_bad(t_daemon_conf_t *c, const char *arg,
    const char *want);

static int t_check_topic(const char *value, char *reason, size_t size);
static void fresh(void);
static void set_ok(const char *name, const char *value, const char *what);
static void set_bad(const char *name, const char *value, const char *want);
static void arg_bad(const char *arg, const char *want);
static const char *file_of(const char *text, size_t len);
static int load(const char *text);
static void load_bad(const char *text, int line, const char *want);


static const char *const  t_levels[] = {
    "debug", "info", "warn", "error", NULL
};

/* more than the 256 bytes the list of values is cut to */
static const char *const  t_modes[] = {
    "m0_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "m1_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "m2_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "m3_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "m4_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "m5_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    NULL
};


#define t_field(name)  offsetof(t_conf_t, name)

static const race_conf_setting_t  table[] = {

    { "name", RACE_CONF_STR, t_field(name), "tracker", 1, 16, NULL, NULL },

    { "topic", RACE_CONF_STR, t_field(topic), "race.fixes", 1, 32, NULL,
      t_check_topic },

    { "note", RACE_CONF_STR, t_field(note), "", 0, 8, NULL, NULL },

    { "port", RACE_CONF_INT, t_field(port), "6379", 1, 65535, NULL, NULL },

    { "delta", RACE_CONF_INT, t_field(delta), "0", -100, 100, NULL, NULL },

    { "big", RACE_CONF_INT, t_field(big), "-9223372036854775808",
      INT64_MIN, INT64_MAX, NULL, NULL },

    { "level", RACE_CONF_ENUM, t_field(level), "info", 0, 0, t_levels,
      NULL },

    { "mode", RACE_CONF_ENUM, t_field(mode), "m1_aaaaaaaaaaaaaaaaaaaaaaaaa"
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0, 0, t_modes, NULL },

    { NULL, 0, 0, NULL, 0, 0, NULL, NULL }
};


#define t_daemon_field(name)  offsetof(t_daemon_conf_t, name)

static const race_conf_setting_t  daemon_table[] = {
    { "own", RACE_CONF_INT, t_daemon_field(own), "7", 0, 9, NULL, NULL },
    RACE_DAEMON_KAFKA_SETTINGS(t_daemon_field(daemon), "race.test",
                               "race-test", "3000"),
    RACE_DAEMON_STORE_SETTINGS(t_daemon_field(daemon)),
    { "last", RACE_CONF_INT, t_daemon_field(last), "8", 0, 9, NULL, NULL },
    RACE_DAEMON_RUN_SETTINGS(t_daemon_field(daemon)),
    { NULL, 0, 0, NULL, 0, 0, NULL, NULL }
};


static t_conf_t  conf;
static char      err[RACE_CONF_ERR_MAX];
static char      dir[] = "/tmp/race_conf_test.XXXXXX";
static char      path[sizeof(dir) + 32];
static int       nfiles;


int
main(void)
{
    int  i;

    if (mkdtemp(dir) == NULL) {
        printf("Bail out! mkdtemp: %s\n", strerror(errno));
        return 1;
    }

    test_defaults();
    test_bad_defaults();
    test_str();
    test_int();
    test_enum();
    test_unknown();
    test_set_arg();
    test_file();
    test_file_errors();
    test_override();
    test_err_size();
    test_daemon_rows();
    test_daemon_bounds();

    race_conf_free(table, &conf);

    for (i = 0; i < nfiles; i++) {
        snprintf(path, sizeof(path), "%s/%d.conf", dir, i);
        unlink(path);
    }

    snprintf(path, sizeof(path), "%s/sub", dir);
    rmdir(path);
    rmdir(dir);

    return tap_done();
}


static void
test_defaults(void)
{
    memset(&conf, 0, sizeof(conf));

    ok(race_conf_defaults(table, &conf, err, sizeof(err)) == 0,
       "defaults are valid");
    is_str(conf.name, "tracker", "default string");
    ok(conf.name != table[0].dflt, "a string default is a copy");
    is_str(conf.topic, "race.fixes", "default string with a check");
    is_str(conf.note, "", "default empty string");
    is_int(conf.port, 6379, "default integer");
    is_int(conf.delta, 0, "default 0");
    is_int(conf.big, INT64_MIN, "default INT64_MIN");
    is_int(conf.level, 1, "default enum: its index");
    is_int(conf.mode, 1, "default enum, long values");

    /* again, over the values: the strings are replaced, not leaked */

    conf.port = 1;
    ok(race_conf_defaults(table, &conf, err, sizeof(err)) == 0
       && conf.port == 6379 && strcmp(conf.name, "tracker") == 0,
       "defaults again over set values");

    race_conf_free(table, &conf);
    ok(conf.name == NULL && conf.topic == NULL && conf.note == NULL,
       "free: strings NULL");
    race_conf_free(table, &conf);
    ok(1, "free twice is harmless");
}


static void
test_bad_defaults(void)
{
    t_conf_t  c;

    static const race_conf_setting_t  bad_int[] = {
        { "name", RACE_CONF_STR, t_field(name), "ok", 1, 16, NULL, NULL },
        { "port", RACE_CONF_INT, t_field(port), "63 79", 1, 65535, NULL,
          NULL },
        { NULL, 0, 0, NULL, 0, 0, NULL, NULL }
    };

    static const race_conf_setting_t  bad_enum[] = {
        { "level", RACE_CONF_ENUM, t_field(level), "loud", 0, 0, t_levels,
          NULL },
        { NULL, 0, 0, NULL, 0, 0, NULL, NULL }
    };

    static const race_conf_setting_t  bad_str[] = {
        { "topic", RACE_CONF_STR, t_field(topic), "Race", 1, 32, NULL,
          t_check_topic },
        { NULL, 0, 0, NULL, 0, 0, NULL, NULL }
    };

    memset(&c, 0, sizeof(c));

    ok(race_conf_defaults(bad_int, &c, err, sizeof(err)) == -1,
       "a bad integer default is refused");
    is_str(err, "port: \"63 79\" is not a number (1..65535)",
           "bad integer default: the message");
    race_conf_free(bad_int, &c);

    ok(race_conf_defaults(bad_enum, &c, err, sizeof(err)) == -1,
       "a bad enum default is refused");
    is_str(err, "level: \"loud\" is not one of debug, info, warn, error",
           "bad enum default: the message");

    ok(race_conf_defaults(bad_str, &c, err, sizeof(err)) == -1,
       "a default failing its check is refused");
    is_str(err, "topic: \"Race\" may only hold [a-z.]",
           "bad string default: the message");
    ok(c.topic == NULL, "bad string default: nothing stored");
}


static void
test_str(void)
{
    fresh();

    set_ok("name", "x", "1 character, the minimum");
    is_str(conf.name, "x", "string set");
    set_ok("name", "0123456789abcdef", "16 characters, the maximum");
    is_str(conf.name, "0123456789abcdef", "16 characters kept");
    set_ok("name", "  spaces kept #", "blanks and # kept as given");
    is_str(conf.name, "  spaces kept #", "blanks and # kept");

    set_bad("name", "", "name: \"\" must be 1 to 16 characters long");
    set_bad("name", "0123456789abcdefg",
            "name: \"0123456789abcdefg\" must be 1 to 16 characters long");
    is_str(conf.name, "  spaces kept #", "a refused value leaves the old");

    set_ok("note", "", "empty string when 0 is the minimum");
    is_str(conf.note, "", "empty string set");

    set_ok("topic", "race.fixes.live", "a value passing its check");
    is_str(conf.topic, "race.fixes.live", "checked string set");
    set_bad("topic", "race fixes", "topic: \"race fixes\" may only hold "
            "[a-z.]");
    set_bad("topic", "", "topic: \"\" must be 1 to 32 characters long");
    is_str(conf.topic, "race.fixes.live", "a failed check leaves the old");

    /* the value may be the string it replaces */

    set_ok("name", conf.name, "set to its own value");
    is_str(conf.name, "  spaces kept #", "own value kept");
}


static void
test_int(void)
{
    fresh();

    set_ok("port", "1", "integer at its minimum");
    is_int(conf.port, 1, "minimum set");
    set_ok("port", "65535", "integer at its maximum");
    is_int(conf.port, 65535, "maximum set");
    set_ok("port", "+80", "a plus sign");
    is_int(conf.port, 80, "+80 is 80");
    set_ok("port", "080", "a leading zero is decimal");
    is_int(conf.port, 80, "080 is 80");
    set_ok("delta", "-100", "negative minimum");
    is_int(conf.delta, -100, "-100 set");
    set_ok("big", "9223372036854775807", "INT64_MAX");
    is_int(conf.big, INT64_MAX, "INT64_MAX set");
    set_ok("big", "-9223372036854775808", "INT64_MIN");
    is_int(conf.big, INT64_MIN, "INT64_MIN set");

    set_bad("port", "0", "port: \"0\" is out of range (1..65535)");
    set_bad("port", "65536", "port: \"65536\" is out of range (1..65535)");
    set_bad("port", "-1", "port: \"-1\" is out of range (1..65535)");
    set_bad("delta", "-101", "delta: \"-101\" is out of range (-100..100)");
    set_bad("delta", "101", "delta: \"101\" is out of range (-100..100)");
    set_bad("port", "99999999999999999999",
            "port: \"99999999999999999999\" is out of range (1..65535)");
    set_bad("big", "9223372036854775808",
            "big: \"9223372036854775808\" is out of range "
            "(-9223372036854775808..9223372036854775807)");
    set_bad("big", "-9223372036854775809",
            "big: \"-9223372036854775809\" is out of range "
            "(-9223372036854775808..9223372036854775807)");

    set_bad("port", "", "port: \"\" is not a number (1..65535)");
    set_bad("port", "abc", "port: \"abc\" is not a number (1..65535)");
    set_bad("port", "80 ", "port: \"80 \" is not a number (1..65535)");
    set_bad("port", " 80", "port: \" 80\" is not a number (1..65535)");
    set_bad("port", "\t80", "port: \"\t80\" is not a number (1..65535)");
    set_bad("port", "0x50", "port: \"0x50\" is not a number (1..65535)");
    set_bad("port", "8e1", "port: \"8e1\" is not a number (1..65535)");
    set_bad("port", "80.0", "port: \"80.0\" is not a number (1..65535)");
    set_bad("port", "-", "port: \"-\" is not a number (1..65535)");
    set_bad("port", "80ms", "port: \"80ms\" is not a number (1..65535)");
    set_bad("port", "\"80\"", "port: \"\"80\"\" is not a number (1..65535)");

    is_int(conf.port, 80, "refused values leave the old");
}


static void
test_enum(void)
{
    fresh();

    set_ok("level", "debug", "enum: first value");
    is_int(conf.level, 0, "debug is 0");
    set_ok("level", "error", "enum: last value");
    is_int(conf.level, 3, "error is 3");

    set_bad("level", "INFO",
            "level: \"INFO\" is not one of debug, info, warn, error");
    set_bad("level", "info ",
            "level: \"info \" is not one of debug, info, warn, error");
    set_bad("level", "", "level: \"\" is not one of debug, info, warn, "
            "error");
    set_bad("level", "1", "level: \"1\" is not one of debug, info, warn, "
            "error");
    is_int(conf.level, 3, "refused values leave the old");

    set_ok("mode", t_modes[5], "enum with long values: the last");
    is_int(conf.mode, 5, "mode 5");

    /* the list of values is cut, the message is still whole */

    ok(race_conf_set(table, &conf, "mode", "m9", err, sizeof(err)) == -1
       && strncmp(err, "mode: \"m9\" is not one of m0_a", 29) == 0
       && strlen(err) > 256 && strlen(err) < sizeof(err),
       "enum with long values: the list cut to fit (%zu bytes)",
       strlen(err));
}


static void
test_unknown(void)
{
    fresh();

    set_bad("nope", "1", "unknown setting \"nope\"");
    set_bad("Port", "80", "unknown setting \"Port\"");
    set_bad("port ", "80", "unknown setting \"port \"");
    set_bad("", "80", "unknown setting \"\"");
}


static void
test_set_arg(void)
{
    fresh();

    ok(race_conf_set_arg(table, &conf, "port=80", err, sizeof(err)) == 0
       && conf.port == 80, "--set port=80");
    ok(race_conf_set_arg(table, &conf, "name=a=b", err, sizeof(err)) == 0
       && strcmp(conf.name, "a=b") == 0, "--set name=a=b: the first = splits");
    ok(race_conf_set_arg(table, &conf, "name= x ", err, sizeof(err)) == 0
       && strcmp(conf.name, " x ") == 0, "--set keeps blanks");
    ok(race_conf_set_arg(table, &conf, "note=", err, sizeof(err)) == 0
       && strcmp(conf.note, "") == 0, "--set note= sets it empty");

    arg_bad("name=", "name: \"\" must be 1 to 16 characters long");
    arg_bad("port=", "port: \"\" is not a number (1..65535)");
    arg_bad("port=x", "port: \"x\" is not a number (1..65535)");
    arg_bad("port=0", "port: \"0\" is out of range (1..65535)");
    arg_bad("level=loud",
            "level: \"loud\" is not one of debug, info, warn, error");
    arg_bad("nope=1", "unknown setting \"nope\"");
    arg_bad("port =80", "unknown setting \"port \"");
    arg_bad("=80", "\"=80\": expected name=value");
    arg_bad("port", "\"port\": expected name=value");
    arg_bad("", "\"\": expected name=value");
    arg_bad("port:80", "\"port:80\": expected name=value");

    is_int(conf.port, 80, "refused --set leaves the old");
}


static void
test_file(void)
{
    static const char  text[] =
        "# race-tracker test settings\n"
        "\n"
        "   # an indented comment\n"
        "\t\n"
        "port 80\n"
        "  \tdelta\t-5  \t\n"
        "name \"  two  words \"  \n"
        "note \"a # b\"\n"
        "level warn\r\n"
        "mode    " "m3_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaa\n"
        "big 1\n"
        "big 2\n"
        "#big 3\n"
        "  big     -7";

    fresh();

    ok(load(text) == 0, "a file with comments, blanks and quotes loads");
    if (err[0] != '\0') {
        diag("  %s", err);
    }

    is_int(conf.port, 80, "port from the file");
    is_int(conf.delta, -5, "tabs and blanks around a value");
    is_str(conf.name, "  two  words ", "quotes keep blanks");
    is_str(conf.note, "a # b", "quotes keep a #");
    is_int(conf.level, 2, "CRLF line end");
    is_int(conf.mode, 3, "enum from the file");
    is_int(conf.big, -7, "the last line wins; no newline at the end");

    /* a value runs to the end of the line: an unquoted # is in it */

    fresh();
    ok(load("topic race.fixes # comment\n") == -1, "inline # refused");
    is_str(strchr(err, ':') + 1,
           "1: topic: \"race.fixes # comment\" may only hold [a-z.]",
           "inline #: the whole rest of the line is the value");

    fresh();
    ok(load("note \"\"\nname \"x\"\n") == 0
       && strcmp(conf.note, "") == 0 && strcmp(conf.name, "x") == 0,
       "empty and one-character quoted values");

    fresh();
    ok(load("name \"\"\"\n") == 0 && strcmp(conf.name, "\"") == 0,
       "quotes are not escaped: \"\"\" is a quote");

    fresh();
    ok(load("name a\"b\"\n") == 0 && strcmp(conf.name, "a\"b\"") == 0,
       "quotes inside a value are kept");

    fresh();
    ok(load("") == 0 && conf.port == 6379, "an empty file: defaults");
    ok(load("\n\n# only comments\n   \n") == 0 && conf.port == 6379,
       "only comments and blank lines: defaults");
}


static void
test_file_errors(void)
{
    char         *line, want[RACE_CONF_ERR_MAX + 64];
    size_t        len;
    const char   *p;

    static const char  nul[] = "port 80\nport 8\0" "1\ndelta 9\n";

    fresh();

    load_bad("port\n", 1, "port: no value");
    load_bad("port   \t\n", 1, "port: no value");
    load_bad("# ok\nport 80\nname \"abc\n", 3,
             "name: \"abc: unbalanced quotes");
    load_bad("name \"\n", 1, "name: \": unbalanced quotes");
    load_bad("name abc\"\n" "name \"abc\" x\n", 2,
             "name: \"abc\" x: unbalanced quotes");
    load_bad("port 80\nport x\n", 2,
             "port: \"x\" is not a number (1..65535)");
    load_bad("\n\n\nport 0\n", 4, "port: \"0\" is out of range (1..65535)");
    load_bad("level loud\n", 1,
             "level: \"loud\" is not one of debug, info, warn, error");
    load_bad("port 80\nprot 81\n", 2, "unknown setting \"prot\"");
    load_bad("port=80\n", 1, "port=80: no value");
    load_bad("name \"  \"  \nname   \n", 2, "name: no value");

    /* the first error stops the file: lines after it are not applied */

    fresh();
    ok(load("port 81\nport x\ndelta 9\n") == -1 && conf.port == 81
       && conf.delta == 0, "lines before an error applied, after it not");

    /* a NUL byte: neither value is taken for another */

    fresh();
    p = file_of(nul, sizeof(nul) - 1);
    ok(race_conf_load(table, &conf, p, err, sizeof(err)) == -1,
       "a NUL byte is refused");
    snprintf(want, sizeof(want), "%s:2: a NUL byte", p);
    is_str(err, want, "a NUL byte: the message");
    is_int(conf.port, 80, "a NUL byte: stopped on its line");

    /* files that are not there or not files */

    snprintf(path, sizeof(path), "%s/missing.conf", dir);
    ok(race_conf_load(table, &conf, path, err, sizeof(err)) == -1,
       "a missing file is refused");
    snprintf(want, sizeof(want), "%s: No such file or directory", path);
    is_str(err, want, "missing file: the message");

    snprintf(path, sizeof(path), "%s/sub", dir);
    mkdir(path, 0700);
    ok(race_conf_load(table, &conf, path, err, sizeof(err)) == -1,
       "a directory is refused");
    snprintf(want, sizeof(want), "%s: Is a directory", path);
    is_str(err, want, "directory: the message");

    /* a line longer than any buffer */

    len = 100000;
    line = malloc(len + 16);
    if (line == NULL) {
        ok(0, "malloc");
        return;
    }

    memcpy(line, "name ", 5);
    memset(line + 5, 'n', len);
    memcpy(line + 5 + len, "\nport 1\n", 9);

    fresh();
    p = file_of(line, strlen(line));
    ok(race_conf_load(table, &conf, p, err, sizeof(err)) == -1
       && strlen(err) == sizeof(err) - 1
       && strncmp(err + strlen(p), ":1: name: \"nnn", 14) == 0,
       "a 100000-byte value: refused, the message cut to the buffer");

    line[5 + 16] = '\n';
    line[5 + 17] = '\0';
    ok(load(line) == 0 && strlen(conf.name) == 16,
       "a long file line of 16 characters loads");

    free(line);
}


/* the tracker's order: defaults, the file, then --set, last one wins */

static void
test_override(void)
{
    fresh();

    ok(load("port 80\nlevel debug\nname from_file\n") == 0,
       "override: the file");
    ok(race_conf_set_arg(table, &conf, "port=81", err, sizeof(err)) == 0
       && race_conf_set_arg(table, &conf, "name=from_set", err, sizeof(err))
          == 0
       && race_conf_set_arg(table, &conf, "port=82", err, sizeof(err))
          == 0, "override: --set");

    is_int(conf.port, 82, "--set wins over the file, the last --set wins");
    is_str(conf.name, "from_set", "--set string wins over the file");
    is_int(conf.level, 0, "what --set does not name stays from the file");
    is_int(conf.delta, 0, "what neither names stays the default");

    ok(race_conf_set_arg(table, &conf, "port=99999", err, sizeof(err))
       == -1 && conf.port == 82, "a bad --set after the file: refused");
}


static void
test_err_size(void)
{
    char  small[12];

    fresh();

    memset(small, 'x', sizeof(small));
    ok(race_conf_set(table, &conf, "port", "x", small, 10) == -1
       && strcmp(small, "port: \"x\"") == 0 && small[10] == 'x',
       "a message cut to a small buffer");

    memset(small, 'x', sizeof(small));
    ok(race_conf_set(table, &conf, "port", "80", small, 10) == 0
       && small[0] == 'x', "no message on success");
}


/* what Kafka allows, less: enough for a check */

static int
t_check_topic(const char *value, char *reason, size_t size)
{
    if (strspn(value, "abcdefghijklmnopqrstuvwxyz.") != strlen(value)) {
        snprintf(reason, size, "may only hold [a-z.]");
        return -1;
    }

    return 0;
}


/* the defaults over a clean struct */

static void
fresh(void)
{
    race_conf_free(table, &conf);
    memset(&conf, 0, sizeof(conf));

    if (race_conf_defaults(table, &conf, err, sizeof(err)) != 0) {
        diag("defaults: %s", err);
    }
}


static void
set_ok(const char *name, const char *value, const char *what)
{
    if (!ok(race_conf_set(table, &conf, name, value, err, sizeof(err)) == 0,
            "set %s: %s", name, what))
    {
        diag("  %s", err);
    }
}


static void
set_bad(const char *name, const char *value, const char *want)
{
    int  rc;

    err[0] = '\0';
    rc = race_conf_set(table, &conf, name, value, err, sizeof(err));

    if (!ok(rc == -1 && strcmp(err, want) == 0, "refused: %s", want)) {
        diag("  rc %d, '%s'", rc, err);
    }
}


static void
arg_bad(const char *arg, const char *want)
{
    int  rc;

    err[0] = '\0';
    rc = race_conf_set_arg(table, &conf, arg, err, sizeof(err));

    if (!ok(rc == -1 && strcmp(err, want) == 0, "--set refused: %s", want)) {
        diag("  rc %d, '%s'", rc, err);
    }
}


/* a new file in the test's directory holding text[0..len) */

static const char *
file_of(const char *text, size_t len)
{
    FILE  *f;

    snprintf(path, sizeof(path), "%s/%d.conf", dir, nfiles++);

    f = fopen(path, "w");
    if (f == NULL || fwrite(text, 1, len, f) != len || fclose(f) != 0) {
        diag("writing %s: %s", path, strerror(errno));
    }

    return path;
}


static int
load(const char *text)
{
    err[0] = '\0';

    return race_conf_load(table, &conf, file_of(text, strlen(text)), err,
                          sizeof(err));
}


/* refused, with "<path>:<line>: " and want */

static void
load_bad(const char *text, int line, const char *want)
{
    int   rc;
    char  full[RACE_CONF_ERR_MAX + 64];

    rc = load(text);
    snprintf(full, sizeof(full), "%s:%d: %s", path, line, want);

    if (!ok(rc == -1 && strcmp(err, full) == 0, "file refused, line %d: %s",
            line, want))
    {
        diag("  rc %d, '%s'", rc, err);
    }
}


/* the shared rows: where they go, in order, and their defaults */

static void
test_daemon_rows(void)
{
    size_t                 i;
    t_daemon_conf_t        c;
    race_daemon_conf_t    *d;

    static const char *const  names[] = {
        "own", "kafka_brokers", "kafka_topic", "kafka_group",
        "kafka_instance_id", "kafka_commit_ms", "kafka_session_timeout_ms",
        "mongo_uri", "mongo_db", "mongo_timeout_ms", "redis_host",
        "redis_port", "redis_timeout_ms", "last", "retry_max_ms",
        "stop_timeout_ms", "log_level", "metrics_listen",
        "liveness_timeout_ms", NULL
    };

    for (i = 0; names[i] != NULL && daemon_table[i].name != NULL; i++) {
        if (strcmp(names[i], daemon_table[i].name) != 0) {
            break;
        }
    }

    ok(names[i] == NULL && daemon_table[i].name == NULL,
       "shared rows: the daemon's table holds them in order");

    memset(&c, 0, sizeof(c));
    d = &c.daemon;

    ok(race_conf_defaults(daemon_table, &c, err, sizeof(err)) == 0,
       "shared rows: the defaults are valid");

    is_int(c.own, 7, "shared rows: the daemon's own row before them");
    is_int(c.last, 8, "shared rows: the daemon's own row between them");
    is_str(d->kafka_brokers, "127.0.0.1:9092", "default kafka_brokers");
    is_str(d->kafka_topic, "race.test", "kafka_topic: the daemon's");
    is_str(d->kafka_group, "race-test", "kafka_group: the daemon's");
    is_str(d->kafka_instance_id, "auto", "default kafka_instance_id");
    is_int(d->kafka_commit_ms, 3000, "kafka_commit_ms: the daemon's");
    is_int(d->kafka_session_timeout_ms, 10000,
           "default kafka_session_timeout_ms");
    is_str(d->mongo_uri, "mongodb://127.0.0.1:27017/", "default mongo_uri");
    is_str(d->mongo_db, "ngx_race", "default mongo_db");
    is_int(d->mongo_timeout_ms, 5000, "default mongo_timeout_ms");
    is_str(d->redis_host, "127.0.0.1", "default redis_host");
    is_int(d->redis_port, 6379, "default redis_port");
    is_int(d->redis_timeout_ms, 2000, "default redis_timeout_ms");
    is_int(d->retry_max_ms, 2000, "default retry_max_ms");
    is_int(d->stop_timeout_ms, 10000, "default stop_timeout_ms");
    is_int(d->log_level, 1, "default log_level: info");
    is_str(d->metrics_listen, "", "default metrics_listen: off");
    is_int(d->liveness_timeout_ms, 30000, "default liveness_timeout_ms");

    ok(race_conf_set_arg(daemon_table, &c, "redis_port=6380", err,
                         sizeof(err)) == 0
       && race_conf_set_arg(daemon_table, &c, "kafka_group=other", err,
                            sizeof(err)) == 0
       && race_conf_set_arg(daemon_table, &c, "log_level=debug", err,
                            sizeof(err)) == 0
       && d->redis_port == 6380 && strcmp(d->kafka_group, "other") == 0
       && d->log_level == 0 && c.own == 7 && c.last == 8,
       "shared rows: --set reaches the shared struct, nothing else");

    race_conf_free(daemon_table, &c);
    ok(d->kafka_brokers == NULL && d->mongo_uri == NULL
       && d->redis_host == NULL, "shared rows: free");
}


/* the shared rows' bounds and checks, with their messages */

static void
test_daemon_bounds(void)
{
    t_daemon_conf_t  c;

    memset(&c, 0, sizeof(c));

    if (race_conf_defaults(daemon_table, &c, err, sizeof(err)) != 0) {
        diag("defaults: %s", err);
    }

    daemon_bad(&c, "kafka_brokers=",
               "kafka_brokers: \"\" must be 1 to 1024 characters long");
    daemon_bad(&c, "kafka_topic=race/fixes",
               "kafka_topic: \"race/fixes\" is not a topic name "
               "([A-Za-z0-9._-])");
    daemon_bad(&c, "kafka_instance_id=a b",
               "kafka_instance_id: \"a b\" is not a group instance id "
               "([A-Za-z0-9._-], \"auto\" or \"none\")");
    daemon_bad(&c, "kafka_commit_ms=99",
               "kafka_commit_ms: \"99\" is out of range (100..60000)");
    daemon_bad(&c, "kafka_session_timeout_ms=5999",
               "kafka_session_timeout_ms: \"5999\" is out of range "
               "(6000..300000)");
    daemon_bad(&c, "mongo_db=a.b",
               "mongo_db: \"a.b\" is not a database name");
    daemon_bad(&c, "mongo_timeout_ms=600001",
               "mongo_timeout_ms: \"600001\" is out of range "
               "(100..600000)");
    daemon_bad(&c, "redis_port=0",
               "redis_port: \"0\" is out of range (1..65535)");
    daemon_bad(&c, "redis_timeout_ms=99",
               "redis_timeout_ms: \"99\" is out of range (100..60000)");
    daemon_bad(&c, "retry_max_ms=60001",
               "retry_max_ms: \"60001\" is out of range (100..60000)");
    daemon_bad(&c, "stop_timeout_ms=-1",
               "stop_timeout_ms: \"-1\" is out of range (0..600000)");
    daemon_bad(&c, "log_level=loud",
               "log_level: \"loud\" is not one of debug, info, warn, "
               "error");
    daemon_bad(&c, "metrics_listen=9464",
               "metrics_listen: \"9464\" is not host:port");
    daemon_bad(&c, "metrics_listen=[::1:9464",
               "metrics_listen: \"[::1:9464\" is not [address]:port");
    daemon_bad(&c, "metrics_listen=0.0.0.0:http",
               "metrics_listen: \"0.0.0.0:http\" has no port 0..65535");
    daemon_bad(&c, "liveness_timeout_ms=99",
               "liveness_timeout_ms: \"99\" is out of range "
               "(100..3600000)");

    err[0] = '\0';
    ok(race_conf_set_arg(daemon_table, &c, "mongo_uri=http://x", err,
                         sizeof(err)) == -1
       && strncmp(err, "mongo_uri: \"http://x\" is not a MongoDB URI",
                  42) == 0
       && strcmp(c.daemon.mongo_uri, "mongodb://127.0.0.1:27017/") == 0,
       "refused: mongo_uri not a MongoDB URI, the default kept");

    ok(race_conf_set_arg(daemon_table, &c, "stop_timeout_ms=0", err,
                         sizeof(err)) == 0
       && race_conf_set_arg(daemon_table, &c, "kafka_instance_id=none",
                            err, sizeof(err)) == 0
       && race_conf_set_arg(daemon_table, &c,
                            "mongo_uri=mongodb://db:27018/?appname=x",
                            err, sizeof(err)) == 0
       && race_conf_set_arg(daemon_table, &c, "metrics_listen=[::]:0",
                            err, sizeof(err)) == 0
       && race_conf_set_arg(daemon_table, &c, "metrics_listen=", err,
                            sizeof(err)) == 0
       && c.daemon.stop_timeout_ms == 0
       && c.daemon.metrics_listen[0] == '\0'
       && strcmp(c.daemon.kafka_instance_id, "none") == 0,
       "shared rows: values at their edges are taken");

    race_conf_free(daemon_table, &c);
}


static void
daemon_bad(t_daemon_conf_t *c, const char *arg, const char *want)
{
    int  rc;

    err[0] = '\0';
    rc = race_conf_set_arg(daemon_table, c, arg, err, sizeof(err));

    if (!ok(rc == -1 && strcmp(err, want) == 0, "refused: %s", want)) {
        diag("  rc %d, '%s'", rc, err);
    }
}
