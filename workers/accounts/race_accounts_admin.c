
/*
 * race-accounts: the admin actions of the command line, done once
 * without Kafka: --create-admin and --revoke-rider-token (see main.c).
 */


#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "race_account.h"
#include "race_password.h"

#include "race_accounts.h"
#include "race_log.h"
#include "race_time.h"


#define RACE_ACCOUNTS_LIST_MAX    (64 * 1024 * 1024)


static int race_accounts_create_admin(race_accounts_t *ra,
    const race_accounts_args_t *args);
static int race_accounts_admin_user(const race_accounts_args_t *args,
    race_accounts_user_t *user);
static int race_accounts_read_password(const char *path, char *buf,
    size_t size, size_t *len);
static int race_accounts_read_list(const char *path,
    race_password_list_t *list);
static int race_accounts_admin_write(race_accounts_t *ra,
    race_accounts_user_t *user);
static int race_accounts_revoke_token(race_accounts_t *ra,
    const race_accounts_args_t *args);


/* the admin actions' options, for race_daemon_t */

int
race_accounts_admin_option(void *data, int argc, char **argv, int i)
{
    const char            **dst;
    race_accounts_t        *ra = data;
    race_accounts_args_t   *args;

    args = &ra->args;

    if (strcmp(argv[i], "--create-admin") == 0) {
        dst = &args->admin_email;

    } else if (strcmp(argv[i], "--name") == 0) {
        dst = &args->admin_name;

    } else if (strcmp(argv[i], "--password-file") == 0) {
        dst = &args->password_file;

    } else if (strcmp(argv[i], "--common-passwords") == 0) {
        dst = &args->common_passwords;

    } else if (strcmp(argv[i], "--revoke-rider-token") == 0) {
        dst = &args->revoke_jti;

    } else if (strcmp(argv[i], "--until") == 0) {
        dst = &args->revoke_until;

    } else {
        return 0;
    }

    if (i + 1 == argc) {
        fprintf(stderr, RACE_ACCOUNTS_NAME ": %s needs a value\n", argv[i]);
        return -1;
    }

    *dst = argv[i + 1];

    return i + 1;
}


/* which options go together */

int
race_accounts_admin_check(void *data)
{
    race_accounts_t        *ra = data;
    race_accounts_args_t   *args;

    args = &ra->args;

    if (args->admin_email != NULL
        && (args->admin_name == NULL || args->password_file == NULL))
    {
        fprintf(stderr, RACE_ACCOUNTS_NAME ": --create-admin needs --name "
                "and --password-file\n");
        return -1;
    }

    if (args->admin_email == NULL
        && (args->admin_name != NULL || args->password_file != NULL
            || args->common_passwords != NULL))
    {
        fprintf(stderr, RACE_ACCOUNTS_NAME ": --name, --password-file and "
                "--common-passwords go with --create-admin\n");
        return -1;
    }

    if ((args->revoke_jti == NULL) != (args->revoke_until == NULL)) {
        fprintf(stderr, RACE_ACCOUNTS_NAME ": --revoke-rider-token and "
                "--until go together\n");
        return -1;
    }

    if (args->revoke_jti != NULL && args->admin_email != NULL) {
        fprintf(stderr, RACE_ACCOUNTS_NAME ": --revoke-rider-token or "
                "--create-admin, not both\n");
        return -1;
    }

    return 0;
}


/* an admin action instead of the loop: exit codes as main()'s */

int
race_accounts_admin(void *data)
{
    race_accounts_t  *ra = data;

    if (ra->args.admin_email != NULL) {
        return race_accounts_create_admin(ra, &ra->args);
    }

    if (ra->args.revoke_jti != NULL) {
        return race_accounts_revoke_token(ra, &ra->args);
    }

    return RACE_DAEMON_LOOP;
}


/* --create-admin: exit codes as main()'s */

static int
race_accounts_create_admin(race_accounts_t *ra,
    const race_accounts_args_t *args)
{
    int                   rc;
    race_accounts_user_t  user;

    rc = race_accounts_admin_user(args, &user);
    if (rc != RACE_DAEMON_EXIT_OK) {
        return rc;
    }

    rc = RACE_DAEMON_EXIT_FAIL;

    if (race_accounts_open(ra, 0) == 0
        && race_accounts_admin_write(ra, &user) == 0)
    {
        printf("%s\n", user.id);

        if (fflush(stdout) == 0) {
            rc = RACE_DAEMON_EXIT_OK;
        }
    }

    race_accounts_close(ra);

    explicit_bzero(&user, sizeof(race_accounts_user_t));

    return rc;
}


/* the new admin's document, the password hashed: exit codes */

static int
race_accounts_admin_user(const race_accounts_args_t *args,
    race_accounts_user_t *user)
{
    int                    rc;
    char                   password[RACE_PASSWORD_BYTES_MAX + 3];
    size_t                 len;
    const char            *reason;
    race_password_list_t   list;

    memset(user, 0, sizeof(race_accounts_user_t));
    memset(&list, 0, sizeof(race_password_list_t));

    if (race_email_normalize(args->admin_email, strlen(args->admin_email),
                             user->email, sizeof(user->email))
        == 0)
    {
        fprintf(stderr, RACE_ACCOUNTS_NAME ": --create-admin: not a valid "
                "email\n");
        return RACE_DAEMON_EXIT_USAGE;
    }

    len = strlen(args->admin_name);

    if (!race_name_valid(args->admin_name, len)) {
        fprintf(stderr, RACE_ACCOUNTS_NAME ": --name: not a valid name (1 "
                "to %d characters of UTF-8, no control characters)\n",
                RACE_NAME_MAX);
        return RACE_DAEMON_EXIT_USAGE;
    }

    memcpy(user->name, args->admin_name, len + 1);

    if (args->common_passwords != NULL
        && race_accounts_read_list(args->common_passwords, &list) != 0)
    {
        return RACE_DAEMON_EXIT_USAGE;
    }

    rc = RACE_DAEMON_EXIT_USAGE;

    if (race_accounts_read_password(args->password_file, password,
                                    sizeof(password), &len)
        != 0)
    {
        goto done;
    }

    reason = race_password_check_policy(password, len,
                                        args->common_passwords ? &list
                                                               : NULL);
    if (reason != NULL) {
        fprintf(stderr, RACE_ACCOUNTS_NAME ": the password of %s: %s\n",
                args->password_file, reason);
        goto done;
    }

    rc = RACE_DAEMON_EXIT_FAIL;

    if (race_password_hash(password, len, user->hash, sizeof(user->hash))
        != 0)
    {
        fprintf(stderr, RACE_ACCOUNTS_NAME ": the password could not be "
                "hashed\n");
        goto done;
    }

    if (race_user_id_generate(user->id) != 0) {
        fprintf(stderr, RACE_ACCOUNTS_NAME ": no random bytes for a user "
                "id\n");
        goto done;
    }

    memcpy(user->role, "admin", sizeof("admin"));
    user->gen = 1;
    user->created = race_time_wall_ms();

    rc = RACE_DAEMON_EXIT_OK;

done:

    explicit_bzero(password, sizeof(password));
    race_password_list_free(&list);

    return rc;
}


/* the first line of the file, without its line end: 0, or -1, said */

static int
race_accounts_read_password(const char *path, char *buf, size_t size,
    size_t *len)
{
    int          fd;
    char        *nl;
    size_t       n;
    ssize_t      got;
    struct stat  st;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        fprintf(stderr, RACE_ACCOUNTS_NAME ": --password-file %s: %s\n",
                path, strerror(errno));
        return -1;
    }

    if (fstat(fd, &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO))) {
        fprintf(stderr, RACE_ACCOUNTS_NAME ": warning: --password-file %s "
                "may be read by others (mode %03o): make it 600\n", path,
                (unsigned) (st.st_mode & 0777));
    }

    n = 0;

    /* one byte more than a password and its CRLF: too long is refused */

    while (n < size - 1) {
        got = read(fd, buf + n, size - 1 - n);

        if (got == -1 && errno == EINTR) {
            continue;
        }

        if (got == -1) {
            fprintf(stderr, RACE_ACCOUNTS_NAME ": --password-file %s: %s\n",
                    path, strerror(errno));
            close(fd);
            return -1;
        }

        if (got == 0) {
            break;
        }

        n += (size_t) got;
    }

    close(fd);
    buf[n] = '\0';

    nl = memchr(buf, '\n', n);
    if (nl != NULL) {
        n = (size_t) (nl - buf);
    }

    if (n > 0 && buf[n - 1] == '\r') {
        n--;
    }

    if (nl == NULL && n == size - 1) {
        fprintf(stderr, RACE_ACCOUNTS_NAME ": --password-file %s: longer "
                "than any password may be\n", path);
        return -1;
    }

    buf[n] = '\0';
    *len = n;

    return 0;
}


static int
race_accounts_read_list(const char *path, race_password_list_t *list)
{
    int     rc;
    char   *data;
    long    size;
    FILE   *f;
    size_t  n;

    f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, RACE_ACCOUNTS_NAME ": --common-passwords %s: %s\n",
                path, strerror(errno));
        return -1;
    }

    data = NULL;
    rc = -1;

    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0
        || size > RACE_ACCOUNTS_LIST_MAX || fseek(f, 0, SEEK_SET) != 0)
    {
        fprintf(stderr, RACE_ACCOUNTS_NAME ": --common-passwords %s: not "
                "a readable file of at most %d bytes\n", path,
                RACE_ACCOUNTS_LIST_MAX);
        goto done;
    }

    data = malloc((size_t) size + 1);
    if (data == NULL) {
        fprintf(stderr, RACE_ACCOUNTS_NAME ": out of memory\n");
        goto done;
    }

    n = fread(data, 1, (size_t) size, f);

    if (n != (size_t) size || ferror(f)) {
        fprintf(stderr, RACE_ACCOUNTS_NAME ": --common-passwords %s: "
                "cannot read it\n", path);
        goto done;
    }

    if (race_password_list_load(data, n, list) != 0) {
        fprintf(stderr, RACE_ACCOUNTS_NAME ": out of memory\n");
        goto done;
    }

    rc = 0;

done:

    free(data);
    fclose(f);

    return rc;
}


/*
 * Inserts the admin, or makes the user of that email one, then writes
 * the user to Redis; on success user is what was written.  One try:
 * whoever runs it sees the error and runs it again.
 */

static int
race_accounts_admin_write(race_accounts_t *ra, race_accounts_user_t *user)
{
    int                   rc;
    race_accounts_user_t  stored;

    if (race_accounts_mongo_index(ra->mongo) != RACE_ACCOUNTS_MONGO_OK) {
        race_log(RACE_LOG_ERROR, "mongo: no unique index on users.email: "
                 "nothing was written");
        return -1;
    }

    rc = race_accounts_mongo_insert(ra->mongo, user);

    if (rc == RACE_ACCOUNTS_MONGO_OK) {
        race_log(RACE_LOG_INFO, "admin %s created", user->id);

    } else if (rc == RACE_ACCOUNTS_MONGO_DUPLICATE) {

        rc = race_accounts_mongo_get_email(ra->mongo, user->email, &stored);

        if (rc != RACE_ACCOUNTS_MONGO_OK) {
            race_log(RACE_LOG_ERROR, "mongo: the email is taken, but its "
                     "user could not be read");
            return -1;
        }

        if (strcmp(stored.role, "admin") != 0) {
            rc = race_accounts_mongo_bump(ra->mongo, stored.id, stored.gen,
                                          "admin", &stored);

            if (rc != RACE_ACCOUNTS_MONGO_OK) {
                race_log(RACE_LOG_ERROR, "mongo: user %s could not be made "
                         "an admin%s", stored.id,
                         rc == RACE_ACCOUNTS_MONGO_NONE
                         ? " (it changed meanwhile: run it again)" : "");
                return -1;
            }

            race_log(RACE_LOG_INFO, "user %s of that email is an admin now "
                     "(name and password unchanged)", stored.id);

        } else {
            race_log(RACE_LOG_INFO, "user %s of that email is an admin "
                     "already (name and password unchanged)", stored.id);
        }

        *user = stored;

    } else {
        race_log(RACE_LOG_ERROR, "mongo: the admin was not written");
        return -1;
    }

    if (race_accounts_redis_apply(ra->redis, user, 1, NULL, NULL, 0)
        != RACE_ACCOUNTS_REDIS_OK)
    {
        race_log(RACE_LOG_ERROR, "redis: user %s is in MongoDB but not in "
                 "redis: run it again", user->id);
        return -1;
    }

    return 0;
}


/*
 * --revoke-rider-token: MongoDB, then Redis and nginx, one try each, as
 * the revoke command does: exit codes as main()'s.
 */

static int
race_accounts_revoke_token(race_accounts_t *ra,
    const race_accounts_args_t *args)
{
    int                          rc;
    char                        *end;
    long long                    exp;
    race_accounts_revocation_t   rev;

    memset(&rev, 0, sizeof(race_accounts_revocation_t));

    if (!race_id_valid(args->revoke_jti, strlen(args->revoke_jti))) {
        fprintf(stderr, RACE_ACCOUNTS_NAME ": --revoke-rider-token: not a "
                "token id (1 to %d of [A-Za-z0-9_-])\n", RACE_JWT_ID_MAX);
        return RACE_DAEMON_EXIT_USAGE;
    }

    errno = 0;
    exp = strtoll(args->revoke_until, &end, 10);

    if (errno != 0 || end == args->revoke_until || *end != '\0' || exp < 1
        || exp > RACE_ACCOUNTS_EXP_MAX)
    {
        fprintf(stderr, RACE_ACCOUNTS_NAME ": --until: \"%s\" is not the "
                "token's exp (Unix seconds)\n", args->revoke_until);
        return RACE_DAEMON_EXIT_USAGE;
    }

    memcpy(rev.jti, args->revoke_jti, strlen(args->revoke_jti) + 1);
    rev.exp = (int64_t) exp;

    rc = RACE_DAEMON_EXIT_FAIL;

    if (race_accounts_open(ra, 0) != 0) {
        goto done;
    }

    if (race_accounts_mongo_revoke(ra->mongo, &rev, race_time_wall_ms())
        != RACE_ACCOUNTS_MONGO_OK)
    {
        race_log(RACE_LOG_ERROR, "mongo: the revocation was not recorded");
        goto done;
    }

    if (race_accounts_redis_revoke(ra->redis, &rev, 1,
                                   race_time_wall_ms() / 1000, 1, NULL,
                                   NULL, 0)
        != RACE_ACCOUNTS_REDIS_OK)
    {
        race_log(RACE_LOG_ERROR, "redis: rider token %s is revoked in "
                 "MongoDB but not in redis: run it again", rev.jti);
        goto done;
    }

    race_log(RACE_LOG_INFO, "rider token %s revoked until %lld", rev.jti,
             (long long) rev.exp);

    rc = RACE_DAEMON_EXIT_OK;

done:

    race_accounts_close(ra);

    return rc;
}

