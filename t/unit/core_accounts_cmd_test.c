
/*
 * ngx_race workers: unit tests of race-accounts' command parser and
 * reply builder (docs/INTERNALS.md, "Accounts"), TAP output.
 *
 * Each command kind as the module sends it; each required field
 * missing and of every wrong type, with the exact reason; the rules of
 * each field at their edges (user ids, emails and their normalisation,
 * names, roles, gen, deadlines, request ids and reply channels, a
 * revocation's token id and expiry); malformed
 * messages as a whole (not JSON, not an object, duplicate keys, huge);
 * what a refused command still tells about its sender; and the
 * replies, byte for byte, never with the hash.
 */


#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "race_accounts_cmd.h"
#include "tap.h"


#define T_ID1      "0123456789abcdef0123456789abcdef"
#define T_ID2      "fedcba9876543210fedcba9876543210"
#define T_HASH     "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21l" \
                   "c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"
#define T_REQ      "\"req\":\"r-1\""
#define T_REPLY    "\"reply\":\"race:reply:42:abcd\""
#define T_HEAD     T_REQ "," T_REPLY

#define T_USER     "\"id\":\"" T_ID1 "\",\"email\":\"ann@example.com\"," \
                   "\"name\":\"Ann\",\"hash\":\"" T_HASH "\""
#define T_SIGNUP   "{\"op\":\"signup\"," T_HEAD ",\"user\":{" T_USER "}}"
#define T_LOGOUT   "{\"op\":\"logout\"," T_HEAD ",\"user\":\"" T_ID1 "\"}"
#define T_ROLE     "{\"op\":\"role\"," T_HEAD ",\"user\":\"" T_ID1 "\"," \
                   "\"role\":\"organizer\",\"by\":\"" T_ID2 "\"}"

#define T_BUF      (2 * 1024 * 1024)

#define T_GEN_MAX  9007199254740991LL       /* 2^53 - 1 */


/* a field of a command: its key and its JSON value */
typedef struct {
    const char  *key;
    const char  *value;
} t_field_t;


static void test_signup(void);
static void test_logout(void);
static void test_role(void);
static void test_revoke(void);
static void test_reply_revoked(void);
static void test_required(void);
static void test_ids(void);
static void test_emails(void);
static void test_names(void);
static void test_roles(void);
static void test_gen(void);
static void test_deadline(void);
static void test_tokens(void);
static void test_op(void);
static void test_malformed(void);
static void test_huge(void);
static void test_err(void);
static void test_reply_ok(void);
static void test_reply_error(void);
static void test_round_trip(void);

static int parse_len(const char *data, size_t len);
static int parse(const char *json);
static void good(const char *json, const char *name);
static void bad(const char *json, const char *reason, const char *name);
static void bad_prefix(const char *json, const char *prefix,
    const char *name);
static const char *make(const t_field_t *f, size_t n, const char *key,
    const char *value);
static const char *signup_with(const char *key, const char *value);
static const char *fmt(const char *f, ...);
static const char *repeat(const char *s, size_t n);
static const char *long_email(size_t last, const char *around);
static void user_init(race_accounts_user_t *u);


static race_accounts_cmd_t  cmd;
static char                 err[RACE_ACCOUNT_ERR_MAX];
static char                *buf;        /* T_BUF: make(), fmt(), repeat() */
static char                *buf2;       /* T_BUF: signup_with() */


/* the fields of a valid command of each kind, in the module's order */

static const t_field_t  signup_fields[] = {
    { "op", "\"signup\"" },
    { "req", "\"r-1\"" },
    { "reply", "\"race:reply:42:abcd\"" },
    { "user", NULL },               /* signup_with() */
};

static const t_field_t  user_fields[] = {
    { "id", "\"" T_ID1 "\"" },
    { "email", "\"ann@example.com\"" },
    { "name", "\"Ann\"" },
    { "hash", "\"" T_HASH "\"" },
};

static const t_field_t  logout_fields[] = {
    { "op", "\"logout\"" },
    { "req", "\"r-1\"" },
    { "reply", "\"race:reply:42:abcd\"" },
    { "user", "\"" T_ID1 "\"" },
    { "gen", "3" },
};

static const t_field_t  revoke_fields[] = {
    { "op", "\"revoke\"" },
    { "req", "\"r-1\"" },
    { "reply", "\"race:reply:42:abcd\"" },
    { "jti", "\"t0123-abc_Z\"" },
    { "exp", "1732400000" },
};

static const t_field_t  role_fields[] = {
    { "op", "\"role\"" },
    { "req", "\"r-1\"" },
    { "reply", "\"race:reply:42:abcd\"" },
    { "user", "\"" T_ID1 "\"" },
    { "role", "\"organizer\"" },
    { "by", "\"" T_ID2 "\"" },
    { "gen", "3" },
};

#define T_N(a)  (sizeof(a) / sizeof(a[0]))

/* values of every JSON type but a string */
static const char *const  not_strings[] = {
    "null", "true", "false", "0", "1", "1.5", "[]", "{}", "[\"x\"]",
    "{\"a\":\"b\"}"
};


int
main(void)
{
    buf = malloc(T_BUF);
    buf2 = malloc(T_BUF);

    if (buf == NULL || buf2 == NULL) {
        printf("Bail out! no memory\n");
        return 1;
    }

    test_signup();
    test_logout();
    test_role();
    test_revoke();
    test_required();
    test_ids();
    test_emails();
    test_names();
    test_roles();
    test_gen();
    test_deadline();
    test_tokens();
    test_op();
    test_malformed();
    test_huge();
    test_err();
    test_reply_ok();
    test_reply_error();
    test_reply_revoked();
    test_round_trip();

    free(buf);
    free(buf2);

    return tap_done();
}


static void
test_signup(void)
{
    is_int(parse(T_SIGNUP), 0, "signup: parsed");
    is_int(cmd.op, RACE_ACCOUNTS_SIGNUP, "signup: op");
    is_str(cmd.req, "r-1", "signup: req");
    is_str(cmd.reply, "race:reply:42:abcd", "signup: reply");
    is_str(cmd.user.id, T_ID1, "signup: user.id");
    is_str(cmd.user.email, "ann@example.com", "signup: user.email");
    is_str(cmd.user.name, "Ann", "signup: user.name");
    is_str(cmd.user.role, "spectator", "signup: role is spectator");
    is_str(cmd.user.hash, T_HASH, "signup: user.hash");
    is_int(cmd.user.gen, 0, "signup: user.gen not set");
    is_int(cmd.user.created, 0, "signup: user.created not set");
    is_str(cmd.by, "", "signup: no by");
    is_int(cmd.gen, 0, "signup: no gen");

    good(signup_with("role", "\"spectator\""), "signup: role spectator");
    is_str(cmd.user.role, "spectator", "signup: role spectator kept");

    /* fields nobody knows are ignored, at both levels */
    good("{\"op\":\"signup\",\"x\":[1,{}]," T_HEAD ",\"user\":{" T_USER
         ",\"created\":5,\"gen\":\"x\",\"y\":null}}",
         "signup: unknown fields ignored");
    is_int(cmd.gen, 0, "signup: a gen of a signup is not read");
    is_int(cmd.user.gen, 0, "signup: nor user.gen");
    is_int(cmd.user.created, 0, "signup: nor user.created");

    /* the order of the keys does not matter */
    good("{\"user\":{\"hash\":\"" T_HASH "\",\"name\":\"Ann\",\"email\":"
         "\"ann@example.com\",\"id\":\"" T_ID1 "\"},\"reply\":\"c\","
         "\"op\":\"signup\",\"req\":\"q\"}", "signup: keys in any order");
    is_str(cmd.req, "q", "signup: keys in any order: req");
    is_str(cmd.reply, "c", "signup: keys in any order: reply");

    /* whitespace around and between tokens is JSON's */
    good(" \n{ \"op\" : \"signup\" ,\t" T_HEAD " , \"user\" : {" T_USER
         "} }\r\n", "signup: JSON whitespace");

    /* the hash: an argon2id PHC string's shape, printable, bounded */
    good(signup_with("hash", "\"$argon2id$x\""), "hash: shortest shape");
    good(signup_with("hash", fmt("\"$argon2id$%s\"",
                                 repeat("a", RACE_ACCOUNTS_HASH_MAX - 10))),
         "hash: RACE_ACCOUNTS_HASH_MAX bytes");
    is_int(strlen(cmd.user.hash), RACE_ACCOUNTS_HASH_MAX,
           "hash: RACE_ACCOUNTS_HASH_MAX bytes kept whole");
    bad(signup_with("hash", fmt("\"$argon2id$%s\"",
                                repeat("a", RACE_ACCOUNTS_HASH_MAX - 9))),
        "\"user.hash\" missing or not an argon2id hash",
        "hash: one byte too long");
    bad(signup_with("hash", "\"$argon2id$\""),
        "\"user.hash\" missing or not an argon2id hash",
        "hash: the prefix alone");
    bad(signup_with("hash", "\"$argon2i$v=19$m=19456,t=2,p=1$a$b\""),
        "\"user.hash\" missing or not an argon2id hash", "hash: argon2i");
    bad(signup_with("hash", "\"$ARGON2ID$v=19\""),
        "\"user.hash\" missing or not an argon2id hash",
        "hash: upper case prefix");
    bad(signup_with("hash", "\"secret\""),
        "\"user.hash\" missing or not an argon2id hash",
        "hash: a password");
    bad(signup_with("hash", "\"$argon2id$v=19 m\""),
        "\"user.hash\" missing or not an argon2id hash", "hash: a space");
    bad(signup_with("hash", "\"$argon2id$v=19\\n\""),
        "\"user.hash\" missing or not an argon2id hash", "hash: a newline");
    bad(signup_with("hash", "\"$argon2id$v=\u00e9\""),
        "\"user.hash\" missing or not an argon2id hash",
        "hash: not ASCII");
}


static void
test_logout(void)
{
    is_int(parse(T_LOGOUT), 0, "logout: parsed");
    is_int(cmd.op, RACE_ACCOUNTS_LOGOUT, "logout: op");
    is_str(cmd.req, "r-1", "logout: req");
    is_str(cmd.reply, "race:reply:42:abcd", "logout: reply");
    is_str(cmd.user.id, T_ID1, "logout: user");
    is_int(cmd.gen, 0, "logout: no gen");
    is_str(cmd.by, "", "logout: no by");
    is_str(cmd.user.role, "", "logout: no role");

    good(make(logout_fields, T_N(logout_fields), NULL, NULL),
         "logout: with gen");
    is_int(cmd.op, RACE_ACCOUNTS_LOGOUT, "logout with gen: op");
    is_int(cmd.gen, 3, "logout with gen: gen");
    is_str(cmd.user.id, T_ID1, "logout with gen: user");
}


static void
test_role(void)
{
    is_int(parse(T_ROLE), 0, "role: parsed");
    is_int(cmd.op, RACE_ACCOUNTS_ROLE, "role: op");
    is_str(cmd.req, "r-1", "role: req");
    is_str(cmd.reply, "race:reply:42:abcd", "role: reply");
    is_str(cmd.user.id, T_ID1, "role: user");
    is_str(cmd.user.role, "organizer", "role: role");
    is_str(cmd.by, T_ID2, "role: by");
    is_int(cmd.gen, 0, "role: no gen");

    good(make(role_fields, T_N(role_fields), NULL, NULL), "role: with gen");
    is_int(cmd.gen, 3, "role with gen: gen");

    /* an admin may name itself: whether it may is the worker's business */
    good(make(role_fields, T_N(role_fields), "by", "\"" T_ID1 "\""),
         "role: by the user itself");
}


/* each required field of each command missing, and of each wrong type */

static void
test_required(void)
{
    size_t       i, k;
    const char  *reason;

    static const struct {
        const char  *key;
        const char  *reason;
    } logout_req[] = {
        { "user", "\"user\" missing or not a user id" },
    }, role_req[] = {
        { "user", "\"user\" missing or not a user id" },
        { "by", "\"by\" missing or not a user id" },
        { "role", "\"role\" missing or not a role" },
    }, user_req[] = {
        { "id", "\"id\" missing or not a user id" },
        { "email", "\"user.email\" missing or not an email" },
        { "name", "\"user.name\" missing or not a name" },
        { "hash", "\"user.hash\" missing or not an argon2id hash" },
    }, head_req[] = {
        { "op", "\"op\" missing or unknown" },
        { "req", "\"req\" missing or not a request id" },
        { "reply", "\"reply\" missing or not a channel name" },
    };

    /* op, req and reply, in each kind of command */

    for (i = 0; i < T_N(head_req); i++) {
        reason = head_req[i].reason;

        bad(make(logout_fields, T_N(logout_fields), head_req[i].key, NULL),
            reason, fmt("logout without %s", head_req[i].key));
        bad(make(role_fields, T_N(role_fields), head_req[i].key, NULL),
            reason, fmt("role without %s", head_req[i].key));
        bad(signup_with(head_req[i].key, NULL), reason,
            fmt("signup without %s", head_req[i].key));

        for (k = 0; k < T_N(not_strings); k++) {
            bad(make(logout_fields, T_N(logout_fields), head_req[i].key,
                     not_strings[k]),
                reason, fmt("logout: %s %s", head_req[i].key,
                            not_strings[k]));
        }
    }

    for (i = 0; i < T_N(logout_req); i++) {
        bad(make(logout_fields, T_N(logout_fields), logout_req[i].key, NULL),
            logout_req[i].reason,
            fmt("logout without %s", logout_req[i].key));

        for (k = 0; k < T_N(not_strings); k++) {
            bad(make(logout_fields, T_N(logout_fields), logout_req[i].key,
                     not_strings[k]),
                logout_req[i].reason,
                fmt("logout: %s %s", logout_req[i].key, not_strings[k]));
        }
    }

    for (i = 0; i < T_N(role_req); i++) {
        bad(make(role_fields, T_N(role_fields), role_req[i].key, NULL),
            role_req[i].reason, fmt("role without %s", role_req[i].key));

        for (k = 0; k < T_N(not_strings); k++) {
            bad(make(role_fields, T_N(role_fields), role_req[i].key,
                     not_strings[k]),
                role_req[i].reason,
                fmt("role: %s %s", role_req[i].key, not_strings[k]));
        }
    }

    /* a signup's user and its fields */

    bad(signup_with("user", NULL), "\"user\" missing or not an object",
        "signup without user");

    for (k = 0; k < T_N(not_strings); k++) {
        if (not_strings[k][0] == '{') {
            continue;
        }

        bad(signup_with("user", not_strings[k]),
            "\"user\" missing or not an object",
            fmt("signup: user %s", not_strings[k]));
    }

    bad(signup_with("user", "\"" T_ID1 "\""),
        "\"user\" missing or not an object", "signup: user an id");
    bad(signup_with("user", "{}"), "\"id\" missing or not a user id",
        "signup: user {}");

    for (i = 0; i < T_N(user_req); i++) {
        bad(signup_with(user_req[i].key, NULL), user_req[i].reason,
            fmt("signup without user.%s", user_req[i].key));

        for (k = 0; k < T_N(not_strings); k++) {
            bad(signup_with(user_req[i].key, not_strings[k]),
                user_req[i].reason,
                fmt("signup: user.%s %s", user_req[i].key, not_strings[k]));
        }
    }

    /* the fields of a signup's user are not read at the top level */
    bad("{\"op\":\"signup\"," T_HEAD "," T_USER "}",
        "\"user\" missing or not an object", "signup: user's fields flat");

    /* nor is a logout's user an object */
    bad("{\"op\":\"logout\"," T_HEAD ",\"user\":{\"id\":\"" T_ID1 "\"}}",
        "\"user\" missing or not a user id", "logout: user an object");
}


static void
test_ids(void)
{
    size_t       i;
    const char  *id;

    static const char *const  bad_ids[] = {
        "",
        "0",
        "0123456789abcdef0123456789abcde",                  /* 31 */
        "0123456789abcdef0123456789abcdef0",                /* 33 */
        "0123456789ABCDEF0123456789abcdef",                 /* upper */
        "0123456789abcdef0123456789abcdeF",
        "0123456789abcdef0123456789abcdeg",
        "0123456789abcdef 123456789abcdef",
        " 0123456789abcdef0123456789abcde",
        "0123456789abcdef0123456789abcde ",
        "0123456789abcdef-0123456789abcde",
        "0x23456789abcdef0123456789abcdef",
        "0123456789abcdef0123456789abcd\\u00e9",
    };

    ok(race_accounts_id_valid(T_ID1, 32), "id_valid: 32 hex");
    ok(race_accounts_id_valid("00000000000000000000000000000000", 32),
       "id_valid: zeros");
    ok(race_accounts_id_valid("ffffffffffffffffffffffffffffffff", 32),
       "id_valid: f's");
    ok(!race_accounts_id_valid(T_ID1, 31), "id_valid: 31 of 32");
    ok(!race_accounts_id_valid(T_ID1 "0", 33), "id_valid: 33");
    ok(!race_accounts_id_valid("", 0), "id_valid: empty");
    ok(!race_accounts_id_valid("0123456789ABCDEF0123456789abcdef", 32),
       "id_valid: upper case");
    ok(!race_accounts_id_valid("0123456789abcdef\0" "123456789abcdef", 32),
       "id_valid: a NUL");

    for (i = 0; i < T_N(bad_ids); i++) {
        id = fmt("\"%s\"", bad_ids[i]);
        id = strcpy(buf2, id);

        bad(make(logout_fields, T_N(logout_fields), "user", id),
            "\"user\" missing or not a user id",
            fmt("logout: user %s", id));
        bad(make(role_fields, T_N(role_fields), "user", id),
            "\"user\" missing or not a user id", fmt("role: user %s", id));
        bad(make(role_fields, T_N(role_fields), "by", id),
            "\"by\" missing or not a user id", fmt("role: by %s", id));
        bad(signup_with("id", id), "\"id\" missing or not a user id",
            fmt("signup: user.id %s", id));
    }

    /* jansson refuses NULs in strings: an id cannot hide one */
    bad_prefix(make(logout_fields, T_N(logout_fields), "user",
                    "\"0123456789abcdef0123456789abcde\\u0000\""),
               "not JSON", "logout: user with a NUL");
}


static void
test_emails(void)
{
    size_t       i;
    const char  *e;

    static const struct {
        const char  *in;
        const char  *out;
    } good_emails[] = {
        { "ann@example.com", "ann@example.com" },
        { "Ann@Example.COM", "ann@example.com" },
        { "  ann@example.com  ", "ann@example.com" },
        { "\\t\\r\\nANN@EXAMPLE.COM\\n\\f\\u000b", "ann@example.com" },
        { "First.Last+Tag@Sub.Example.org",
          "first.last+tag@sub.example.org" },
        { "a@b.c", "a@b.c" },
        { "x!#$%&'*/=?^_`{|}~-@a-b.c0", "x!#$%&'*/=?^_`{|}~-@a-b.c0" },
        { ".a.@xn--bcher-kva.example", ".a.@xn--bcher-kva.example" },
    };

    static const char *const  bad_emails[] = {
        "",
        "   ",
        "ann",
        "ann.example.com",
        "@example.com",
        "ann@",
        "ann@@example.com",
        "a@b@example.com",
        "ann@localhost",
        "ann@example..com",
        "ann@.example.com",
        "ann@example.com.",
        "ann@-example.com",
        "ann@example-.com",
        "ann@exa_mple.com",
        "a nn@example.com",
        "ann@exa mple.com",
        "a\\tnn@example.com",
        "\\\"ann\\\"@example.com",
        "a(b)@example.com",
        "a,b@example.com",
        "a;b@example.com",
        "a:b@example.com",
        "a<b>@example.com",
        "a[b]@example.com",
        "a\\\\b@example.com",
        "ann@[127.0.0.1]",
        "j\u00f6rg@example.com",
        "jorg@b\u00fccher.example",
        "ann@example.com\\u007f",
    };

    for (i = 0; i < T_N(good_emails); i++) {
        e = strcpy(buf2, fmt("\"%s\"", good_emails[i].in));

        /* signup_with() builds in buf2 too: the value goes first */
        e = strcpy(buf2 + T_BUF / 2, e);

        good(signup_with("email", e), fmt("email %s", e));
        is_str(cmd.user.email, good_emails[i].out,
               "email %s: normalised", e);
        is_int(race_email_normalize(cmd.user.email, strlen(cmd.user.email),
                                    buf, RACE_EMAIL_MAX + 1),
               strlen(good_emails[i].out), "email %s: normal already", e);
    }

    for (i = 0; i < T_N(bad_emails); i++) {
        e = strcpy(buf2 + T_BUF / 2, fmt("\"%s\"", bad_emails[i]));

        bad(signup_with("email", e),
            "\"user.email\" missing or not an email", fmt("email %s", e));
    }

    /* the lengths: local part 64, domain 253 and labels 63, 254 in all */

    e = strcpy(buf2 + T_BUF / 2,
               fmt("\"%s@example.com\"", repeat("a", 64)));
    good(signup_with("email", e), "email: local part of 64");
    e = strcpy(buf2 + T_BUF / 2,
               fmt("\"%s@example.com\"", repeat("a", 65)));
    bad(signup_with("email", e), "\"user.email\" missing or not an email",
        "email: local part of 65");

    e = strcpy(buf2 + T_BUF / 2, fmt("\"a@%s.com\"", repeat("b", 63)));
    good(signup_with("email", e), "email: label of 63");
    e = strcpy(buf2 + T_BUF / 2, fmt("\"a@%s.com\"", repeat("b", 64)));
    bad(signup_with("email", e), "\"user.email\" missing or not an email",
        "email: label of 64");

    /* 64 + 1 + 63 + 1 + 63 + 1 + 61 = 254 */
    e = long_email(61, "");
    good(signup_with("email", e), "email: 254 bytes");
    is_int(strlen(cmd.user.email), 254, "email: 254 bytes kept whole");
    is_int(cmd.user.email[0], 'l', "email: 254 bytes lower-cased");

    e = long_email(62, "");
    bad(signup_with("email", e), "\"user.email\" missing or not an email",
        "email: 255 bytes");

    /* whitespace around does not count against the length */
    e = long_email(61, "   ");
    good(signup_with("email", e), "email: 254 bytes and spaces around");
    is_int(strlen(cmd.user.email), 254, "email: spaces around trimmed");
}


static void
test_names(void)
{
    size_t       i;
    const char  *n;

    static const char *const  good_names[] = {
        "Ann",
        "A",
        "Zo\u00eb \u00dcnal",
        "\\u00c5sa \\\"the rocket\\\" \\\\ \\/",
        "\u738b\u5c0f\u660e",
        "\xf0\x9f\x9a\xb4 rider",
        " Ann ",
        "~",
    };

    static const char *const  bad_names[] = {
        "",
        " ",
        "     ",
        "Ann\\tLee",
        "Ann\\nLee",
        "Ann\\r",
        "\\u001f",
        "Ann\\u007f",
        "Ann\\u0080",
        "Ann\\u0085",
        "Ann\\u009f",
    };

    for (i = 0; i < T_N(good_names); i++) {
        n = strcpy(buf2 + T_BUF / 2, fmt("\"%s\"", good_names[i]));
        good(signup_with("name", n), fmt("name %s", n));
    }

    good(signup_with("name", "\"Zo\\u00eb\""), "name: escaped UTF-8");
    is_str(cmd.user.name, "Zo\xc3\xab", "name: kept as UTF-8");
    good(signup_with("name", "\" Ann \""), "name: spaces around");
    is_str(cmd.user.name, " Ann ", "name: kept as it is");
    good(signup_with("name", "\"\\u00a0\""), "name: a no-break space");

    for (i = 0; i < T_N(bad_names); i++) {
        n = strcpy(buf2 + T_BUF / 2, fmt("\"%s\"", bad_names[i]));
        bad(signup_with("name", n), "\"user.name\" missing or not a name",
            fmt("name %s", n));
    }

    /* RACE_NAME_MAX code points, whatever their size in bytes */

    n = strcpy(buf2 + T_BUF / 2,
               fmt("\"%s\"", repeat("a", RACE_NAME_MAX)));
    good(signup_with("name", n), "name: 100 ASCII");
    n = strcpy(buf2 + T_BUF / 2,
               fmt("\"%s\"", repeat("a", RACE_NAME_MAX + 1)));
    bad(signup_with("name", n), "\"user.name\" missing or not a name",
        "name: 101 ASCII");

    n = strcpy(buf2 + T_BUF / 2,
               fmt("\"%s\"", repeat("\xf0\x9f\x9a\xb4", RACE_NAME_MAX)));
    good(signup_with("name", n), "name: 100 of 4 bytes");
    is_int(strlen(cmd.user.name), RACE_ACCOUNTS_NAME_MAX,
           "name: 100 of 4 bytes kept whole");
    n = strcpy(buf2 + T_BUF / 2,
               fmt("\"%s\"", repeat("\xf0\x9f\x9a\xb4", RACE_NAME_MAX + 1)));
    bad(signup_with("name", n), "\"user.name\" missing or not a name",
        "name: 101 of 4 bytes");

    n = strcpy(buf2 + T_BUF / 2,
               fmt("\"%s\"", repeat("\\ud83d\\udeb4", RACE_NAME_MAX)));
    good(signup_with("name", n), "name: 100 escaped surrogate pairs");
    is_int(strlen(cmd.user.name), RACE_ACCOUNTS_NAME_MAX,
           "name: 100 surrogate pairs, 400 bytes");

    /* what jansson refuses before the parser sees it */
    bad_prefix(signup_with("name", "\"Ann\\u0000\""), "not JSON",
               "name: a NUL");
    bad_prefix(signup_with("name", "\"Ann\xff\""), "not JSON",
               "name: not UTF-8");
    bad_prefix(signup_with("name", "\"Ann\xc3\""), "not JSON",
               "name: a truncated sequence");
    bad_prefix(signup_with("name", "\"\\ud83d\""), "not JSON",
               "name: a lone surrogate");
    bad_prefix(signup_with("name", "\"A\nB\""), "not JSON",
               "name: a raw line break");
}


static void
test_roles(void)
{
    size_t       i;
    const char  *r;

    static const char *const  roles[] = {
        "admin", "organizer", "rider", "spectator"
    };

    static const char *const  bad_roles[] = {
        "", "Admin", "ADMIN", "root", "admin ", " admin", "admins",
        "spectators", "rid", "organiser", "user", "admin,rider"
    };

    for (i = 0; i < T_N(roles); i++) {
        r = strcpy(buf2, fmt("\"%s\"", roles[i]));

        good(make(role_fields, T_N(role_fields), "role", r),
             fmt("role %s", r));
        is_str(cmd.user.role, roles[i], "role %s: kept", r);
    }

    for (i = 0; i < T_N(bad_roles); i++) {
        r = strcpy(buf2, fmt("\"%s\"", bad_roles[i]));

        bad(make(role_fields, T_N(role_fields), "role", r),
            "\"role\" missing or not a role", fmt("role %s", r));
    }

    bad_prefix(make(role_fields, T_N(role_fields), "role",
                    "\"admin\\u0000\""),
               "not JSON", "role: admin and a NUL");

    /* a signup makes a spectator, whatever it asks */

    for (i = 0; i < T_N(roles); i++) {
        r = strcpy(buf2 + T_BUF / 2, fmt("\"%s\"", roles[i]));

        if (strcmp(roles[i], "spectator") == 0) {
            good(signup_with("role", r), "signup: role spectator");
            continue;
        }

        bad(signup_with("role", r), "\"user.role\" is not spectator",
            fmt("signup: role %s", r));
    }

    for (i = 0; i < T_N(not_strings); i++) {
        bad(signup_with("role", not_strings[i]),
            "\"user.role\" is not spectator",
            fmt("signup: role %s", not_strings[i]));
    }

    bad(signup_with("role", "\"Spectator\""), "\"user.role\" is not "
        "spectator", "signup: role Spectator");
    bad(signup_with("role", "\"\""), "\"user.role\" is not spectator",
        "signup: role empty");
}


static void
test_gen(void)
{
    size_t       i;
    const char  *g;

    static const struct {
        const char  *json;
        long long    gen;
    } good_gens[] = {
        { "1", 1 },
        { "2", 2 },
        { "1000000", 1000000 },
        { "9007199254740990", T_GEN_MAX - 1 },
    };

    static const char *const  out_of_range[] = {
        "0", "-0", "-1", "-9007199254740990", "9007199254740991",
        "9007199254740992", "9223372036854775807", "-9223372036854775808"
    };

    static const char *const  not_integers[] = {
        "1.0", "1e0", "1E3", "0.5", "-1.5", "\"1\"", "\"\"", "null", "true",
        "false", "[]", "[1]", "{}", "{\"gen\":1}"
    };

    for (i = 0; i < T_N(good_gens); i++) {
        g = good_gens[i].json;

        good(make(logout_fields, T_N(logout_fields), "gen", g),
             fmt("logout: gen %s", g));
        is_int(cmd.gen, good_gens[i].gen, "logout: gen %s: read", g);
        good(make(role_fields, T_N(role_fields), "gen", g),
             fmt("role: gen %s", g));
        is_int(cmd.gen, good_gens[i].gen, "role: gen %s: read", g);
    }

    /*
     * 0 means "no gen named": the module sends the gen of the token,
     * which starts at 1.  The last one is refused, as the worker moves
     * gen on by one and must stay below 2^53.
     */

    for (i = 0; i < T_N(out_of_range); i++) {
        g = out_of_range[i];

        bad(make(logout_fields, T_N(logout_fields), "gen", g),
            "\"gen\" is out of range", fmt("logout: gen %s", g));
        bad(make(role_fields, T_N(role_fields), "gen", g),
            "\"gen\" is out of range", fmt("role: gen %s", g));
    }

    for (i = 0; i < T_N(not_integers); i++) {
        g = not_integers[i];

        bad(make(logout_fields, T_N(logout_fields), "gen", g),
            "\"gen\" is not an integer", fmt("logout: gen %s", g));
        bad(make(role_fields, T_N(role_fields), "gen", g),
            "\"gen\" is not an integer", fmt("role: gen %s", g));
    }

    /* beyond int64: jansson refuses the number itself */
    bad_prefix(make(logout_fields, T_N(logout_fields), "gen",
                    "9223372036854775808"),
               "not JSON", "logout: gen 2^63");
    bad_prefix(make(logout_fields, T_N(logout_fields), "gen",
                    "99999999999999999999999"),
               "not JSON", "logout: gen 10^23");
}


/*
 * "deadline", optional, Unix ms: a command past it is not applied.  One
 * without is applied whenever it comes, as before deadlines were sent.
 */

static void
test_deadline(void)
{
    size_t       i;
    const char  *d;

    static const struct {
        const char  *json;
        long long    deadline;
    } good_deadlines[] = {
        { "1", 1 },
        { "1733350000000", 1733350000000LL },
        { "9007199254740991", T_GEN_MAX },
    };

    static const char *const  out_of_range[] = {
        "0", "-0", "-1", "-1733350000000", "9007199254740992",
        "9223372036854775807", "-9223372036854775808"
    };

    static const char *const  not_integers[] = {
        "1.0", "1e3", "1733350000000.5", "\"1733350000000\"", "\"\"",
        "null", "true", "false", "[]", "[1]", "{}"
    };

    good(T_LOGOUT, "no deadline");
    is_int(cmd.deadline, 0, "no deadline: 0");
    is_int(race_accounts_cmd_expired(&cmd, T_GEN_MAX), 0,
           "no deadline: never expired");

    for (i = 0; i < T_N(good_deadlines); i++) {
        d = good_deadlines[i].json;

        good(fmt("{\"op\":\"logout\"," T_HEAD ",\"deadline\":%s,"
                 "\"user\":\"" T_ID1 "\"}", d),
             fmt("logout: deadline %s", d));
        is_int(cmd.deadline, good_deadlines[i].deadline,
               "logout: deadline %s: read", d);
    }

    good(fmt("{\"op\":\"signup\"," T_HEAD ",\"deadline\":1733350000000,"
             "\"user\":{" T_USER "}}"),
         "signup with a deadline");
    is_int(cmd.op, RACE_ACCOUNTS_SIGNUP, "signup with a deadline: op");
    is_int(cmd.deadline, 1733350000000LL, "signup with a deadline: read");

    good(fmt("{\"op\":\"role\"," T_HEAD ",\"user\":\"" T_ID1 "\","
             "\"role\":\"organizer\",\"by\":\"" T_ID2 "\","
             "\"deadline\":1733350000000}"),
         "role with a deadline");
    is_int(cmd.op, RACE_ACCOUNTS_ROLE, "role with a deadline: op");
    is_int(cmd.deadline, 1733350000000LL, "role with a deadline: read");

    /* the last moment is still in time */

    is_int(race_accounts_cmd_expired(&cmd, 1733349999999LL), 0,
           "expired: before the deadline, no");
    is_int(race_accounts_cmd_expired(&cmd, 1733350000000LL), 0,
           "expired: at the deadline, no");
    is_int(race_accounts_cmd_expired(&cmd, 1733350000001LL), 1,
           "expired: after the deadline, yes");

    for (i = 0; i < T_N(out_of_range); i++) {
        d = out_of_range[i];

        bad(fmt("{\"op\":\"logout\"," T_HEAD ",\"deadline\":%s,"
                "\"user\":\"" T_ID1 "\"}", d),
            "\"deadline\" is out of range", fmt("deadline %s", d));
        is_str(cmd.req, "r-1", "deadline %s: req kept to answer", d);
    }

    for (i = 0; i < T_N(not_integers); i++) {
        d = not_integers[i];

        bad(fmt("{\"op\":\"signup\"," T_HEAD ",\"deadline\":%s,"
                "\"user\":{" T_USER "}}", d),
            "\"deadline\" is not an integer", fmt("deadline %s", d));
        is_str(cmd.reply, "race:reply:42:abcd",
               "deadline %s: reply kept to answer", d);
    }
}


/* req, 1 to 128, and reply, 1 to 255, printable ASCII bytes, no spaces */

static void
test_tokens(void)
{
    size_t       i;
    const char  *v;

    static const char *const  bad_tokens[] = {
        "", " ", "a b", " a", "a ", "a\\tb", "a\\n", "\\u0001", "a\\u007f",
        "\u00e9", "a\\u00e9", "\\u2028"
    };

    good(make(logout_fields, T_N(logout_fields), "req", "\"q\""),
         "req of 1");
    is_str(cmd.req, "q", "req of 1: kept");
    good(make(logout_fields, T_N(logout_fields), "reply", "\"c\""),
         "reply of 1");
    is_str(cmd.reply, "c", "reply of 1: kept");

    v = "\"!\\\"#$%&'()*+,-./09:;<=>?@AZ[\\\\]^_`az{|}~\"";
    good(make(logout_fields, T_N(logout_fields), "req", v),
         "req: all kinds of printable ASCII");
    is_str(cmd.req, "!\"#$%&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~",
           "req: printable ASCII kept");
    good(make(logout_fields, T_N(logout_fields), "reply", v),
         "reply: all kinds of printable ASCII");

    v = strcpy(buf2, fmt("\"%s\"", repeat("q", RACE_ACCOUNTS_REQ_MAX)));
    good(make(logout_fields, T_N(logout_fields), "req", v), "req of 128");
    is_int(strlen(cmd.req), RACE_ACCOUNTS_REQ_MAX, "req of 128: whole");
    v = strcpy(buf2, fmt("\"%s\"", repeat("q", RACE_ACCOUNTS_REQ_MAX + 1)));
    bad(make(logout_fields, T_N(logout_fields), "req", v),
        "\"req\" missing or not a request id", "req of 129");
    is_str(cmd.reply, "race:reply:42:abcd", "req of 129: reply still read");

    v = strcpy(buf2, fmt("\"%s\"", repeat("c", RACE_ACCOUNTS_CHANNEL_MAX)));
    good(make(logout_fields, T_N(logout_fields), "reply", v),
         "reply of 255");
    is_int(strlen(cmd.reply), RACE_ACCOUNTS_CHANNEL_MAX,
           "reply of 255: whole");
    v = strcpy(buf2,
               fmt("\"%s\"", repeat("c", RACE_ACCOUNTS_CHANNEL_MAX + 1)));
    bad(make(logout_fields, T_N(logout_fields), "reply", v),
        "\"reply\" missing or not a channel name", "reply of 256");

    for (i = 0; i < T_N(bad_tokens); i++) {
        v = strcpy(buf2, fmt("\"%s\"", bad_tokens[i]));

        bad(make(logout_fields, T_N(logout_fields), "req", v),
            "\"req\" missing or not a request id", fmt("req %s", v));
        bad(make(logout_fields, T_N(logout_fields), "reply", v),
            "\"reply\" missing or not a channel name", fmt("reply %s", v));
    }

    /* a refused command tells whom to answer, if it can */

    bad(make(logout_fields, T_N(logout_fields), "user", "\"x\""),
        "\"user\" missing or not a user id", "bad user");
    is_str(cmd.req, "r-1", "bad user: req still read");
    is_str(cmd.reply, "race:reply:42:abcd", "bad user: reply still read");

    bad(signup_with("hash", NULL),
        "\"user.hash\" missing or not an argon2id hash", "bad hash");
    is_str(cmd.req, "r-1", "bad hash: req still read");
    is_str(cmd.reply, "race:reply:42:abcd", "bad hash: reply still read");

    bad(make(logout_fields, T_N(logout_fields), "op", "\"x\""),
        "\"op\" missing or unknown", "bad op");
    is_str(cmd.req, "r-1", "bad op: req still read");
    is_str(cmd.reply, "race:reply:42:abcd", "bad op: reply still read");

    bad(make(logout_fields, T_N(logout_fields), "req", NULL),
        "\"req\" missing or not a request id", "no req");
    is_str(cmd.req, "", "no req: req empty");
    is_str(cmd.reply, "race:reply:42:abcd", "no req: reply still read");

    bad(make(logout_fields, T_N(logout_fields), "reply", "1"),
        "\"reply\" missing or not a channel name", "no reply");
    is_str(cmd.reply, "", "no reply: reply empty");
    is_str(cmd.req, "", "no reply: req not read, no one to tell");
}


static void
test_op(void)
{
    size_t  i;

    static const char *const  ops[] = {
        "\"\"", "\"Signup\"", "\"SIGNUP\"", "\"signup \"", "\"sign up\"",
        "\"login\"", "\"delete\"", "\"logouts\"", "\"rol\"", "\"roles\"",
        "\"signup\\u0000\"", "null", "1", "true", "[\"signup\"]",
        "{\"signup\":1}"
    };

    for (i = 0; i < T_N(ops); i++) {
        if (strstr(ops[i], "\\u0000") != NULL) {
            bad_prefix(make(logout_fields, T_N(logout_fields), "op", ops[i]),
                       "not JSON", fmt("op %s", ops[i]));
            continue;
        }

        bad(make(logout_fields, T_N(logout_fields), "op", ops[i]),
            "\"op\" missing or unknown", fmt("op %s", ops[i]));
    }

    /* the other kinds' fields do not make a command of another kind */
    bad(make(logout_fields, T_N(logout_fields), "op", "\"role\""),
        "\"by\" missing or not a user id", "logout's fields as a role");
    bad(make(role_fields, T_N(role_fields), "op", "\"signup\""),
        "\"user\" missing or not an object", "role's fields as a signup");
    good(make(role_fields, T_N(role_fields), "op", "\"logout\""),
         "role's fields as a logout: a logout");
    is_int(cmd.op, RACE_ACCOUNTS_LOGOUT, "role's fields as a logout: op");
}


static void
test_malformed(void)
{
    char    *exact;
    size_t   i;

    static const char *const  not_json[] = {
        "{", "}", "{\"op\"}", "{\"op\":}", "nul", "{'op':'logout'}",
        "{\"op\":\"logout\",}", "\"logout\"", "1", "null", "true",
        T_LOGOUT "}", T_LOGOUT " x", T_LOGOUT T_LOGOUT, "\xef\xbb\xbf{}",
        "{\"op\":\"logout\"\x01}", "/* */{}"
    };

    static const char *const  not_object[] = {
        "[]", "[" T_LOGOUT "]", "[1,2]"
    };

    is_int(parse_len(NULL, 0), -1, "NULL");
    is_str(err, "empty message", "NULL: reason");
    is_int(parse_len("", 0), -1, "empty");
    is_str(err, "empty message", "empty: reason");
    is_int(parse_len(T_LOGOUT, 0), -1, "length 0");
    is_str(err, "empty message", "length 0: reason");

    for (i = 0; i < T_N(not_json); i++) {
        bad_prefix(not_json[i], "not JSON (at byte ",
                   fmt("not JSON: %s", not_json[i]));
    }

    bad("{\"op\":\"logout\"x", "not JSON (at byte 15)",
        "not JSON: where it failed");

    for (i = 0; i < T_N(not_object); i++) {
        bad(not_object[i], "not a JSON object",
            fmt("not an object: %s", not_object[i]));
    }

    bad("{}", "\"reply\" missing or not a channel name", "{}");

    /* duplicate keys, at the top and inside user */

    bad_prefix("{\"op\":\"logout\",\"op\":\"logout\"," T_HEAD ",\"user\":\""
               T_ID1 "\"}", "not JSON", "duplicate op");
    bad_prefix("{\"op\":\"logout\"," T_HEAD "," T_REQ ",\"user\":\"" T_ID1
               "\"}", "not JSON", "duplicate req");
    bad_prefix("{\"op\":\"logout\"," T_HEAD ",\"user\":\"" T_ID1 "\","
               "\"user\":\"" T_ID2 "\"}", "not JSON", "duplicate user");
    bad_prefix("{\"op\":\"signup\"," T_HEAD ",\"user\":{" T_USER
               ",\"email\":\"bob@example.com\"}}", "not JSON",
               "duplicate user.email");
    bad_prefix("{\"op\":\"signup\"," T_HEAD ",\"x\":{\"a\":1,\"a\":2},"
               "\"user\":{" T_USER "}}", "not JSON",
               "duplicate key in an unknown field");

    /* the length given is what is read */

    strcpy(buf2, T_LOGOUT "garbage");
    is_int(parse_len(buf2, strlen(T_LOGOUT)), 0, "only len bytes read");
    is_int(parse_len(buf2, strlen(T_LOGOUT) - 1), -1, "one byte short");
    ok(strncmp(err, "not JSON", 8) == 0, "one byte short: not JSON");

    /* an allocation of its exact size: ASan sees a read past it */
    exact = malloc(sizeof(T_LOGOUT) - 1);

    if (exact != NULL) {
        memcpy(exact, T_LOGOUT, sizeof(T_LOGOUT) - 1);
        is_int(parse_len(exact, sizeof(T_LOGOUT) - 1), 0,
               "not NUL-terminated");
        free(exact);
    }

    is_int(parse_len(T_LOGOUT, sizeof(T_LOGOUT)), -1, "a NUL after it");
    ok(strncmp(err, "not JSON", 8) == 0, "a NUL after it: not JSON");
}


static void
test_huge(void)
{
    char    *big;
    size_t   n;

    /* a megabyte of something nobody reads */
    n = (size_t) snprintf(buf2, T_BUF, "{\"pad\":\"%s\",",
                          repeat("p", 1024 * 1024));
    snprintf(buf2 + n, T_BUF - n, "%s", T_LOGOUT + 1);
    good(buf2, "a megabyte unknown field");

    /* a megabyte where a bounded field is */
    big = malloc(1024 * 1024 + 3);

    if (big == NULL) {
        ok(0, "no memory for a megabyte");
        return;
    }

    snprintf(big, 1024 * 1024 + 3, "\"%s\"", repeat("n", 1024 * 1024));
    bad(signup_with("name", big), "\"user.name\" missing or not a name",
        "a megabyte name");
    bad(signup_with("email", big), "\"user.email\" missing or not an "
        "email", "a megabyte email");
    bad(signup_with("hash", big), "\"user.hash\" missing or not an "
        "argon2id hash", "a megabyte hash");
    bad(make(logout_fields, T_N(logout_fields), "req", big),
        "\"req\" missing or not a request id", "a megabyte req");
    bad(make(logout_fields, T_N(logout_fields), "reply", big),
        "\"reply\" missing or not a channel name", "a megabyte reply");
    bad(make(logout_fields, T_N(logout_fields), "op", big),
        "\"op\" missing or unknown", "a megabyte op");

    free(big);

    /* deep nesting: jansson's depth limit, no stack overflow */
    n = (size_t) snprintf(buf2, T_BUF, "{\"x\":%s", repeat("[", 500000));
    bad_prefix(buf2, "not JSON", "500000 nested arrays");

    memcpy(buf2, repeat("{\"a\":", 100000), 500000);
    strcpy(buf2 + 500000, "1");
    bad_prefix(buf2, "not JSON", "100000 nested objects unclosed");

    /* many keys */
    n = 0;
    buf2[n++] = '{';

    while (n < 1024 * 1024) {
        n += (size_t) snprintf(buf2 + n, T_BUF - n, "\"k%zu\":%zu,", n, n);
    }

    snprintf(buf2 + n, T_BUF - n, "%s", T_ROLE + 1);
    good(buf2, "a megabyte of keys");
    is_int(cmd.op, RACE_ACCOUNTS_ROLE, "a megabyte of keys: op");
}


static void
test_err(void)
{
    char  small[8];

    /* the reason never quotes what it refuses */

    bad(signup_with("email", "\"secret@example\""),
        "\"user.email\" missing or not an email", "email refused");
    ok(strstr(err, "secret") == NULL, "email refused: not quoted");
    bad(signup_with("name", "\"Secret\\n\""),
        "\"user.name\" missing or not a name", "name refused");
    ok(strstr(err, "Secret") == NULL, "name refused: not quoted");
    bad(signup_with("hash", "\"secret\""),
        "\"user.hash\" missing or not an argon2id hash", "hash refused");
    ok(strstr(err, "secret") == NULL, "hash refused: not quoted");
    bad_prefix("{\"secret\" \"x\"}", "not JSON", "not JSON");
    ok(strstr(err, "secret") == NULL, "not JSON: not quoted");

    /* a small err holds the beginning, terminated */

    memset(small, 'x', sizeof(small));
    is_int(race_accounts_cmd_parse("[]", 2, &cmd, small, sizeof(small)), -1,
           "small err: refused");
    is_str(small, "not a J", "small err: truncated and terminated");

    is_int(race_accounts_cmd_parse("[]", 2, &cmd, small, 1), -1,
           "err of 1: refused");
    is_str(small, "", "err of 1: empty");

    is_int(race_accounts_cmd_parse("[]", 2, &cmd, NULL, 0), -1,
           "no err: refused");

    is_int(race_accounts_cmd_parse(T_LOGOUT, sizeof(T_LOGOUT) - 1, &cmd,
                                   NULL, 0),
           0, "no err: parsed");

    /* a refused command leaves no op, whatever was there */
    parse(T_ROLE);
    bad(make(role_fields, T_N(role_fields), "by", NULL),
        "\"by\" missing or not a user id", "refused after a good one");
    is_int(cmd.op, RACE_ACCOUNTS_NONE, "refused after a good one: no op");
    is_int(cmd.gen, 0, "refused after a good one: no gen");
}


static void
test_reply_ok(void)
{
    char                   out[RACE_ACCOUNTS_REPLY_SIZE];
    size_t                 n, want;
    race_accounts_user_t   u;

    static const char  expect[] =
        "{\"req\":\"r-1\",\"ok\":true,\"user\":{\"id\":\"" T_ID1 "\","
        "\"email\":\"ann@example.com\",\"name\":\"Ann\",\"role\":\"rider\","
        "\"gen\":3}}";

    user_init(&u);

    n = race_accounts_reply_ok("r-1", &u, out, sizeof(out));
    is_str(out, expect, "reply ok: exact");
    is_int(n, sizeof(expect) - 1, "reply ok: its length");
    ok(strstr(out, "hash") == NULL && strstr(out, "argon2") == NULL,
       "reply ok: no hash");
    ok(strstr(out, "created") == NULL, "reply ok: no created");

    n = race_accounts_reply_ok("", &u, out, sizeof(out));
    is_str(out, "{\"ok\":true,\"user\":{\"id\":\"" T_ID1 "\",\"email\":"
           "\"ann@example.com\",\"name\":\"Ann\",\"role\":\"rider\","
           "\"gen\":3}}", "reply ok without req: exact");
    is_int(n, strlen(out), "reply ok without req: its length");

    /* escaping */

    strcpy(u.name, "Zo\xc3\xab \"Z\" \\ /");
    u.gen = T_GEN_MAX;
    n = race_accounts_reply_ok("a\"b\\c", &u, out, sizeof(out));
    is_str(out, "{\"req\":\"a\\\"b\\\\c\",\"ok\":true,\"user\":{\"id\":\""
           T_ID1 "\",\"email\":\"ann@example.com\",\"name\":\"Zo\xc3\xab "
           "\\\"Z\\\" \\\\ /\",\"role\":\"rider\",\"gen\":9007199254740991}}",
           "reply ok: escaped, UTF-8 as it is");
    is_int(n, strlen(out), "reply ok escaped: its length");

    /* the room: exactly enough, one byte short */

    user_init(&u);
    want = sizeof(expect) - 1;

    memset(out, 'x', sizeof(out));
    is_int(race_accounts_reply_ok("r-1", &u, out, want + 1), want,
           "reply ok: room for it and the NUL");
    is_str(out, expect, "reply ok: room for it and the NUL: exact");

    memset(out, 'x', sizeof(out));
    is_int(race_accounts_reply_ok("r-1", &u, out, want), 0,
           "reply ok: no room for the NUL");
    ok(out[want] == 'x', "reply ok: no room: nothing past size");
    is_int(race_accounts_reply_ok("r-1", &u, out, 10), 0,
           "reply ok: little room");
    is_int(race_accounts_reply_ok("r-1", &u, out, 0), 0,
           "reply ok: no room");

    /* the largest user and req fit in RACE_ACCOUNTS_REPLY_SIZE */

    memset(u.email, 'a', RACE_ACCOUNTS_EMAIL_MAX);
    u.email[RACE_ACCOUNTS_EMAIL_MAX] = '\0';
    memcpy(u.email + 100, "@b.c", 4);
    strcpy(u.name, repeat("\"", RACE_NAME_MAX));
    strcpy(u.role, "spectator");
    u.gen = T_GEN_MAX;
    strcpy(buf2, repeat("\\", RACE_ACCOUNTS_REQ_MAX));

    n = race_accounts_reply_ok(buf2, &u, out, sizeof(out));
    ok(n > 0 && n < RACE_ACCOUNTS_REPLY_SIZE && n == strlen(out),
       "reply ok: the largest fits (%zu)", n);

    strcpy(u.name, repeat("\xf0\x9f\x9a\xb4", RACE_NAME_MAX));
    n = race_accounts_reply_ok(buf2, &u, out, sizeof(out));
    ok(n > 0 && n < RACE_ACCOUNTS_REPLY_SIZE && n == strlen(out),
       "reply ok: the largest in bytes fits (%zu)", n);

    /* what JSON cannot carry is no reply */

    user_init(&u);
    strcpy(u.name, "Ann\xff");
    is_int(race_accounts_reply_ok("r-1", &u, out, sizeof(out)), 0,
           "reply ok: a name not UTF-8");
}


static void
test_revoke(void)
{
    size_t       i;
    const char  *jti64;

    good(make(revoke_fields, T_N(revoke_fields), NULL, NULL), "revoke");
    is_int(cmd.op, RACE_ACCOUNTS_REVOKE, "revoke: op");
    is_str(cmd.req, "r-1", "revoke: req");
    is_str(cmd.reply, "race:reply:42:abcd", "revoke: reply");
    is_str(cmd.jti, "t0123-abc_Z", "revoke: jti");
    is_int(cmd.exp, 1732400000, "revoke: exp");
    is_str(cmd.user.id, "", "revoke: no user");

    jti64 = fmt("\"%s\"", repeat("j", 64));
    good(make(revoke_fields, T_N(revoke_fields), "jti", jti64),
         "revoke: a jti of 64");
    is_int((int64_t) strlen(cmd.jti), 64, "revoke: all of it");

    good(make(revoke_fields, T_N(revoke_fields), "exp", "9007199254740991"),
         "revoke: exp 2^53 - 1");
    good(make(revoke_fields, T_N(revoke_fields), "exp", "1"),
         "revoke: exp 1");

    bad(make(revoke_fields, T_N(revoke_fields), "jti", NULL),
        "\"jti\" missing or not a token id", "revoke: no jti");
    bad(make(revoke_fields, T_N(revoke_fields), "jti", "\"\""),
        "\"jti\" missing or not a token id", "revoke: empty jti");
    bad(make(revoke_fields, T_N(revoke_fields), "jti",
             fmt("\"%s\"", repeat("j", 65))),
        "\"jti\" missing or not a token id", "revoke: a jti of 65");
    bad(make(revoke_fields, T_N(revoke_fields), "jti", "\"a b\""),
        "\"jti\" missing or not a token id", "revoke: a space in jti");
    bad(make(revoke_fields, T_N(revoke_fields), "jti", "\"a:b\""),
        "\"jti\" missing or not a token id", "revoke: a colon in jti");

    for (i = 0; i < T_N(not_strings); i++) {
        bad(make(revoke_fields, T_N(revoke_fields), "jti", not_strings[i]),
            "\"jti\" missing or not a token id",
            fmt("revoke: jti %s", not_strings[i]));
    }

    bad(make(revoke_fields, T_N(revoke_fields), "exp", NULL),
        "\"exp\" missing or not an integer", "revoke: no exp");
    bad(make(revoke_fields, T_N(revoke_fields), "exp", "\"1732400000\""),
        "\"exp\" missing or not an integer", "revoke: exp a string");
    bad(make(revoke_fields, T_N(revoke_fields), "exp", "1.5"),
        "\"exp\" missing or not an integer", "revoke: exp 1.5");
    bad(make(revoke_fields, T_N(revoke_fields), "exp", "0"),
        "\"exp\" is out of range", "revoke: exp 0");
    bad(make(revoke_fields, T_N(revoke_fields), "exp", "-5"),
        "\"exp\" is out of range", "revoke: exp -5");
    bad(make(revoke_fields, T_N(revoke_fields), "exp", "9007199254740992"),
        "\"exp\" is out of range", "revoke: exp 2^53");

    /* a refused revocation still tells whom to answer */
    is_str(cmd.req, "r-1", "revoke refused: req kept");
    is_str(cmd.reply, "race:reply:42:abcd", "revoke refused: reply kept");
}


static void
test_reply_revoked(void)
{
    char    out[RACE_ACCOUNTS_REPLY_SIZE];
    size_t  n;

    n = race_accounts_reply_revoked("r-1", "t1", 1732400000, out,
                                    sizeof(out));
    is_str(out, "{\"req\":\"r-1\",\"ok\":true,\"revoked\":{\"jti\":\"t1\","
           "\"exp\":1732400000}}", "reply revoked: exact");
    is_int(n, strlen(out), "reply revoked: its length");

    n = race_accounts_reply_revoked("", "t1", 5, out, sizeof(out));
    is_str(out, "{\"ok\":true,\"revoked\":{\"jti\":\"t1\",\"exp\":5}}",
           "reply revoked without req: exact");

    is_int(race_accounts_reply_revoked("r-1", "t1", 5, out, 10), 0,
           "reply revoked: no room");
}


static void
test_reply_error(void)
{
    char    out[RACE_ACCOUNTS_REPLY_SIZE];
    size_t  i, n;

    static const char *const  codes[] = {
        "email_taken", "no_user", "bad_command"
    };

    for (i = 0; i < T_N(codes); i++) {
        n = race_accounts_reply_error("r-1", codes[i], out, sizeof(out));
        is_str(out, fmt("{\"req\":\"r-1\",\"ok\":false,\"code\":\"%s\"}",
                        codes[i]),
               "reply %s: exact", codes[i]);
        is_int(n, strlen(out), "reply %s: its length", codes[i]);
    }

    n = race_accounts_reply_error("", "bad_command", out, sizeof(out));
    is_str(out, "{\"ok\":false,\"code\":\"bad_command\"}",
           "reply error without req: exact");
    is_int(n, strlen(out), "reply error without req: its length");

    n = strlen("{\"req\":\"r-1\",\"ok\":false,\"code\":\"no_user\"}");
    memset(out, 'x', sizeof(out));
    is_int(race_accounts_reply_error("r-1", "no_user", out, n + 1), n,
           "reply error: room for it and the NUL");
    memset(out, 'x', sizeof(out));
    is_int(race_accounts_reply_error("r-1", "no_user", out, n), 0,
           "reply error: no room for the NUL");
    ok(out[n] == 'x', "reply error: no room: nothing past size");
}


/* what the parser gives, answered, reads back the same */

static void
test_round_trip(void)
{
    char          out[RACE_ACCOUNTS_REPLY_SIZE];
    json_t       *root, *user;
    size_t        n;
    json_error_t  error;

    good(signup_with("name", "\"Zo\\u00eb \\\"Z\\\" \\ud83d\\udeb4\""),
         "round trip: signup");

    cmd.user.gen = 1;
    n = race_accounts_reply_ok(cmd.req, &cmd.user, out, sizeof(out));
    ok(n > 0, "round trip: reply built");

    root = json_loadb(out, n, JSON_REJECT_DUPLICATES, &error);
    user = json_object_get(root, "user");

    ok(root != NULL && json_object_size(root) == 3
       && json_is_true(json_object_get(root, "ok")),
       "round trip: ok, three keys");
    is_str(json_string_value(json_object_get(root, "req")), "r-1",
           "round trip: req");
    ok(json_object_size(user) == 5, "round trip: user has five keys");
    ok(json_object_get(user, "hash") == NULL, "round trip: no hash");
    is_str(json_string_value(json_object_get(user, "id")), T_ID1,
           "round trip: id");
    is_str(json_string_value(json_object_get(user, "email")),
           "ann@example.com", "round trip: email");
    is_str(json_string_value(json_object_get(user, "name")),
           "Zo\xc3\xab \"Z\" \xf0\x9f\x9a\xb4", "round trip: name");
    is_str(json_string_value(json_object_get(user, "role")), "spectator",
           "round trip: role");
    is_int(json_integer_value(json_object_get(user, "gen")), 1,
           "round trip: gen");
    ok(strstr(out, "argon2") == NULL, "round trip: no hash anywhere");

    json_decref(root);
}


static int
parse_len(const char *data, size_t len)
{
    memset(&cmd, 0x5a, sizeof(cmd));
    memset(err, 'x', sizeof(err));

    return race_accounts_cmd_parse(data, len, &cmd, err, sizeof(err));
}


static int
parse(const char *json)
{
    return parse_len(json, strlen(json));
}


static void
good(const char *json, const char *name)
{
    if (!is_int(parse(json), 0, "%s", name)) {
        diag("  reason: %s", err);
    }
}


static void
bad(const char *json, const char *reason, const char *name)
{
    char  what[256];

    snprintf(what, sizeof(what), "%s", name);

    is_int(parse(json), -1, "%s: refused", what);
    is_str(err, reason, "%s: reason", what);

    if (cmd.op != RACE_ACCOUNTS_NONE) {
        ok(0, "%s: op left", what);
    }
}


static void
bad_prefix(const char *json, const char *prefix, const char *name)
{
    char  what[256];

    snprintf(what, sizeof(what), "%s", name);

    is_int(parse(json), -1, "%s: refused", what);

    if (!ok(strncmp(err, prefix, strlen(prefix)) == 0, "%s: reason", what))
    {
        diag("  got:  '%s'", err);
        diag("  want: '%s...'", prefix);
    }

    if (cmd.op != RACE_ACCOUNTS_NONE) {
        ok(0, "%s: op left", what);
    }
}


/*
 * A command of fields f[0..n) in buf: the field named key with value
 * instead (left out if value is NULL).
 */

static const char *
make(const t_field_t *f, size_t n, const char *key, const char *value)
{
    char        *p, *end;
    size_t       i;
    const char  *v;

    p = buf;
    end = buf + T_BUF;
    *p++ = '{';

    for (i = 0; i < n; i++) {
        v = f[i].value;

        if (key != NULL && strcmp(f[i].key, key) == 0) {
            if (value == NULL) {
                continue;
            }

            v = value;
        }

        p += snprintf(p, end - p, "%s\"%s\":%s", p == buf + 1 ? "" : ",",
                      f[i].key, v);
    }

    snprintf(p, end - p, "}");

    return buf;
}


/*
 * A signup in buf2; key names one of its fields or one of its user's,
 * to be replaced by value or left out.
 */

static const char *
signup_with(const char *key, const char *value)
{
    size_t       i;
    const char  *user;
    t_field_t    f[T_N(signup_fields)];

    for (i = 0; i < T_N(user_fields); i++) {
        if (key != NULL && strcmp(user_fields[i].key, key) == 0) {
            break;
        }
    }

    if (i < T_N(user_fields) || (key != NULL && strcmp(key, "role") == 0)) {
        if (i == T_N(user_fields)) {
            /* role: not among the user's fields, added */
            make(user_fields, T_N(user_fields), NULL, NULL);
            buf[strlen(buf) - 1] = '\0';
            snprintf(buf + strlen(buf), T_BUF - strlen(buf),
                     ",\"role\":%s}", value);

        } else {
            make(user_fields, T_N(user_fields), key, value);
        }

        key = NULL;
        value = NULL;

    } else {
        make(user_fields, T_N(user_fields), NULL, NULL);
    }

    user = strcpy(buf2, buf);

    memcpy(f, signup_fields, sizeof(f));
    f[3].value = user;

    make(f, T_N(f), key, value);

    return strcpy(buf2, buf);
}


static const char *
fmt(const char *f, ...)
{
    static char  out[4096];
    va_list      ap;

    va_start(ap, f);
    vsnprintf(out, sizeof(out), f, ap);
    va_end(ap);

    return out;
}


/* s n times, in a buffer of its own */

static const char *
repeat(const char *s, size_t n)
{
    static char  out[T_BUF / 2 + 1];
    size_t       i, len;

    len = strlen(s);

    if (len * n > T_BUF / 2) {
        return "";
    }

    for (i = 0; i < n; i++) {
        memcpy(out + i * len, s, len);
    }

    out[n * len] = '\0';

    return out;
}


/*
 * In buf2 + T_BUF / 2, as a JSON string: 64 L's @ 63 D's . 63 d's . and
 * last x's, with around on both sides.
 */

static const char *
long_email(size_t last, const char *around)
{
    char    *p;
    size_t   n;

    p = buf2 + T_BUF / 2;
    n = (size_t) sprintf(p, "\"%s", around);
    n += (size_t) sprintf(p + n, "%s@", repeat("L", 64));
    n += (size_t) sprintf(p + n, "%s.", repeat("D", 63));
    n += (size_t) sprintf(p + n, "%s.", repeat("d", 63));
    n += (size_t) sprintf(p + n, "%s", repeat("x", last));
    sprintf(p + n, "%s\"", around);

    return p;
}


static void
user_init(race_accounts_user_t *u)
{
    memset(u, 0, sizeof(race_accounts_user_t));

    strcpy(u->id, T_ID1);
    strcpy(u->email, "ann@example.com");
    strcpy(u->name, "Ann");
    strcpy(u->role, "rider");
    strcpy(u->hash, T_HASH);
    u->gen = 3;
    u->created = 1732400000000LL;
}
