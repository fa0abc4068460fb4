
/*
 * ngx_race workers: libFuzzer target for the settings parser.
 *
 * Input: a settings file.  race_conf_load() reads only files, so the
 * input goes into a memfd, read back through /proc/self/fd (no disk).
 * Then each line of the input is given to race_conf_set_arg() as a
 * --set argument, as the tracker does after the file.  The table has
 * every kind of setting, int64's edges and a check.  After every step:
 *
 *   - a refusal says why, NUL-terminated within RACE_CONF_ERR_MAX; one
 *     from the file starts with "<path>:"; one of a --set naming a
 *     known setting starts with the name and the quoted value;
 *   - every setting holds a value its row allows: a string of a length
 *     within bounds that passes its check, an integer within bounds, an
 *     enum's index;
 *   - race_conf_free() leaves nothing allocated (LeakSanitizer).
 *
 * The same input goes then through a table of a daemon's shape: its own
 * rows around the ones every daemon shares (race_daemon.h), with their
 * checks of Kafka names and MongoDB URIs.
 */


#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "race_conf.h"
#include "race_daemon.h"


#define F_SETS     64

#define f_assert(c)  do { if (!(c)) { abort(); } } while (0)


typedef struct {
    char       *host;
    char       *topic;
    char       *note;
    int64_t     port;
    int64_t     delta;
    int64_t     big;
    int         level;
} f_conf_t;


typedef struct {
    int64_t                 own;
    race_daemon_conf_t      daemon;
} f_daemon_conf_t;


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void f_run(const race_conf_setting_t *tab, void *conf,
    const uint8_t *data, size_t size, char *err);
static int f_check_topic(const char *value, char *reason, size_t size);
static void check_conf(const race_conf_setting_t *tab, const void *c);
static void check_err(const char *err, int rc);
static void check_set_err(const race_conf_setting_t *tab, const char *arg,
    const char *err);


static const char *const  f_levels[] = {
    "debug", "info", "warn", "error", NULL
};

#define f_field(name)  offsetof(f_conf_t, name)

static const race_conf_setting_t  table[] = {
    { "host", RACE_CONF_STR, f_field(host), "127.0.0.1", 1, 255, NULL,
      NULL },
    { "topic", RACE_CONF_STR, f_field(topic), "race.fixes", 1, 249, NULL,
      f_check_topic },
    { "note", RACE_CONF_STR, f_field(note), "", 0, 8, NULL, NULL },
    { "port", RACE_CONF_INT, f_field(port), "6379", 1, 65535, NULL, NULL },
    { "delta", RACE_CONF_INT, f_field(delta), "0", -100, 100, NULL, NULL },
    { "big", RACE_CONF_INT, f_field(big), "0", INT64_MIN, INT64_MAX, NULL,
      NULL },
    { "level", RACE_CONF_ENUM, f_field(level), "info", 0, 0, f_levels,
      NULL },
    { NULL, 0, 0, NULL, 0, 0, NULL, NULL }
};

#define f_daemon_field(name)  offsetof(f_daemon_conf_t, name)

static const race_conf_setting_t  daemon_table[] = {
    { "own", RACE_CONF_INT, f_daemon_field(own), "1", 0, 9, NULL, NULL },
    RACE_DAEMON_KAFKA_SETTINGS(f_daemon_field(daemon), "race.fixes",
                               "race-tracker", "5000"),
    RACE_DAEMON_STORE_SETTINGS(f_daemon_field(daemon)),
    RACE_DAEMON_RUN_SETTINGS(f_daemon_field(daemon)),
    { NULL, 0, 0, NULL, 0, 0, NULL, NULL }
};

static int   fd = -1;
static char  path[64];


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char             *err;
    f_conf_t          conf;
    f_daemon_conf_t   dconf;

    if (fd == -1) {
        fd = memfd_create("race_conf_fuzz", 0);
        f_assert(fd != -1);
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    }

    f_assert(ftruncate(fd, 0) == 0);
    f_assert(size == 0
             || pwrite(fd, data, size, 0) == (ssize_t) size);

    err = malloc(RACE_CONF_ERR_MAX);
    f_assert(err != NULL);

    memset(&conf, 0, sizeof(conf));
    f_run(table, &conf, data, size, err);
    f_assert(conf.host == NULL && conf.topic == NULL && conf.note == NULL);

    memset(&dconf, 0, sizeof(dconf));
    f_run(daemon_table, &dconf, data, size, err);
    f_assert(dconf.daemon.kafka_brokers == NULL
             && dconf.daemon.mongo_uri == NULL
             && dconf.daemon.redis_host == NULL);

    free(err);

    return 0;
}


/* the defaults, the file, then each line as --set; then freed */

static void
f_run(const race_conf_setting_t *tab, void *conf, const uint8_t *data,
    size_t size, char *err)
{
    int            rc, sets;
    char          *arg;
    size_t         len;
    const uint8_t  *p, *last, *nl;

    f_assert(race_conf_defaults(tab, conf, err, RACE_CONF_ERR_MAX) == 0);
    check_conf(tab, conf);

    /* the file */

    memset(err, 'x', RACE_CONF_ERR_MAX);
    rc = race_conf_load(tab, conf, path, err, RACE_CONF_ERR_MAX);

    check_err(err, rc);
    check_conf(tab, conf);

    if (rc != 0) {
        len = strlen(path);
        f_assert(strncmp(err, path, len) == 0 && err[len] == ':');
    }

    /* each line, as --set */

    p = data;
    last = data + size;

    for (sets = 0; p < last && sets < F_SETS; sets++) {
        nl = memchr(p, '\n', last - p);
        len = (nl ? nl : last) - p;

        arg = malloc(len + 1);
        f_assert(arg != NULL);
        memcpy(arg, p, len);
        arg[len] = '\0';

        memset(err, 'x', RACE_CONF_ERR_MAX);
        rc = race_conf_set_arg(tab, conf, arg, err, RACE_CONF_ERR_MAX);

        check_err(err, rc);
        check_conf(tab, conf);

        if (rc != 0) {
            check_set_err(tab, arg, err);
        }

        free(arg);
        p += len + 1;
    }

    race_conf_free(tab, conf);
}


static int
f_check_topic(const char *value, char *reason, size_t size)
{
    if (strspn(value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                      "0123456789._-")
        != strlen(value))
    {
        snprintf(reason, size, "may only hold [A-Za-z0-9._-]");
        return -1;
    }

    return 0;
}


static void
check_conf(const race_conf_setting_t *tab, const void *c)
{
    int                         i, k;
    char                        reason[256], *s;
    size_t                      len;
    int64_t                     n;
    const race_conf_setting_t  *t;

    for (t = tab; t->name != NULL; t++) {

        switch (t->type) {

        case RACE_CONF_STR:
            s = *(char **) ((char *) c + t->offset);
            f_assert(s != NULL);
            len = strlen(s);
            f_assert((int64_t) len >= t->min && (int64_t) len <= t->max);
            f_assert(t->check == NULL
                     || t->check(s, reason, sizeof(reason)) == 0);
            break;

        case RACE_CONF_INT:
            n = *(int64_t *) ((char *) c + t->offset);
            f_assert(n >= t->min && n <= t->max);
            break;

        case RACE_CONF_ENUM:
            i = *(int *) ((char *) c + t->offset);
            f_assert(i >= 0);

            for (k = 0; k < i; k++) {
                f_assert(t->values[k] != NULL);
            }

            f_assert(t->values[i] != NULL);
            break;
        }
    }
}


static void
check_err(const char *err, int rc)
{
    f_assert(rc == 0 || rc == -1);

    if (rc == 0) {
        f_assert(err[0] == 'x');
        return;
    }

    f_assert(memchr(err, '\0', RACE_CONF_ERR_MAX) != NULL && err[0] != '\0');
}


/* a known name: "<name>: "<value>"...", as far as the buffer goes */

static void
check_set_err(const race_conf_setting_t *tab, const char *arg,
    const char *err)
{
    char                        *want;
    size_t                       len, n;
    const char                  *eq;
    const race_conf_setting_t   *t;

    eq = strchr(arg, '=');
    if (eq == NULL || eq == arg) {
        return;
    }

    for (t = tab; t->name != NULL; t++) {
        if (strlen(t->name) == (size_t) (eq - arg)
            && strncmp(t->name, arg, eq - arg) == 0)
        {
            break;
        }
    }

    if (t->name == NULL) {
        return;
    }

    len = strlen(t->name) + strlen(eq + 1) + 8;
    want = malloc(len);
    f_assert(want != NULL);
    snprintf(want, len, "%s: \"%s\"", t->name, eq + 1);

    n = strlen(want);

    if (n > RACE_CONF_ERR_MAX - 1) {
        n = RACE_CONF_ERR_MAX - 1;
    }

    f_assert(strncmp(err, want, n) == 0);

    free(want);
}
