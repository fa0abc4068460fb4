
/*
 * ngx_race: unit tests of the accounts core, TAP output: emails, names,
 * roles, user ids and the request body parsers.
 */


#include <stdlib.h>
#include <string.h>

#include "race_account.h"
#include "tap.h"


static void test_email_valid(void);
static void test_email_invalid(void);
static void test_email_bounds(void);
static void test_names(void);
static void test_roles(void);
static void test_user_id(void);
static void test_signup(void);
static void test_login(void);
static void test_role_body(void);

static int is_email(const char *in, const char *want);
static int no_email(const char *in, size_t len, const char *name);
static const char *email_of(size_t local, size_t domain);
static const char *repeat(const char *s, size_t times);
static const char *shown(const char *s, size_t len);
static int is_err(int rc, const char *err, const char *want,
    const char *name);
static const char *signup_body(const char *email, const char *password,
    const char *name);


static char  err[RACE_ACCOUNT_ERR_MAX];


int
main(void)
{
    test_email_valid();
    test_email_invalid();
    test_email_bounds();
    test_names();
    test_roles();
    test_user_id();
    test_signup();
    test_login();
    test_role_body();

    return tap_done();
}


static void
test_email_valid(void)
{
    size_t  n;
    char    buf[RACE_EMAIL_MAX + 1];

    is_email("a@b.co", "a@b.co");
    is_email("Alice@Example.COM", "alice@example.com");
    is_email("  alice@example.com", "alice@example.com");
    is_email("alice@example.com \t\r\n\v\f", "alice@example.com");
    is_email("\t Alice.Smith+Race@Mail.Example.ORG\r\n",
             "alice.smith+race@mail.example.org");
    is_email("x-y_z@sub-domain.x-1.io", "x-y_z@sub-domain.x-1.io");
    is_email("!#$%&'*+-/=?^_`{|}~@a.bc", "!#$%&'*+-/=?^_`{|}~@a.bc");
    is_email(".a..b.@b.co", ".a..b.@b.co");     /* dots: kept simple */
    is_email("a@1.2", "a@1.2");
    is_email("a@xn--bcher-kva.example", "a@xn--bcher-kva.example");
    is_email("a@b--c.de", "a@b--c.de");

    /* in place, and normalised again */

    strcpy(buf, "  Bob@Example.Com  ");
    n = race_email_normalize(buf, strlen(buf), buf, sizeof(buf));
    ok(n == 15 && strcmp(buf, "bob@example.com") == 0,
       "normalise in place");
    n = race_email_normalize(buf, n, buf, sizeof(buf));
    ok(n == 15 && strcmp(buf, "bob@example.com") == 0,
       "normalised again: unchanged");
}


static void
test_email_invalid(void)
{
    size_t       i;
    char         buf[16];

    static const char  *bad[] = {
        "", "   ", " \t\r\n", "@", "a", "a@", "@b.co", "a@@b.co",
        "a@b@c.co", "a@b", "a@b.", "a@.b.co", "a@b..co", "a@-b.co",
        "a@b-.co", "a@b.c-", "a@b.-c", "a@b_c.co", "a b@c.co", "a@b .co",
        "a\t@b.co", "a@b.co .", "\"a\"@b.co", "a(b@c.co", "a)b@c.co",
        "a<b@c.co", "a>b@c.co", "a[b@c.co", "a]b@c.co", "a\\b@c.co",
        "a,b@c.co", "a;b@c.co", "a:b@c.co", "\xc3\xa9@b.co",
        "a@b\xc3\xa9.co", "a\x7f@b.co", "a\x01@b.co", "a@[127.0.0.1]",
        "a@b.co\x1b", "a@b.c\xff", "a@b,co", "a@b!.co", "a@b/c.co",
        "<a@b.co>", "a@b.co;c@d.co", "a@localhost",
    };

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        no_email(bad[i], strlen(bad[i]), bad[i]);
    }

    no_email("a\0b@c.co", 8, "a NUL in the local part");
    no_email("a@b.co\0", 7, "a NUL at the end");
    no_email(NULL, 0, "NULL");

    buf[0] = 'x';
    ok(race_email_normalize("a@b.co", 6, buf, 0) == 0 && buf[0] == 'x',
       "out_size 0: nothing written");
    ok(race_email_normalize("a@b.co", 6, NULL, 16) == 0, "out NULL");

    strcpy(buf, "junk");
    ok(race_email_normalize("a@b", 3, buf, sizeof(buf)) == 0
       && buf[0] == '\0', "an invalid email leaves out empty");
}


static void
test_email_bounds(void)
{
    char         buf[RACE_EMAIL_MAX + 1];
    const char  *e;

    e = email_of(64, 6);
    ok(race_email_normalize(e, strlen(e), buf, sizeof(buf)) == 71,
       "local part of 64");
    e = email_of(65, 6);
    no_email(e, strlen(e), "local part of 65");

    /* a label of 63 and of 64 */

    e = "a@" "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabc"
        ".de";
    ok(race_email_normalize(e, strlen(e), buf, sizeof(buf)) == 68,
       "a label of 63");
    e = "a@" "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcd"
        ".de";
    no_email(e, strlen(e), "a label of 64");

    /* 254 in all is the limit; a domain of 253 cannot fit with a local */

    e = email_of(1, 252);
    ok(strlen(e) == 254
       && race_email_normalize(e, strlen(e), buf, sizeof(buf)) == 254,
       "254 in all, domain of 252");
    e = email_of(64, 189);
    ok(strlen(e) == 254
       && race_email_normalize(e, strlen(e), buf, sizeof(buf)) == 254,
       "254 in all, local of 64");
    e = email_of(1, 253);
    no_email(e, strlen(e), "255 in all, domain of 253");
    e = email_of(2, 252);
    no_email(e, strlen(e), "255 in all, domain of 252");

    /* whitespace around does not count */

    snprintf(buf, sizeof(buf), "  %s", email_of(1, 250));
    ok(race_email_normalize(buf, strlen(buf), buf, sizeof(buf)) == 252,
       "254 bytes with 2 spaces: 252");

    /* out's room */

    e = "a@b.co";
    ok(race_email_normalize(e, 6, buf, 7) == 6, "out of 7 for 6");
    ok(race_email_normalize(e, 6, buf, 6) == 0, "out of 6 for 6");
    ok(race_email_normalize("  a@b.co  ", 10, buf, 7) == 6,
       "out of 7 for 6 after trimming");
}


static void
test_names(void)
{
    const char  *n;

    ok(race_name_valid("A", 1), "name A");
    ok(race_name_valid("Ann Lee", 7), "name Ann Lee");
    ok(race_name_valid(" x ", 3), "spaces around a letter");
    ok(race_name_valid("Fran\xc3\xa7ois M\xc3\xbcller", 17),
       "UTF-8 letters");
    ok(race_name_valid("\xe6\x9d\x8e\xe5\xb0\x8f\xe9\xbe\x99", 9),
       "CJK");
    ok(race_name_valid("Team \xf0\x9f\x9a\xb2", 9), "an emoji");
    ok(race_name_valid("a\xc2\xa0" "b", 4), "a no-break space");

    ok(!race_name_valid("", 0), "empty");
    ok(!race_name_valid(NULL, 0), "NULL");
    ok(!race_name_valid(" ", 1), "one space");
    ok(!race_name_valid("     ", 5), "only spaces");
    ok(!race_name_valid("a\tb", 3), "a tab");
    ok(!race_name_valid("a\nb", 3), "a newline");
    ok(!race_name_valid("a\rb", 3), "a CR");
    ok(!race_name_valid("a\0b", 3), "a NUL");
    ok(!race_name_valid("a\x1b[31m", 6), "an escape sequence");
    ok(!race_name_valid("a\x7f", 2), "DEL");
    ok(!race_name_valid("a\xc2\x80", 3), "U+0080");
    ok(!race_name_valid("a\xc2\x9f", 3), "U+009F");
    ok(!race_name_valid("a\xff", 2), "byte FF");
    ok(!race_name_valid("a\xc3", 2), "cut short");
    ok(!race_name_valid("\xed\xa0\x80", 3), "a surrogate");

    n = repeat("a", 100);
    ok(race_name_valid(n, 100), "100 chars");
    n = repeat("a", 101);
    ok(!race_name_valid(n, 101), "101 chars");
    n = repeat("\xc3\xa9", 100);
    ok(race_name_valid(n, 200), "100 e-acutes");
    n = repeat("\xc3\xa9", 101);
    ok(!race_name_valid(n, 202), "101 e-acutes");
    n = repeat("\xf0\x9f\x9a\xb2", 100);
    ok(race_name_valid(n, RACE_NAME_BYTES_MAX), "100 bicycles, %d bytes",
       RACE_NAME_BYTES_MAX);
    n = repeat("\xf0\x9f\x9a\xb2", 101);
    ok(!race_name_valid(n, 404), "101 bicycles");
}


static void
test_roles(void)
{
    ok(race_role_valid("admin", 5), "admin");
    ok(race_role_valid("organizer", 9), "organizer");
    ok(race_role_valid("rider", 5), "rider");
    ok(race_role_valid("spectator", 9), "spectator");
    ok(!race_role_valid("Admin", 5), "Admin");
    ok(!race_role_valid("admin ", 6), "admin with a space");
    ok(!race_role_valid("rider", 4), "ride");
    ok(!race_role_valid("", 0), "empty");
    ok(!race_role_valid(NULL, 0), "NULL");
    ok(!race_role_valid("root", 4), "root");
    ok(!race_role_valid("organiser", 9), "organiser");
    ok(race_role_valid("riders", 5), "only len bytes count");
}


static void
test_user_id(void)
{
    size_t  i;
    char    a[RACE_USER_ID_LEN + 1], b[RACE_USER_ID_LEN + 1];
    int     hex;

    memset(a, 'x', sizeof(a));
    ok(race_user_id_generate(a) == 0, "user id");
    is_int((int64_t) strlen(a), 32, "32 chars");

    hex = 1;

    for (i = 0; i < RACE_USER_ID_LEN; i++) {
        if (!((a[i] >= '0' && a[i] <= '9') || (a[i] >= 'a' && a[i] <= 'f'))) {
            hex = 0;
        }
    }

    ok(hex, "lower-case hex");
    ok(race_user_id_generate(b) == 0 && strcmp(a, b) != 0,
       "two ids differ");
}


static void
test_signup(void)
{
    int            rc;
    char           v[1024];
    const char    *body;
    race_signup_t  s;

    body = "{\"email\":\" Alice@Example.com \",\"password\":\"s3cret pass\","
           "\"name\":\"Alice L\\u00e9vy\"}";
    memset(&s, 0xff, sizeof(s));
    rc = race_signup_parse(body, strlen(body), &s, err, sizeof(err));
    ok(rc == 0, "signup parses");
    is_str(s.email, "alice@example.com", "email normalised");
    is_int((int64_t) s.email_len, 17, "email_len");
    is_str(s.password, "s3cret pass", "password as sent");
    is_int((int64_t) s.password_len, 11, "password_len");
    is_str(s.name, "Alice L\xc3\xa9vy", "name as sent, UTF-8");
    is_int((int64_t) s.name_len, 11, "name_len");
    is_str(err, "", "no message");

    body = "{\"x\":{\"y\":[1,null]},\"name\":\"N\",\"password\":\"p\","
           "\"email\":\"a@b.co\",\"role\":\"admin\"}";
    ok(race_signup_parse(body, strlen(body), &s, err, sizeof(err)) == 0,
       "unknown fields ignored, any order, role not taken from here");

    /* the body */

    is_err(race_signup_parse("", 0, &s, err, sizeof(err)), err,
           "body is not valid JSON (at byte 0)", "empty body");
    is_err(race_signup_parse("{", 1, &s, err, sizeof(err)), err,
           "body is not valid JSON (at byte 1)", "{");
    is_err(race_signup_parse(NULL, 0, &s, err, sizeof(err)), err,
           "body is not valid JSON", "NULL body");
    body = "{\"email\":\"a@b.co\"} x";
    is_err(race_signup_parse(body, strlen(body), &s, err, sizeof(err)), err,
           "body is not valid JSON (at byte 20)", "data after the object");
    is_err(race_signup_parse("[]", 2, &s, err, sizeof(err)), err,
           "body must be a JSON object", "an array");
    is_err(race_signup_parse("5", 1, &s, err, sizeof(err)), err,
           "body must be a JSON object", "a number");
    is_err(race_signup_parse("\"a\"", 3, &s, err, sizeof(err)), err,
           "body must be a JSON object", "a string");
    is_err(race_signup_parse("null", 4, &s, err, sizeof(err)), err,
           "body must be a JSON object", "null");

    body = "{\"email\":\"a@b.co\",\"password\":\"p\",\"name\":\"N\","
           "\"email\":\"c@d.co\"}";
    is_err(race_signup_parse(body, strlen(body), &s, err, sizeof(err)), err,
           "body has a duplicate key", "a duplicate email");

    body = "{\"email\":\"a@b.co\",\"password\":\"a\\u0000b\",\"name\":\"N\"}";
    rc = race_signup_parse(body, strlen(body), &s, err, sizeof(err));
    ok(rc == -1 && strncmp(err, "body is not valid JSON", 22) == 0,
       "\\u0000 in a string: %s", err);

    body = "{\"email\":\"a@b.co\",\"password\":\"\xff\",\"name\":\"N\"}";
    rc = race_signup_parse(body, strlen(body), &s, err, sizeof(err));
    ok(rc == -1 && strncmp(err, "body is not valid JSON", 22) == 0,
       "bad UTF-8 in a string: %s", err);

    body = "{\"email\":\"a@b.co\",\"password\":\"\\ud800\",\"name\":\"N\"}";
    rc = race_signup_parse(body, strlen(body), &s, err, sizeof(err));
    ok(rc == -1 && strncmp(err, "body is not valid JSON", 22) == 0,
       "a lone surrogate: %s", err);

    /* email */

    body = "{\"password\":\"p\",\"name\":\"N\"}";
    is_err(race_signup_parse(body, strlen(body), &s, err, sizeof(err)), err,
           "\"email\" is required", "no email");
    body = signup_body("5", "\"p\"", "\"N\"");
    is_err(race_signup_parse(body, strlen(body), &s, err, sizeof(err)), err,
           "\"email\" must be a string", "email a number");
    body = signup_body("null", "\"p\"", "\"N\"");
    is_err(race_signup_parse(body, strlen(body), &s, err, sizeof(err)), err,
           "\"email\" must be a string", "email null");
    body = signup_body("[\"a@b.co\"]", "\"p\"", "\"N\"");
    is_err(race_signup_parse(body, strlen(body), &s, err, sizeof(err)), err,
           "\"email\" must be a string", "email an array");
    body = signup_body("\"<script>@b\"", "\"p\"", "\"N\"");
    is_err(race_signup_parse(body, strlen(body), &s, err, sizeof(err)), err,
           "\"email\" is not a valid address", "email invalid");
    ok(strstr(err, "script") == NULL, "the message does not quote it");
    body = signup_body("\"\"", "\"p\"", "\"N\"");
    is_err(race_signup_parse(body, strlen(body), &s, err, sizeof(err)), err,
           "\"email\" is not a valid address", "email empty");

    snprintf(v, sizeof(v), "\"%s\"", email_of(1, 253));
    body = signup_body(v, "\"p\"", "\"N\"");
    is_err(race_signup_parse(body, strlen(body), &s, err, sizeof(err)), err,
           "\"email\" is too long (at most 254 characters)",
           "email of 255");

    /* password */

    body = "{\"email\":\"a@b.co\",\"name\":\"N\"}";
    is_err(race_signup_parse(body, strlen(body), &s, err, sizeof(err)), err,
           "\"password\" is required", "no password");
    body = signup_body("\"a@b.co\"", "12345678", "\"N\"");
    is_err(race_signup_parse(body, strlen(body), &s, err, sizeof(err)), err,
           "\"password\" must be a string", "password a number");
    body = signup_body("\"a@b.co\"", "true", "\"N\"");
    is_err(race_signup_parse(body, strlen(body), &s, err, sizeof(err)), err,
           "\"password\" must be a string", "password true");

    snprintf(v, sizeof(v), "\"%s\"",
             repeat("\xf0\x9f\x9a\xb2", 128));
    body = signup_body("\"a@b.co\"", v, "\"N\"");
    ok(race_signup_parse(body, strlen(body), &s, err, sizeof(err)) == 0
       && s.password_len == RACE_PASSWORD_BYTES_MAX
       && strlen(s.password) == RACE_PASSWORD_BYTES_MAX,
       "password of %d bytes fits", RACE_PASSWORD_BYTES_MAX);

    snprintf(v, sizeof(v), "\"%s\"", repeat("x", 513));
    body = signup_body("\"a@b.co\"", v, "\"N\"");
    is_err(race_signup_parse(body, strlen(body), &s, err, sizeof(err)), err,
           "\"password\" is too long (at most 128 characters)",
           "password of 513 bytes");

    body = signup_body("\"a@b.co\"", "\"\"", "\"N\"");
    ok(race_signup_parse(body, strlen(body), &s, err, sizeof(err)) == 0
       && s.password_len == 0 && s.password[0] == '\0',
       "an empty password parses: the policy is the caller's");

    /* name */

    body = "{\"email\":\"a@b.co\",\"password\":\"p\"}";
    is_err(race_signup_parse(body, strlen(body), &s, err, sizeof(err)), err,
           "\"name\" is required", "no name");
    body = signup_body("\"a@b.co\"", "\"p\"", "{}");
    is_err(race_signup_parse(body, strlen(body), &s, err, sizeof(err)), err,
           "\"name\" must be a string", "name an object");
    body = signup_body("\"a@b.co\"", "\"p\"", "\"\"");
    is_err(race_signup_parse(body, strlen(body), &s, err, sizeof(err)), err,
           "\"name\" must be 1 to 100 characters, not only spaces, without "
           "control characters", "name empty");
    body = signup_body("\"a@b.co\"", "\"p\"", "\"a\\nb\"");
    is_err(race_signup_parse(body, strlen(body), &s, err, sizeof(err)), err,
           "\"name\" must be 1 to 100 characters, not only spaces, without "
           "control characters", "name with a newline");
    body = signup_body("\"a@b.co\"", "\"p\"", "\"   \"");
    is_err(race_signup_parse(body, strlen(body), &s, err, sizeof(err)), err,
           "\"name\" must be 1 to 100 characters, not only spaces, without "
           "control characters", "name of spaces");

    snprintf(v, sizeof(v), "\"%s\"", repeat("n", 101));
    body = signup_body("\"a@b.co\"", "\"p\"", v);
    is_err(race_signup_parse(body, strlen(body), &s, err, sizeof(err)), err,
           "\"name\" must be 1 to 100 characters, not only spaces, without "
           "control characters", "name of 101");

    snprintf(v, sizeof(v), "\"%s\"",
             repeat("\xf0\x9f\x9a\xb2", 100));
    body = signup_body("\"a@b.co\"", "\"p\"", v);
    ok(race_signup_parse(body, strlen(body), &s, err, sizeof(err)) == 0
       && s.name_len == RACE_NAME_BYTES_MAX
       && strlen(s.name) == RACE_NAME_BYTES_MAX,
       "name of %d bytes fits", RACE_NAME_BYTES_MAX);

    snprintf(v, sizeof(v), "\"%s\"", repeat("n", 401));
    body = signup_body("\"a@b.co\"", "\"p\"", v);
    is_err(race_signup_parse(body, strlen(body), &s, err, sizeof(err)), err,
           "\"name\" is too long (at most 100 characters)",
           "name of 401 bytes");

    /* the first problem in the order email, password, name */

    body = signup_body("1", "2", "3");
    is_err(race_signup_parse(body, strlen(body), &s, err, sizeof(err)), err,
           "\"email\" must be a string", "all wrong: email first");
    body = signup_body("\"a@b.co\"", "2", "3");
    is_err(race_signup_parse(body, strlen(body), &s, err, sizeof(err)), err,
           "\"password\" must be a string", "then password");

    /* err's room */

    body = "[]";
    ok(race_signup_parse(body, 2, &s, NULL, 0) == -1, "err NULL");
    err[0] = 'x';
    ok(race_signup_parse(body, 2, &s, err, 0) == -1 && err[0] == 'x',
       "err_size 0: nothing written");
    ok(race_signup_parse(body, 2, &s, err, 5) == -1
       && strcmp(err, "body") == 0, "err_size 5: cut, terminated");
}


static void
test_login(void)
{
    const char    *body;
    race_login_t   l;

    body = "{\"email\":\"BOB@b.co\",\"password\":\"pw\",\"remember\":true}";
    ok(race_login_parse(body, strlen(body), &l, err, sizeof(err)) == 0,
       "login parses");
    is_str(l.email, "bob@b.co", "login: email normalised");
    is_int((int64_t) l.email_len, 8, "login: email_len");
    is_str(l.password, "pw", "login: password");
    is_int((int64_t) l.password_len, 2, "login: password_len");

    body = "{\"email\":\"bob@b.co\"}";
    is_err(race_login_parse(body, strlen(body), &l, err, sizeof(err)), err,
           "\"password\" is required", "login: no password");
    body = "{\"password\":\"pw\"}";
    is_err(race_login_parse(body, strlen(body), &l, err, sizeof(err)), err,
           "\"email\" is required", "login: no email");
    body = "{\"email\":\"bob\",\"password\":\"pw\"}";
    is_err(race_login_parse(body, strlen(body), &l, err, sizeof(err)), err,
           "\"email\" is not a valid address", "login: email invalid");
    body = "{\"email\":\"bob@b.co\",\"password\":7}";
    is_err(race_login_parse(body, strlen(body), &l, err, sizeof(err)), err,
           "\"password\" must be a string", "login: password a number");
    body = "{\"email\":\"bob@b.co\",\"password\":\"a\",\"password\":\"b\"}";
    is_err(race_login_parse(body, strlen(body), &l, err, sizeof(err)), err,
           "body has a duplicate key", "login: a duplicate password");
    is_err(race_login_parse("[1]", 3, &l, err, sizeof(err)), err,
           "body must be a JSON object", "login: an array");
    is_err(race_login_parse("{\"a\":", 5, &l, err, sizeof(err)), err,
           "body is not valid JSON (at byte 5)", "login: cut short");
}


static void
test_role_body(void)
{
    size_t             i;
    char               body[64];
    race_role_req_t    r;

    static const char  *roles[] = {
        "admin", "organizer", "rider", "spectator"
    };

    for (i = 0; i < 4; i++) {
        snprintf(body, sizeof(body), "{\"role\":\"%s\"}", roles[i]);
        memset(&r, 0xff, sizeof(r));
        ok(race_role_parse(body, strlen(body), &r, err, sizeof(err)) == 0
           && strcmp(r.role, roles[i]) == 0, "role %s", roles[i]);
    }

    is_err(race_role_parse("{}", 2, &r, err, sizeof(err)), err,
           "\"role\" is required", "role missing");
    strcpy(body, "{\"role\":1}");
    is_err(race_role_parse(body, strlen(body), &r, err, sizeof(err)), err,
           "\"role\" must be a string", "role a number");
    strcpy(body, "{\"role\":\"Admin\"}");
    is_err(race_role_parse(body, strlen(body), &r, err, sizeof(err)), err,
           "\"role\" must be \"admin\", \"organizer\", \"rider\" or "
           "\"spectator\"", "role Admin");
    strcpy(body, "{\"role\":\"superuser-of-everything\"}");
    is_err(race_role_parse(body, strlen(body), &r, err, sizeof(err)), err,
           "\"role\" must be \"admin\", \"organizer\", \"rider\" or "
           "\"spectator\"", "a long role");
    strcpy(body, "{\"role\":\"rider\",\"role\":\"admin\"}");
    is_err(race_role_parse(body, strlen(body), &r, err, sizeof(err)), err,
           "body has a duplicate key", "role twice");
    is_err(race_role_parse("\"admin\"", 7, &r, err, sizeof(err)), err,
           "body must be a JSON object", "a bare string");
    ok(race_role_parse("{role:1}", 8, &r, err, sizeof(err)) == -1
       && strncmp(err, "body is not valid JSON (at byte ", 32) == 0,
       "an unquoted key: %s", err);
}


static int
is_email(const char *in, const char *want)
{
    size_t  n;
    char    out[RACE_EMAIL_MAX + 1];

    n = race_email_normalize(in, strlen(in), out, sizeof(out));

    if (!ok(n == strlen(want) && strcmp(out, want) == 0,
            "email '%s' -> '%s'", shown(in, strlen(in)), want))
    {
        diag("  got %zu '%s'", n, out);
        return 0;
    }

    return 1;
}


static int
no_email(const char *in, size_t len, const char *name)
{
    size_t  n;
    char    out[RACE_EMAIL_MAX + 1];

    n = race_email_normalize(in, len, out, sizeof(out));

    if (!ok(n == 0, "not an email: '%s'",
            name == in ? shown(in, len) : name))
    {
        diag("  got %zu '%s'", n, out);
        return 0;
    }

    return 1;
}


/* s[0..len) for a test's name: control bytes and non-ASCII as \xNN */

static const char *
shown(const char *s, size_t len)
{
    size_t       i, n;
    uint8_t      c;
    static char  buf[1024];

    n = 0;

    for (i = 0; i < len && n + 5 < sizeof(buf); i++) {
        c = (uint8_t) s[i];

        if (c < 0x20 || c > 0x7e) {
            n += snprintf(buf + n, sizeof(buf) - n, "\\x%02x", c);

        } else {
            buf[n++] = (char) c;
        }
    }

    buf[n] = '\0';

    return buf;
}


/* "x...x@" a local part of local bytes, a domain of domain bytes */

static const char *
email_of(size_t local, size_t domain)
{
    size_t       i, n;
    static char  buf[1024];

    memset(buf, 'x', local);
    n = local;
    buf[n++] = '@';

    /* labels of 50 "d", dots between, ending in ".de" */

    for (i = 0; i + 3 < domain; i++) {
        buf[n++] = ((i + 1) % 51 == 0) ? '.' : 'd';
    }

    if (buf[n - 1] == '.') {
        buf[n - 1] = 'd';
    }

    memcpy(buf + n, ".de", 4);

    return buf;
}


/* s times times, in a buffer of its own (the last call's) */

static const char *
repeat(const char *s, size_t times)
{
    size_t       i, n;
    static char  buf[1024];

    n = strlen(s);

    for (i = 0; i < times && (i + 1) * n < sizeof(buf); i++) {
        memcpy(buf + i * n, s, n);
    }

    buf[i * n] = '\0';

    return buf;
}


static int
is_err(int rc, const char *e, const char *want, const char *name)
{
    if (!ok(rc == -1, "%s: refused", name)) {
        return 0;
    }

    return is_str(e, want, "%s: message", name);
}


/* email, password and name given as JSON values */

static const char *
signup_body(const char *email, const char *password, const char *name)
{
    static char  buf[2048];

    snprintf(buf, sizeof(buf), "{\"email\":%s,\"password\":%s,\"name\":%s}",
             email, password, name);

    return buf;
}
