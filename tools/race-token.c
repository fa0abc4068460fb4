
/*
 * race-token: mints and checks ngx_race rider tokens (docs/INTERNALS.md).
 *
 *   race-token --key-file FILE --kid KID --aud ride --sub RIDER --race RACE
 *              [--role rider] [--ttl SECONDS] [--nbf-in SECONDS]
 *              [--iss ngx_race] [--jti ID]
 *       prints a token and a newline; --ttl is 86400 by default, --jti a
 *       random one when not given
 *
 *   race-token --verify TOKEN --key-file FILE --kid KID --aud ride
 *              [--iss ngx_race] [--leeway SECONDS]
 *       prints the claims, or the reason and exits 1; TOKEN "-" reads
 *       the token from the first line of stdin (it stays out of ps and
 *       the shell's history)
 *
 *   race-token --gen-key FILE
 *       writes a new key file, mode 0600; never overwrites one
 *
 * The secret is the key file's bytes without the line ends at its end
 * (race_jwt_key_trim(), the same rule as race_token_key in nginx.conf),
 * at least RACE_JWT_KEY_MIN of them.  --gen-key writes 48 random bytes
 * as base64 text and a newline, so that the file is text: the secret is
 * then that text, 64 bytes, not the 48 bytes it encodes, alike for
 * every user of the file.  The secret is never printed.
 */


#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "race_jwt.h"


#define RT_KEY_FILE_MAX   4096
#define RT_GEN_BYTES      48
#define RT_TTL_DEFAULT    86400
#define RT_TTL_MAX        (10 * 366 * 86400LL)
#define RT_JTI_BYTES      16


typedef struct {
    const char     *key_file;
    const char     *kid;
    const char     *aud;
    const char     *iss;
    const char     *sub;
    const char     *race;
    const char     *role;
    const char     *jti;
    const char     *verify;
    const char     *gen_key;
    int64_t         ttl;
    int64_t         nbf_in;
    int64_t         leeway;
    int             has_nbf;
} rt_args_t;


static int rt_sign(const rt_args_t *a);
static int rt_verify(const rt_args_t *a);
static int rt_gen_key(const char *path);
static int rt_read_key(const char *path, uint8_t *secret, size_t *len);
static int rt_number(const char *name, const char *s, int64_t min,
    int64_t max, int64_t *v);
static int rt_id(const char *name, const char *s, size_t max);
static void rt_time(const char *name, int64_t t);
static void rt_usage(FILE *f);
static void rt_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));


static const struct option  rt_options[] = {
    { "key-file", required_argument, NULL, 'k' },
    { "kid",      required_argument, NULL, 'K' },
    { "aud",      required_argument, NULL, 'a' },
    { "iss",      required_argument, NULL, 'i' },
    { "sub",      required_argument, NULL, 's' },
    { "race",     required_argument, NULL, 'r' },
    { "role",     required_argument, NULL, 'R' },
    { "ttl",      required_argument, NULL, 't' },
    { "nbf-in",   required_argument, NULL, 'n' },
    { "jti",      required_argument, NULL, 'j' },
    { "leeway",   required_argument, NULL, 'l' },
    { "verify",   required_argument, NULL, 'v' },
    { "gen-key",  required_argument, NULL, 'g' },
    { "help",     no_argument,       NULL, 'h' },
    { NULL, 0, NULL, 0 }
};


int
main(int argc, char **argv)
{
    int        c;
    rt_args_t  a;

    memset(&a, 0, sizeof(a));
    a.iss = "ngx_race";
    a.ttl = RT_TTL_DEFAULT;

    while ((c = getopt_long(argc, argv, "", rt_options, NULL)) != -1) {

        switch (c) {

        case 'k':
            a.key_file = optarg;
            break;

        case 'K':
            a.kid = optarg;
            break;

        case 'a':
            a.aud = optarg;
            break;

        case 'i':
            a.iss = optarg;
            break;

        case 's':
            a.sub = optarg;
            break;

        case 'r':
            a.race = optarg;
            break;

        case 'R':
            a.role = optarg;
            break;

        case 'j':
            a.jti = optarg;
            break;

        case 'v':
            a.verify = optarg;
            break;

        case 'g':
            a.gen_key = optarg;
            break;

        case 't':
            if (rt_number("--ttl", optarg, 1, RT_TTL_MAX, &a.ttl) != 0) {
                return 2;
            }
            break;

        case 'n':
            if (rt_number("--nbf-in", optarg, 0, RT_TTL_MAX, &a.nbf_in)
                != 0)
            {
                return 2;
            }
            a.has_nbf = 1;
            break;

        case 'l':
            if (rt_number("--leeway", optarg, 0, 3600, &a.leeway) != 0) {
                return 2;
            }
            break;

        case 'h':
            rt_usage(stdout);
            return 0;

        default:
            rt_usage(stderr);
            return 2;
        }
    }

    if (optind != argc) {
        rt_error("unexpected argument \"%s\"", argv[optind]);
        rt_usage(stderr);
        return 2;
    }

    if (a.gen_key) {
        return rt_gen_key(a.gen_key) == 0 ? 0 : 1;
    }

    if (a.key_file == NULL || a.kid == NULL || a.aud == NULL) {
        rt_error("--key-file, --kid and --aud are needed");
        rt_usage(stderr);
        return 2;
    }

    if (a.verify) {
        return rt_verify(&a) == 0 ? 0 : 1;
    }

    if (a.sub == NULL || a.race == NULL) {
        rt_error("--sub and --race are needed to sign");
        rt_usage(stderr);
        return 2;
    }

    return rt_sign(&a) == 0 ? 0 : 1;
}


static int
rt_sign(const rt_args_t *a)
{
    int                 rc;
    char                tok[RACE_JWT_MAX_LEN];
    size_t              i, n;
    time_t              now;
    uint8_t             secret[RT_KEY_FILE_MAX + 1], rnd[RT_JTI_BYTES];
    race_jwt_key_t      key;
    race_jwt_claims_t   c;

    if (rt_id("--kid", a->kid, RACE_JWT_KID_MAX) != 0
        || rt_id("--sub", a->sub, RACE_JWT_ID_MAX) != 0
        || rt_id("--race", a->race, RACE_JWT_ID_MAX) != 0
        || (a->role && rt_id("--role", a->role, sizeof(c.role) - 1) != 0)
        || (a->jti && rt_id("--jti", a->jti, RACE_JWT_ID_MAX) != 0))
    {
        return -1;
    }

    memset(&c, 0, sizeof(c));
    strcpy(c.sub, a->sub);
    strcpy(c.race, a->race);

    if (a->role) {
        strcpy(c.role, a->role);
    }

    /* a token id of its own, for revocation lists */

    if (a->jti) {
        strcpy(c.jti, a->jti);

    } else {
        if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
            rt_error("RAND_bytes() failed");
            return -1;
        }

        for (i = 0; i < sizeof(rnd); i++) {
            snprintf(c.jti + 2 * i, 3, "%02x", rnd[i]);
        }
    }

    now = time(NULL);
    c.iat = (int64_t) now;
    c.exp = c.iat + a->ttl;
    c.nbf = a->has_nbf ? c.iat + a->nbf_in : 0;

    if (rt_read_key(a->key_file, secret, &n) != 0) {
        return -1;
    }

    key.kid = a->kid;
    key.secret = secret;
    key.secret_len = n;

    n = race_jwt_sign(tok, &key, a->iss, a->aud, &c);

    OPENSSL_cleanse(secret, sizeof(secret));

    if (n == 0) {
        rt_error("the token could not be signed (--iss or --aud too long?)");
        return -1;
    }

    rc = printf("%s\n", tok);

    if (rc < 0 || fflush(stdout) != 0) {
        rt_error("stdout: %s", strerror(errno));
        return -1;
    }

    return 0;
}


static int
rt_verify(const rt_args_t *a)
{
    char               *p, line[RACE_JWT_MAX_LEN + 2];
    size_t              n;
    uint8_t             secret[RT_KEY_FILE_MAX + 1];
    const char         *tok;
    race_jwt_rc_e       rc;
    race_jwt_key_t      key;
    race_jwt_claims_t   c;

    tok = a->verify;

    if (strcmp(tok, "-") == 0) {
        if (fgets(line, sizeof(line), stdin) == NULL) {
            rt_error("no token on stdin");
            return -1;
        }

        p = strpbrk(line, "\r\n");

        if (p) {
            *p = '\0';
        }

        tok = line;
    }

    if (rt_read_key(a->key_file, secret, &n) != 0) {
        return -1;
    }

    key.kid = a->kid;
    key.secret = secret;
    key.secret_len = n;

    rc = race_jwt_verify(tok, strlen(tok), &key, 1, a->iss, a->aud,
                         (int64_t) time(NULL), a->leeway, &c);

    OPENSSL_cleanse(secret, sizeof(secret));

    if (rc != RACE_JWT_OK) {
        rt_error("invalid token: %s", race_jwt_strerror(rc));
        return -1;
    }

    printf("valid\nkid:  %s\nsub:  %s\n", c.kid, c.sub);

    if (c.race[0]) {
        printf("race: %s\n", c.race);
    }

    if (c.role[0]) {
        printf("role: %s\n", c.role);
    }

    if (c.jti[0]) {
        printf("jti:  %s\n", c.jti);
    }

    if (c.iat) {
        rt_time("iat:  ", c.iat);
    }

    if (c.nbf) {
        rt_time("nbf:  ", c.nbf);
    }

    rt_time("exp:  ", c.exp);

    return fflush(stdout) == 0 ? 0 : -1;
}


static int
rt_gen_key(const char *path)
{
    int      fd, rc;
    char     text[RT_GEN_BYTES / 3 * 4 + 2];
    size_t   n;
    ssize_t  w;
    uint8_t  raw[RT_GEN_BYTES];

    if (RAND_bytes(raw, sizeof(raw)) != 1) {
        rt_error("RAND_bytes() failed");
        return -1;
    }

    n = (size_t) EVP_EncodeBlock((unsigned char *) text, raw, sizeof(raw));
    text[n++] = '\n';

    OPENSSL_cleanse(raw, sizeof(raw));

    /* O_EXCL: a key that tokens in the field depend on is never replaced */

    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
              0600);

    if (fd == -1) {
        rt_error("%s: %s%s", path, strerror(errno),
                 errno == EEXIST ? " (remove it to make a new key)" : "");
        OPENSSL_cleanse(text, sizeof(text));
        return -1;
    }

    rc = 0;

    /* whatever the umask */

    if (fchmod(fd, 0600) == -1) {
        rt_error("fchmod %s: %s", path, strerror(errno));
        rc = -1;
    }

    if (rc == 0) {
        w = write(fd, text, n);

        if (w != (ssize_t) n) {
            rt_error("write %s: %s", path,
                     w == -1 ? strerror(errno) : "short write");
            rc = -1;
        }
    }

    if (rc == 0 && fsync(fd) == -1) {
        rt_error("fsync %s: %s", path, strerror(errno));
        rc = -1;
    }

    if (close(fd) == -1 && rc == 0) {
        rt_error("close %s: %s", path, strerror(errno));
        rc = -1;
    }

    OPENSSL_cleanse(text, sizeof(text));

    if (rc != 0) {
        unlink(path);
        return -1;
    }

    fprintf(stderr, "race-token: wrote a new key to %s\n", path);

    return 0;
}


/* secret has room for RT_KEY_FILE_MAX + 1 bytes */

static int
rt_read_key(const char *path, uint8_t *secret, size_t *len)
{
    int          fd;
    size_t       n;
    ssize_t      r;
    struct stat  st;

    fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd == -1) {
        rt_error("%s: %s", path, strerror(errno));
        return -1;
    }

    if (fstat(fd, &st) == 0 && (st.st_mode & 0077)) {
        fprintf(stderr, "race-token: warning: %s is readable by others "
                "(chmod 600 it)\n", path);
    }

    n = 0;

    for ( ;; ) {
        r = read(fd, secret + n, RT_KEY_FILE_MAX + 1 - n);

        if (r == -1 && errno == EINTR) {
            continue;
        }

        if (r <= 0) {
            break;
        }

        n += (size_t) r;

        if (n > RT_KEY_FILE_MAX) {
            break;
        }
    }

    close(fd);

    if (r == -1) {
        rt_error("read %s: %s", path, strerror(errno));
        return -1;
    }

    if (n > RT_KEY_FILE_MAX) {
        rt_error("%s: over %d bytes, not a key file", path, RT_KEY_FILE_MAX);
        return -1;
    }

    n = race_jwt_key_trim(secret, n);

    if (n < RACE_JWT_KEY_MIN) {
        rt_error("%s: a secret of %zu bytes, at least %d are needed "
                 "(race-token --gen-key makes one)", path, n,
                 RACE_JWT_KEY_MIN);
        return -1;
    }

    *len = n;

    return 0;
}


static int
rt_number(const char *name, const char *s, int64_t min, int64_t max,
    int64_t *v)
{
    char       *end;
    long long   n;

    errno = 0;
    n = strtoll(s, &end, 10);

    if (errno != 0 || end == s || *end != '\0' || n < min || n > max) {
        rt_error("%s \"%s\": a number of seconds from %" PRId64 " to %" PRId64
                 " is needed", name, s, min, max);
        return -1;
    }

    *v = n;

    return 0;
}


static int
rt_id(const char *name, const char *s, size_t max)
{
    size_t  len;

    len = strlen(s);

    if (len == 0 || len > max || !race_id_valid(s, len)) {
        rt_error("%s \"%s\": 1 to %zu characters of A-Z a-z 0-9 _ - are "
                 "needed", name, s, max);
        return -1;
    }

    return 0;
}


static void
rt_time(const char *name, int64_t t)
{
    char       buf[32];
    time_t     tt;
    struct tm  tm;

    tt = (time_t) t;

    if (gmtime_r(&tt, &tm) != NULL
        && strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) > 0)
    {
        printf("%s%" PRId64 " (%s)\n", name, t, buf);
        return;
    }

    printf("%s%" PRId64 "\n", name, t);
}


static void
rt_usage(FILE *f)
{
    fprintf(f,
        "usage: race-token --key-file FILE --kid KID --aud AUD --sub RIDER\n"
        "                  --race RACE [--role ROLE] [--ttl SECONDS]\n"
        "                  [--nbf-in SECONDS] [--iss ISS] [--jti ID]\n"
        "       race-token --verify TOKEN|- --key-file FILE --kid KID\n"
        "                  --aud AUD [--iss ISS] [--leeway SECONDS]\n"
        "       race-token --gen-key FILE\n"
        "defaults: --iss ngx_race, --ttl %d, a random --jti\n",
        RT_TTL_DEFAULT);
}


static void
rt_error(const char *fmt, ...)
{
    va_list  ap;

    fprintf(stderr, "race-token: ");

    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);

    fprintf(stderr, "\n");
}
