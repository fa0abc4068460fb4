
/*
 * ngx_race workers: the MongoDB store's memory, under UBSan, TAP output.
 *
 * race_store_mongo_t holds a bson_t, which libbson declares 128-byte
 * aligned; allocated with malloc() it sat at a 16-byte boundary, and
 * every access to it was undefined behaviour that UBSan reports
 * ("misaligned address").  Whether a given malloc() lands on a 128-byte
 * boundary by chance depends on what was allocated before, so each
 * round runs in a child of its own, after a different number of
 * allocations of sizes near the store's (384 bytes on x86_64): one
 * round at least gets a block that is not aligned.  The child opens a store (no server: nothing
 * listens on port 1), makes it build and send a batch, which fails
 * fast, and closes it.  UBSan stops the child at its first report
 * (halt_on_error, set below), so a report is a failed round.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "race_log.h"
#include "race_store_mongo.h"
#include "tap.h"


#define T_ROUNDS  8


static int t_round(int round);


/* UBSan's hook: its reports are failures here, whatever the environment */
const char *__ubsan_default_options(void);

const char *
__ubsan_default_options(void)
{
    return "halt_on_error=1:print_stacktrace=1";
}


int
main(void)
{
    int    round, status;
    pid_t  pid;

    race_log_init("race_store_mongo_test", RACE_LOG_ERROR);

    for (round = 0; round < T_ROUNDS; round++) {
        fflush(stdout);

        pid = fork();
        if (pid < 0) {
            perror("fork");
            return 1;
        }

        if (pid == 0) {
            _exit(t_round(round));
        }

        if (waitpid(pid, &status, 0) != pid) {
            perror("waitpid");
            return 1;
        }

        ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
           "round %d: open, insert and close, no report", round);

        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            diag("  exit status %d, signal %d",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                 WIFSIGNALED(status) ? WTERMSIG(status) : 0);
        }
    }

    printf("1..%d\n", tap_n);

    return tap_failed ? 1 : 0;
}


/* 0 if the round went as it should; UBSan exits 1 on a report */

static int
t_round(int round)
{
    int                      i, k, rc;
    void                   **held;
    race_fix_t               fixes[2];
    race_fix_msg_t           msg;
    race_store_t            *s;
    race_store_result_t      res;
    race_store_mongo_conf_t  conf;

    /* round blocks of each size of 256, 320 ... 512 bytes, kept */

    held = calloc((size_t) round * 5 + 1, sizeof(void *));
    if (held == NULL) {
        return 2;
    }

    k = 0;

    for (i = 0; i < round; i++) {
        for (rc = 256; rc <= 512; rc += 64) {
            held[k] = malloc((size_t) rc);
            if (held[k++] == NULL) {
                return 2;
            }
        }
    }

    conf.uri = "mongodb://127.0.0.1:1/";
    conf.db = "ngx_race_t";
    conf.appname = "race_store_mongo_test";
    conf.timeout_ms = 100;
    conf.max_fixes = 2;

    s = race_store_mongo_open(&conf);
    if (s == NULL) {
        return 3;
    }

    memset(&msg, 0, sizeof(msg));
    strcpy(msg.race, "r1");
    strcpy(msg.rider, "p1");
    msg.recv = 1732400000150;

    memset(fixes, 0, sizeof(fixes));

    for (i = 0; i < 2; i++) {
        fixes[i].msg = &msg;
        fixes[i].seq = i + 1;
        fixes[i].t = 1732400000000 + i * 1000;
        fixes[i].lat = 45.07;
        fixes[i].lon = 7.68;
    }

    /* nothing listens: the insert fails, after building the documents */
    rc = s->ops->insert(s, fixes, 2, &res);

    s->ops->close(s);

    while (k > 0) {
        free(held[--k]);
    }

    free(held);

    return rc == RACE_STORE_ERROR ? 0 : 4;
}
