
/*
 * ngx_race: libFuzzer target for the race commands' core.
 *
 * Input: a race.accounts message (docs/INTERNALS.md, "Races").  Then:
 *
 *   - a refused command has no op, no data, and says why, within err;
 *     its req and reply are "" or printable tokens;
 *   - an accepted one has a req, a reply, a user id in "by", a race id;
 *     a race_create makes a document of the contract;
 *   - any other, applied to a document of the contract with some riders
 *     and links, as its owner and as an admin, is refused with a known
 *     code and leaves the document as it was, or leaves a document of
 *     the contract whose rev moved by one exactly when it changed;
 *   - the clock's moves keep it of the contract; the public form has no
 *     "_id", no "links" and no rider's "jti"; the replies are JSON.
 */


#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "race_races_cmd.h"


#define F_ERR    64
#define F_OWNER  "0123456789abcdef0123456789abcdef"

#define f_assert(c)  do { if (!(c)) { abort(); } } while (0)


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static json_t *base_doc(void);
static void check_token(const char *s, size_t max);
static void check_doc(json_t *doc);
static void check_apply(const race_races_cmd_t *cmd, int admin);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                rc;
    char              *err;
    json_t            *doc;
    race_races_cmd_t  *cmd;

    cmd = malloc(sizeof(race_races_cmd_t));
    err = malloc(F_ERR);
    f_assert(cmd != NULL && err != NULL);

    memset(cmd, 0x5a, sizeof(race_races_cmd_t));
    memset(err, 'x', F_ERR);

    rc = race_races_cmd_parse((const char *) data, size, cmd, err, F_ERR);

    check_token(cmd->req, RACE_RACES_REQ_MAX);
    check_token(cmd->reply, RACE_RACES_CHANNEL_MAX);

    if (rc != 0) {
        f_assert(rc == -1 || rc == 1);
        f_assert(cmd->op == RACE_RACES_NONE && cmd->data == NULL
                 && cmd->course == NULL);

        if (rc == -1) {
            f_assert(memchr(err, '\0', F_ERR) != NULL && err[0] != '\0');
        }

        goto done;
    }

    f_assert(cmd->req[0] != '\0' && cmd->reply[0] != '\0');
    f_assert(strlen(cmd->by) == 32);
    f_assert(race_id_valid(cmd->race, strlen(cmd->race)));
    f_assert(!race_races_cmd_expired(cmd, cmd->deadline));

    if (cmd->op == RACE_RACES_CREATE) {
        f_assert(cmd->data != NULL && cmd->course != NULL);

        doc = race_races_create(cmd, 1000);
        f_assert(doc != NULL);
        check_doc(doc);
        json_decref(doc);

    } else {
        check_apply(cmd, 0);
        check_apply(cmd, 1);
    }

done:

    race_races_cmd_free(cmd);
    free(cmd);
    free(err);

    return 0;
}


static json_t *
base_doc(void)
{
    json_t        *doc;
    json_error_t   error;

    doc = json_loads("{\"_id\":\"abc123def456\",\"name\":\"R\",\"owner\":\""
                     F_OWNER "\",\"public\":true,\"status\":\"scheduled\","
                     "\"start_at\":1800000000000,\"close_at\":null,"
                     "\"started_at\":null,\"finished_at\":null,"
                     "\"created\":1,\"updated\":1,\"rev\":4,\"course\":"
                     "{\"laps\":1,\"checkpoints\":[]},\"riders\":[{\"id\":"
                     "\"p1\",\"name\":\"A\",\"bib\":\"1\",\"status\":"
                     "\"entered\",\"jti\":\"j1\",\"exp\":5,\"user\":\""
                     F_OWNER "\"},{\"id\":\"p2\",\"name\":\"B\",\"bib\":"
                     "\"2\",\"status\":\"dnf\",\"jti\":\"j2\",\"exp\":6}],"
                     "\"links\":[{\"jti\":\"l1\",\"exp\":7,\"created\":1}]}",
                     0, &error);
    f_assert(doc != NULL);

    return doc;
}


static void
check_apply(const race_races_cmd_t *cmd, int admin)
{
    char                 *s;
    json_t               *doc, *old;
    json_int_t            rev;
    const char           *code;
    race_races_change_t   ch;

    doc = base_doc();
    old = json_deep_copy(doc);
    f_assert(old != NULL);

    code = race_races_apply(doc, cmd, admin, 2000, &ch);

    if (code != NULL) {
        f_assert(strcmp(code, "not_owner") == 0
                 || strcmp(code, "bad_status") == 0
                 || strcmp(code, "bib_taken") == 0
                 || strcmp(code, "no_rider") == 0
                 || strcmp(code, "bad_command") == 0);
        f_assert(json_equal(doc, old));
        f_assert(ch.rider == NULL && ch.link == NULL && !ch.changed);

        s = race_races_reply_error(cmd->req, code);
        f_assert(s != NULL);
        free(s);

    } else {
        rev = json_integer_value(json_object_get(doc, "rev"));
        f_assert(rev == 4 + (ch.changed ? 1 : 0));
        f_assert(ch.changed || json_equal(doc, old));
        check_doc(doc);

        s = race_races_reply_ok(cmd->req, doc, ch.rider, ch.link);
        f_assert(s != NULL);
        free(s);

        json_decref(ch.rider);
        json_decref(ch.link);
    }

    (void) race_races_tick(doc, 1900000000000LL);
    check_doc(doc);

    json_decref(old);
    json_decref(doc);
}


static void
check_doc(json_t *doc)
{
    char     err[F_ERR];
    char    *s;
    size_t   i;
    json_t  *p, *e;

    f_assert(race_races_doc_valid(doc, err, sizeof(err)) == 0);

    p = race_races_public(doc);
    f_assert(p != NULL);
    f_assert(json_object_get(p, "_id") == NULL
             && json_object_get(p, "links") == NULL
             && json_is_string(json_object_get(p, "id")));

    json_array_foreach(json_object_get(p, "riders"), i, e) {
        f_assert(json_object_get(e, "jti") == NULL);
    }

    s = json_dumps(p, RACE_RACES_DUMP);
    f_assert(s != NULL);
    free(s);
    json_decref(p);
}


/* "" or 1 to max bytes of 0x21 to 0x7e */

static void
check_token(const char *s, size_t max)
{
    size_t  i, n;

    n = strlen(s);
    f_assert(n <= max);

    for (i = 0; i < n; i++) {
        f_assert(s[i] >= 0x21 && s[i] <= 0x7e);
    }
}
