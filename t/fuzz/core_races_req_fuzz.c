
/*
 * ngx_race: libFuzzer target for the races API's request bodies
 * (core/race_races_req.c).
 *
 * Input: a body of POST or PATCH /api/races, of a rider or of a link.
 * Then:
 *
 *   - each parser returns 0, or -1 with a reason within err;
 *   - an accepted race body holds a course of course_len bytes and a
 *     NUL, a valid name, laps and checkpoints in range;
 *   - when its course parses (a small one: the fuzzer's), the command
 *     made of it is one that race-accounts' parser takes: what the
 *     module sends is never refused as malformed.
 */


#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "race_races_cmd.h"
#include "race_races_req.h"
#include "race_utf8.h"


#define F_ERR    RACE_RACES_REQ_ERR_MAX
#define F_BY     "0123456789abcdef0123456789abcdef"

#define f_assert(c)  do { if (!(c)) { abort(); } } while (0)


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_err(int rc, const char *err);
static void check_race(const char *data, size_t size, int create);
static void check_cmd(const char *text, race_races_op_e op);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                  rc;
    char                 err[F_ERR];
    int64_t              ttl;
    race_races_rider_t   rd;

    check_race((const char *) data, size, 1);
    check_race((const char *) data, size, 0);

    memset(err, 'x', sizeof(err));
    rc = race_races_rider_parse((const char *) data, size, 1, &rd, err,
                                sizeof(err));
    check_err(rc, err);

    if (rc == 0) {
        f_assert(race_name_valid(rd.name, strlen(rd.name)));
        f_assert(strlen(rd.bib) >= 1 && strlen(rd.bib) <= RACE_BIB_MAX);
    }

    memset(err, 'x', sizeof(err));
    rc = race_races_rider_parse((const char *) data, size, 0, &rd, err,
                                sizeof(err));
    check_err(rc, err);

    memset(err, 'x', sizeof(err));
    rc = race_races_link_parse((const char *) data, size, &ttl, err,
                               sizeof(err));
    check_err(rc, err);

    if (rc == 0) {
        f_assert(ttl >= 60 && ttl <= RACE_LINK_TTL_MAX);
    }

    return 0;
}


static void
check_err(int rc, const char *err)
{
    f_assert(rc == 0 || rc == -1);

    if (rc == -1) {
        f_assert(memchr(err, '\0', F_ERR) != NULL);
    }
}


static void
check_race(const char *data, size_t size, int create)
{
    int                 rc;
    char                err[F_ERR], *text;
    race_course_t       c;
    race_races_body_t   b;

    memset(err, 'x', sizeof(err));
    rc = race_races_body_parse(data, size, create, &b, err, sizeof(err));
    check_err(rc, err);

    if (rc != 0) {
        race_races_body_free(&b);
        return;
    }

    if (b.set & RACE_RACES_SET_NAME) {
        f_assert(race_name_valid(b.name, strlen(b.name)));
    }

    if (b.set & RACE_RACES_SET_COURSE) {
        f_assert(b.course != NULL && b.course_len > 0
                 && b.course[b.course_len] == '\0');
    }

    f_assert(b.ncheckpoints <= RACE_COURSE_CHECKPOINTS_MAX);

    if (!(b.set & RACE_RACES_SET_COURSE)) {
        if (!create) {
            text = race_races_update_cmd(&b, NULL, "abc123def456", F_BY);
            f_assert(text != NULL);

            if (!(b.set & (RACE_RACES_SET_LAPS
                           | RACE_RACES_SET_CHECKPOINTS)))
            {
                check_cmd(text, RACE_RACES_UPDATE);
            }

            free(text);
        }

        race_races_body_free(&b);
        return;
    }

    rc = race_races_req_course(&b, &c, 0, err, sizeof(err));
    check_err(rc, err);

    if (rc == 0) {
        text = create ? race_races_create_cmd(&b, &c, "abc123def456", F_BY)
                      : race_races_update_cmd(&b, &c, "abc123def456", F_BY);
        f_assert(text != NULL);
        check_cmd(text, create ? RACE_RACES_CREATE : RACE_RACES_UPDATE);
        free(text);
        race_course_free(&c);
    }

    race_races_body_free(&b);
}


/* the command with what the channel adds: race-accounts takes it */

static void
check_cmd(const char *text, race_races_op_e op)
{
    int                rc;
    char              *s, why[RACE_RACES_ERR_MAX];
    json_t            *o;
    json_error_t       e;
    race_races_cmd_t   cmd;

    o = json_loads(text, 0, &e);
    f_assert(o != NULL);

    f_assert(json_object_set_new(o, "req", json_string("q1")) == 0
             && json_object_set_new(o, "reply",
                                    json_string("race:reply:1")) == 0);

    s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    f_assert(s != NULL);

    rc = race_races_cmd_parse(s, strlen(s), &cmd, why, sizeof(why));
    free(s);

    f_assert(rc == 0 && cmd.op == op);
    race_races_cmd_free(&cmd);
}
