
/*
 * ngx_race workers: the skeleton both daemons share.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "race_daemon.h"
#include "race_log.h"
#include "race_metrics.h"
#include "race_signal.h"
#include "race_time.h"


static int race_daemon_options(const race_daemon_t *d, void *data,
    int argc, char **argv, int *test);
static void race_daemon_usage(const race_daemon_t *d, FILE *f);


const char *const  race_daemon_levels[] = {
    "debug", "info", "warn", "error", NULL
};


int
race_daemon_main(const race_daemon_t *d, void *data, int argc, char **argv)
{
    int                  test, rc;
    void                *conf;
    race_daemon_conf_t  *common;

    conf = (char *) data + d->conf;
    common = (race_daemon_conf_t *) ((char *) data + d->common);

    /* every setting is checked before anything is connected */

    if (race_daemon_options(d, data, argc, argv, &test) != 0) {
        rc = RACE_DAEMON_EXIT_USAGE;
        goto done;
    }

    if (test) {
        printf("%s: settings are fine\n", d->name);
        rc = RACE_DAEMON_EXIT_OK;
        goto done;
    }

    race_log_init(d->name, common->log_level);

    if (race_metrics_init(d->name) != 0) {
        rc = RACE_DAEMON_EXIT_FAIL;
        goto done;
    }

    if (d->command != NULL) {
        rc = d->command(data);

        if (rc != RACE_DAEMON_LOOP) {
            goto done;
        }
    }

    if (race_signal_init() != 0
        || race_metrics_start(common->metrics_listen,
                              common->liveness_timeout_ms)
           != 0)
    {
        rc = RACE_DAEMON_EXIT_FAIL;
        goto done;
    }

    race_log(RACE_LOG_INFO, "starting: kafka %s, mongo db %s, redis %s:%d",
             common->kafka_brokers, common->mongo_db, common->redis_host,
             (int) common->redis_port);

    rc = RACE_DAEMON_EXIT_FAIL;

    if (d->open(data) == 0 && d->run(data) == 0) {
        race_log(RACE_LOG_INFO, "signal %d: stopping",
                 (int) race_signal_stop_signo);
        rc = RACE_DAEMON_EXIT_OK;
    }

    if (d->close(data) != 0) {
        rc = RACE_DAEMON_EXIT_FAIL;
    }

    d->stopped(data, rc);

done:

    race_metrics_stop();
    race_conf_free(d->settings, conf);

    return rc;
}


void
race_daemon_hup(void)
{
    if (race_signal_hup) {
        race_signal_hup = 0;
        race_log(RACE_LOG_INFO, "SIGHUP ignored: logs go to stderr, "
                 "a restart applies new settings");
    }
}


void
race_daemon_wait(int64_t ms, void (*idle)(void *data), void *data)
{
    int64_t  now, end, left;
    int      stopping;

    stopping = race_signal_stop;
    end = race_time_mono_ms() + ms;

    for ( ;; ) {
        now = race_time_mono_ms();

        race_metrics_beat();

        if (now >= end || race_signal_stop != stopping) {
            return;
        }

        if (idle != NULL) {
            idle(data);
        }

        left = end - now;

        race_time_sleep_ms(left < RACE_DAEMON_POLL_MS ? left
                                                      : RACE_DAEMON_POLL_MS);
    }
}


/* --set values apply after the file, whatever the order of the two */

static int
race_daemon_options(const race_daemon_t *d, void *data, int argc,
    char **argv, int *test)
{
    int          i, n, nsets;
    char         err[RACE_CONF_ERR_MAX];
    void        *conf;
    const char  *file, *sets[RACE_DAEMON_MAX_SETS];

    conf = (char *) data + d->conf;
    file = NULL;
    nsets = 0;
    *test = 0;

    for (i = 1; i < argc; i++) {

        if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
            file = argv[++i];

        } else if ((strcmp(argv[i], "--set") == 0 && i + 1 < argc)
                   || strncmp(argv[i], "--set=", 6) == 0)
        {
            if (nsets == RACE_DAEMON_MAX_SETS) {
                fprintf(stderr, "%s: more than %d --set\n", d->name,
                        RACE_DAEMON_MAX_SETS);
                return -1;
            }

            sets[nsets++] = argv[i][5] == '=' ? argv[i] + 6 : argv[++i];

        } else if (strcmp(argv[i], "-t") == 0) {
            *test = 1;

        } else if (strcmp(argv[i], "-h") == 0
                   || strcmp(argv[i], "--help") == 0)
        {
            race_daemon_usage(d, stdout);
            return -1;

        } else {
            n = d->option != NULL ? d->option(data, argc, argv, i) : 0;

            if (n == -1) {
                return -1;
            }

            if (n == 0) {
                fprintf(stderr, "%s: bad argument \"%s\"\n", d->name,
                        argv[i]);
                race_daemon_usage(d, stderr);
                return -1;
            }

            i = n;
        }
    }

    if (d->options_done != NULL && d->options_done(data) != 0) {
        return -1;
    }

    if (race_conf_defaults(d->settings, conf, err, sizeof(err)) != 0
        || (file != NULL
            && race_conf_load(d->settings, conf, file, err, sizeof(err))
               != 0))
    {
        fprintf(stderr, "%s: %s\n", d->name, err);
        return -1;
    }

    for (i = 0; i < nsets; i++) {
        if (race_conf_set_arg(d->settings, conf, sets[i], err, sizeof(err))
            != 0)
        {
            fprintf(stderr, "%s: %s\n", d->name, err);
            return -1;
        }
    }

    return 0;
}


static void
race_daemon_usage(const race_daemon_t *d, FILE *f)
{
    const race_conf_setting_t  *s;

    fprintf(f, "usage: %s [-c FILE] [--set name=value]... [-t]\n%s"
            "settings (default):\n", d->name,
            d->usage != NULL ? d->usage : "");

    for (s = d->settings; s->name != NULL; s++) {
        fprintf(f, "  %-26s %s\n", s->name, s->dflt);
    }
}
