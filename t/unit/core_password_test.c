
/*
 * ngx_race: unit tests of the password core, TAP output.
 *
 * Every argon2id hash with our parameters takes 19 MiB and tens of
 * milliseconds (more under ASan), so the tests make few: two hashes,
 * the dummy, and a handful of verifies.  Hashes with other parameters
 * are made here with libargon2 directly, cheaply.
 *
 * The shipped list is read from $RACE_ROOT/conf/common-passwords.txt
 * (t/password.t sets RACE_ROOT), else ../conf/common-passwords.txt.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <argon2.h>

#include "race_password.h"
#include "tap.h"


#define T_PREFIX   "$argon2id$v=19$m=19456,t=2,p=1$"
#define T_PW       "correct horse battery staple"


static void test_utf8(void);
static void test_hash(void);
static void test_gate(void);
static void test_dummy(void);
static void test_policy(void);
static void test_list(void);
static void test_list_file(void);

static const char *repeat(const char *s, size_t times);
static int b64_run(const char *s, size_t len);
static int is_policy(const char *pw, size_t len,
    const race_password_list_t *list, const char *want, const char *name,
    ...);
static int entry_cmp(const race_password_entry_t *a,
    const race_password_entry_t *b);
static char *slurp(const char *path, size_t *len);


static char  t_hash[RACE_PASSWORD_ENCODED_MAX];


int
main(void)
{
    test_utf8();
    test_hash();
    test_gate();
    test_dummy();
    test_policy();
    test_list();
    test_list_file();

    return tap_done();
}


static void
test_utf8(void)
{
    size_t   i, n;
    int32_t  cp;

    static const struct {
        const char  *s;
        size_t       len;
        int32_t      cp;
        const char  *name;
    } tests[] = {
        { "A", 1, 'A', "U+0041" },
        { "\x7f", 1, 0x7f, "U+007F, the last 1-byte" },
        { "\xc2\x80", 2, 0x80, "U+0080, the first 2-byte" },
        { "\xdf\xbf", 2, 0x7ff, "U+07FF" },
        { "\xe0\xa0\x80", 3, 0x800, "U+0800, the first 3-byte" },
        { "\xed\x9f\xbf", 3, 0xd7ff, "U+D7FF, before the surrogates" },
        { "\xee\x80\x80", 3, 0xe000, "U+E000, after the surrogates" },
        { "\xef\xbf\xbf", 3, 0xffff, "U+FFFF" },
        { "\xf0\x90\x80\x80", 4, 0x10000, "U+10000, the first 4-byte" },
        { "\xf4\x8f\xbf\xbf", 4, 0x10ffff, "U+10FFFF, the last" },
        { "\x80", 1, -1, "a lone continuation byte" },
        { "\xc0\xaf", 2, -1, "overlong '/' (C0 AF)" },
        { "\xc1\xbf", 2, -1, "overlong C1 BF" },
        { "\xe0\x9f\xbf", 3, -1, "overlong E0 9F BF" },
        { "\xf0\x8f\xbf\xbf", 4, -1, "overlong F0 8F BF BF" },
        { "\xed\xa0\x80", 3, -1, "surrogate U+D800" },
        { "\xed\xbf\xbf", 3, -1, "surrogate U+DFFF" },
        { "\xf4\x90\x80\x80", 4, -1, "U+110000, too far" },
        { "\xf5\x80\x80\x80", 4, -1, "lead byte F5" },
        { "\xff", 1, -1, "byte FF" },
        { "\xe2\x82", 2, -1, "3-byte form cut short" },
        { "\xe2\x28\xac", 3, -1, "3-byte form with an ASCII inside" },
    };

    for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
        n = 0;
        cp = race_utf8_decode((const uint8_t *) tests[i].s, tests[i].len,
                              &n);
        ok(cp == tests[i].cp && (cp < 0 || n == tests[i].len),
           "utf8 decode: %s", tests[i].name);
    }

    ok(race_utf8_decode((const uint8_t *) "x", 0, &n) == -1,
       "utf8 decode: nothing to decode");

    is_int((int64_t) race_utf8_length("", 0), 0, "utf8 length: empty");
    is_int((int64_t) race_utf8_length(NULL, 0), 0, "utf8 length: NULL, 0");
    ok(race_utf8_length(NULL, 1) == RACE_UTF8_INVALID,
       "utf8 length: NULL, 1 is invalid");
    is_int((int64_t) race_utf8_length("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x9a\xb2",
                                      10),
           4, "utf8 length: a, e-acute, euro, bicycle");
    is_int((int64_t) race_utf8_length("a\0b", 3), 3,
           "utf8 length: NUL is a code point");
    ok(race_utf8_length("abc\xc3", 4) == RACE_UTF8_INVALID,
       "utf8 length: cut in the last code point");
}


static void
test_hash(void)
{
    size_t  len;
    char    again[RACE_PASSWORD_ENCODED_MAX], small[64];

    ok(race_password_hash(T_PW, strlen(T_PW), t_hash, sizeof(t_hash)) == 0,
       "hash");

    len = strlen(t_hash);
    is_int((int64_t) len, 97, "PHC string of 97 bytes");
    ok(strncmp(t_hash, T_PREFIX, strlen(T_PREFIX)) == 0,
       "PHC string starts %s", T_PREFIX);
    ok(len == 97 && b64_run(t_hash + 31, 22) && t_hash[53] == '$'
       && b64_run(t_hash + 54, 43),
       "22 base64 chars of salt, '$', 43 of hash");
    ok(!race_password_needs_rehash(t_hash), "our hash needs no rehash");

    ok(race_password_verify(T_PW, strlen(T_PW), t_hash), "verify: right");
    ok(!race_password_verify("correct horse battery stapl",
                             strlen(T_PW) - 1, t_hash),
       "verify: one char short");
    ok(!race_password_verify("Correct horse battery staple", strlen(T_PW),
                             t_hash),
       "verify: case matters");

    ok(race_password_hash(T_PW, strlen(T_PW), again, sizeof(again)) == 0
       && strcmp(again, t_hash) != 0
       && strncmp(again, t_hash, strlen(T_PREFIX)) == 0,
       "the same password again: another salt, another string");

    small[0] = 'x';
    ok(race_password_hash(T_PW, strlen(T_PW), small, sizeof(small)) == -1
       && small[0] == '\0',
       "hash into 64 bytes: -1 and an empty string");
    ok(race_password_hash(T_PW, strlen(T_PW), NULL, 128) == -1,
       "hash into NULL: -1");
    ok(race_password_hash(NULL, 3, again, sizeof(again)) == -1,
       "hash of NULL, 3: -1");
}


/* hashes libargon2 makes with other parameters, and strings it never did */

static void
test_gate(void)
{
    char  weak[RACE_PASSWORD_ENCODED_MAX], buf[256];

    static const char  salt[] = "0123456789abcdef";

    ok(argon2id_hash_encoded(1, 64, 1, T_PW, strlen(T_PW), salt, 16, 32,
                             weak, sizeof(weak))
       == ARGON2_OK, "libargon2: argon2id m=64 t=1");
    ok(race_password_verify(T_PW, strlen(T_PW), weak),
       "weaker parameters still verify");
    ok(!race_password_verify("wrong", 5, weak),
       "weaker parameters, wrong password");
    ok(race_password_needs_rehash(weak), "weaker parameters need a rehash");

    ok(argon2id_hash_encoded(2, 19456 / 8, 1, T_PW, strlen(T_PW), salt, 8,
                             32, weak, sizeof(weak))
       == ARGON2_OK, "libargon2: argon2id 8-byte salt");
    ok(race_password_needs_rehash(weak), "an 8-byte salt needs a rehash");

    ok(argon2i_hash_encoded(1, 64, 1, T_PW, strlen(T_PW), salt, 16, 32,
                            weak, sizeof(weak))
       == ARGON2_OK, "libargon2: argon2i");
    ok(!race_password_verify(T_PW, strlen(T_PW), weak),
       "argon2i with the right password: refused, argon2id only");
    ok(race_password_needs_rehash(weak), "argon2i needs a rehash");

    ok(!race_password_verify(T_PW, strlen(T_PW), NULL), "verify NULL");
    ok(!race_password_verify(T_PW, strlen(T_PW), ""), "verify \"\"");
    ok(!race_password_verify(NULL, 3, t_hash), "verify a NULL password");
    ok(race_password_needs_rehash(NULL), "NULL needs a rehash");
    ok(race_password_needs_rehash("plain"), "plain text needs a rehash");

    /* our hash with one thing changed */

    snprintf(buf, sizeof(buf), "$argon2id$v=16$%s", t_hash + 15);
    ok(!race_password_verify(T_PW, strlen(T_PW), buf), "v=16 refused");
    ok(race_password_needs_rehash(buf), "v=16 needs a rehash");

    snprintf(buf, sizeof(buf), "$argon2id$%s", t_hash + 15);
    ok(!race_password_verify(T_PW, strlen(T_PW), buf), "no v= refused");

    snprintf(buf, sizeof(buf), "$argon2id$v=19$m=019456,t=2,p=1%s",
             t_hash + 30);
    ok(!race_password_verify(T_PW, strlen(T_PW), buf)
       && race_password_needs_rehash(buf), "m=019456: a leading zero");

    snprintf(buf, sizeof(buf), "$argon2id$v=19$m=1048576,t=2,p=1%s",
             t_hash + 30);
    ok(!race_password_verify(T_PW, strlen(T_PW), buf),
       "m=1048576 (1 GiB): refused");
    snprintf(buf, sizeof(buf), "$argon2id$v=19$m=4294967296,t=2,p=1%s",
             t_hash + 30);
    ok(!race_password_verify(T_PW, strlen(T_PW), buf)
       && race_password_needs_rehash(buf), "m=2^32: refused");

    /* the limits, with real hashes libargon2 itself would accept */

    ok(argon2id_hash_encoded(RACE_PASSWORD_T_COST_LIMIT, 64, 1, T_PW,
                             strlen(T_PW), salt, 16, 32, weak, sizeof(weak))
       == ARGON2_OK && race_password_verify(T_PW, strlen(T_PW), weak),
       "t=%d verifies", RACE_PASSWORD_T_COST_LIMIT);
    ok(argon2id_hash_encoded(RACE_PASSWORD_T_COST_LIMIT + 1, 64, 1, T_PW,
                             strlen(T_PW), salt, 16, 32, weak, sizeof(weak))
       == ARGON2_OK && argon2id_verify(weak, T_PW, strlen(T_PW)) == ARGON2_OK
       && !race_password_verify(T_PW, strlen(T_PW), weak),
       "t=%d: refused, though libargon2 verifies it",
       RACE_PASSWORD_T_COST_LIMIT + 1);
    ok(argon2id_hash_encoded(1, 8 * RACE_PASSWORD_LANES_LIMIT,
                             RACE_PASSWORD_LANES_LIMIT, T_PW, strlen(T_PW),
                             salt, 16, 32, weak, sizeof(weak))
       == ARGON2_OK && race_password_verify(T_PW, strlen(T_PW), weak),
       "p=%d verifies", RACE_PASSWORD_LANES_LIMIT);
    ok(argon2id_hash_encoded(1, 8 * (RACE_PASSWORD_LANES_LIMIT + 1),
                             RACE_PASSWORD_LANES_LIMIT + 1, T_PW,
                             strlen(T_PW), salt, 16, 32, weak, sizeof(weak))
       == ARGON2_OK && argon2id_verify(weak, T_PW, strlen(T_PW)) == ARGON2_OK
       && !race_password_verify(T_PW, strlen(T_PW), weak),
       "p=%d: refused, though libargon2 verifies it",
       RACE_PASSWORD_LANES_LIMIT + 1);

    snprintf(buf, sizeof(buf), "%s$", t_hash);
    ok(!race_password_verify(T_PW, strlen(T_PW), buf), "a '$' after");
    snprintf(buf, sizeof(buf), "%s=", t_hash);
    ok(!race_password_verify(T_PW, strlen(T_PW), buf), "padding after");
    snprintf(buf, sizeof(buf), "%.53s", t_hash);
    ok(!race_password_verify(T_PW, strlen(T_PW), buf)
       && race_password_needs_rehash(buf), "no hash part");
    snprintf(buf, sizeof(buf), "%.31s%s", t_hash, t_hash + 32);
    ok(race_password_needs_rehash(buf), "a salt of 21 chars needs a rehash");
}


static void
test_dummy(void)
{
    const char  *d;

    ok(race_password_dummy() == NULL, "no dummy before init");
    ok(race_password_init() == 0, "init");

    d = race_password_dummy();
    ok(d != NULL && strlen(d) == 97
       && strncmp(d, T_PREFIX, strlen(T_PREFIX)) == 0,
       "the dummy is a hash with our parameters");
    ok(d != NULL && !race_password_needs_rehash(d), "the dummy: no rehash");
    ok(!race_password_verify(T_PW, strlen(T_PW), d), "the dummy: no match");
    ok(race_password_init() == 0 && race_password_dummy() == d
       && strncmp(d, T_PREFIX, strlen(T_PREFIX)) == 0,
       "init again: the same dummy");
}


static void
test_policy(void)
{
    const char            *p;
    race_password_list_t   list;

    static const char  text[] = "password1\nqwertyuiop\n";

    is_policy("", 0, NULL, "password must be at least 8 characters",
              "empty");
    is_policy(NULL, 0, NULL, "password must be at least 8 characters",
              "NULL");
    is_policy("1234567", 7, NULL, "password must be at least 8 characters",
              "7 chars");
    is_policy("12345678", 8, NULL, NULL, "8 chars");

    p = repeat("a", 128);
    is_policy(p, 128, NULL, NULL, "128 chars");
    p = repeat("a", 129);
    is_policy(p, 129, NULL, "password must be at most 128 characters",
              "129 chars");

    /* code points, not bytes */

    p = repeat("\xc3\xa9", 7);
    is_policy(p, 14, NULL, "password must be at least 8 characters",
              "7 e-acutes, 14 bytes");
    p = repeat("\xc3\xa9", 8);
    is_policy(p, 16, NULL, NULL, "8 e-acutes");
    p = repeat("\xf0\x9f\x9a\xb2", 7);
    is_policy(p, 28, NULL, "password must be at least 8 characters",
              "7 bicycles, 28 bytes");
    p = repeat("\xf0\x9f\x9a\xb2", 8);
    is_policy(p, 32, NULL, NULL, "8 bicycles");
    p = repeat("\xe2\x82\xac", 128);
    is_policy(p, 384, NULL, NULL, "128 euro signs, 384 bytes");
    p = repeat("\xe2\x82\xac", 129);
    is_policy(p, 387, NULL, "password must be at most 128 characters",
              "129 euro signs");
    p = repeat("\xf0\x9f\x9a\xb2", 128);
    is_policy(p, RACE_PASSWORD_BYTES_MAX, NULL, NULL,
              "128 bicycles, %d bytes", RACE_PASSWORD_BYTES_MAX);
    p = repeat("\xf0\x9f\x9a\xb2", 129);
    is_policy(p, 516, NULL, "password must be at most 128 characters",
              "129 bicycles");

    is_policy("abcdefg\xff", 8, NULL, "password is not valid UTF-8",
              "byte FF");
    is_policy("abcdefgh\xc0\xaf", 10, NULL, "password is not valid UTF-8",
              "overlong");
    is_policy("abcdefgh\xed\xa0\x80", 11, NULL,
              "password is not valid UTF-8", "a surrogate");
    is_policy("abcdefgh\xe2\x82", 10, NULL, "password is not valid UTF-8",
              "cut short");
    is_policy("\x80", 1, NULL, "password is not valid UTF-8",
              "bad UTF-8 is told before the length");

    ok(race_password_list_load(text, sizeof(text) - 1, &list) == 0,
       "policy list loaded");
    is_policy("password1", 9, &list, "password is too common", "password1");
    is_policy("PassWord1", 9, &list, "password is too common", "PassWord1");
    is_policy("password2", 9, &list, NULL, "password2");
    is_policy("qwertyuiop", 9, &list, NULL, "qwertyuio (len 9)");
    race_password_list_free(&list);
}


static void
test_list(void)
{
    size_t                 i, j, sorted, lower;
    race_password_list_t   list;

    static const char  text[] =
        "#!comment: a header, as John the Ripper's\n"
        "#!comment:\n"
        "# a plain comment\n"
        "\n"
        "Password\r\n"
        "qwerty\n"
        "QWERTY\n"
        "password\n"
        "  spaced  \n"
        "\r\n"
        "P\xc3\x84SSWORD\n"
        "nul\0inside\n"
        "two crs\r\r\n"
        "last-without-newline";

    ok(race_password_list_load(text, sizeof(text) - 1, &list) == 0,
       "load a small list");
    is_int((int64_t) list.n, 7, "7 entries left (comments, blanks, dupes)");

    sorted = 1;

    for (i = 1; i < list.n; i++) {
        if (entry_cmp(&list.entries[i - 1], &list.entries[i]) >= 0) {
            sorted = 0;
        }
    }

    ok(sorted, "sorted, strictly");

    lower = 1;

    for (i = 0; i < list.n; i++) {
        for (j = 0; j < list.entries[i].len; j++) {
            if (list.entries[i].s[j] >= 'A' && list.entries[i].s[j] <= 'Z') {
                lower = 0;
            }
        }
    }

    ok(lower, "entries lower-cased");

    ok(race_password_list_has(&list, "password", 8), "has password");
    ok(race_password_list_has(&list, "PASSWORD", 8), "has PASSWORD");
    ok(race_password_list_has(&list, "pAsSwOrD", 8), "has pAsSwOrD");
    ok(race_password_list_has(&list, "qwerty", 6), "has qwerty");
    ok(!race_password_list_has(&list, "passwor", 7), "not a prefix");
    ok(!race_password_list_has(&list, "password ", 9), "not with a space");
    ok(!race_password_list_has(&list, "password\r", 9), "CR not kept");
    ok(race_password_list_has(&list, "  SPACED  ", 10),
       "spaces are part of an entry");
    ok(!race_password_list_has(&list, "spaced", 6), "entries not trimmed");
    ok(race_password_list_has(&list, "LAST-without-NEWLINE", 20),
       "the last line without LF");
    ok(race_password_list_has(&list, "two crs\r", 8),
       "CR CR LF: one CR is the line end");
    ok(!race_password_list_has(&list, "# a plain comment", 17),
       "comments are not entries");
    ok(!race_password_list_has(&list, "#!comment:", 10),
       "#!comment: lines are not entries");
    ok(!race_password_list_has(&list, "", 0), "nothing is not an entry");
    ok(race_password_list_has(&list, "p\xc3\x84ssword", 9),
       "ASCII folded around a non-ASCII letter");
    ok(!race_password_list_has(&list, "p\xc3\xa4ssword", 9),
       "non-ASCII letters are not folded");
    ok(race_password_list_has(&list, "NUL\0INSIDE", 10),
       "a NUL inside an entry");
    ok(!race_password_list_has(&list, "nul", 3), "not cut at the NUL");
    ok(!race_password_list_has(NULL, "password", 8), "a NULL list");

    race_password_list_free(&list);
    ok(list.n == 0 && list.entries == NULL && list.data == NULL,
       "freed list is empty");
    race_password_list_free(&list);
    ok(!race_password_list_has(&list, "password", 8),
       "freed twice, still empty");

    ok(race_password_list_load("", 0, &list) == 0 && list.n == 0,
       "an empty file");
    ok(!race_password_list_has(&list, "", 0), "an empty list has nothing");
    race_password_list_free(&list);

    ok(race_password_list_load("#!comment: only\r\n# this\n\n", 25, &list)
       == 0 && list.n == 0, "comments only");
    race_password_list_free(&list);

    ok(race_password_list_load(NULL, 0, &list) == 0 && list.n == 0,
       "NULL data");
    race_password_list_free(&list);
}


static void
test_list_file(void)
{
    char                  *data, path[4096];
    size_t                 len;
    const char            *root;
    race_password_list_t   list;

    root = getenv("RACE_ROOT");
    snprintf(path, sizeof(path), "%s/conf/common-passwords.txt",
             root ? root : "..");

    data = slurp(path, &len);

    if (!ok(data != NULL, "read %s", path)) {
        return;
    }

    ok(strncmp(data, "#!comment: From Debian's john-data package", 42) == 0,
       "the file starts with where it comes from");
    ok(strstr(data, "It is assumed to be in the public domain.") != NULL,
       "and keeps Openwall's public domain statement");

    ok(race_password_list_load(data, len, &list) == 0, "load the list");

    /* 3545 lines of passwords as shipped, 3410 once folded and deduped */

    is_int((int64_t) list.n, 3410, "entries");
    free(data);

    ok(race_password_list_has(&list, "password", 8), "has password");
    ok(race_password_list_has(&list, "123456789", 9), "has 123456789");
    ok(race_password_list_has(&list, "ILoveYou", 8), "has ILoveYou");
    ok(!race_password_list_has(&list, T_PW, strlen(T_PW)),
       "not \"" T_PW "\"");
    ok(!race_password_list_has(&list, "#!comment:", 10),
       "comments are not entries");

    is_policy("Trustno1", 8, &list, "password is too common",
              "Trustno1 is too common");
    is_policy("baseball", 8, &list, "password is too common",
              "baseball is too common");
    is_policy("letmein1", 8, &list, NULL, "letmein1 passes");

    race_password_list_free(&list);
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
b64_run(const char *s, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                   "0123456789+/", s[i]) == NULL || s[i] == '\0')
        {
            return 0;
        }
    }

    return 1;
}


static int
is_policy(const char *pw, size_t len, const race_password_list_t *list,
    const char *want, const char *name, ...)
{
    int          r;
    char         text[256];
    va_list      ap;
    const char  *got;

    va_start(ap, name);
    vsnprintf(text, sizeof(text), name, ap);
    va_end(ap);

    got = race_password_check_policy(pw, len, list);

    if (want == NULL) {
        r = ok(got == NULL, "policy: %s: accepted", text);

        if (!r) {
            diag("  got: '%s'", got);
        }

        return r;
    }

    return is_str(got, want, "policy: %s: %s", text, want);
}


/* bytes, then length: the order the list is sorted in */

static int
entry_cmp(const race_password_entry_t *a, const race_password_entry_t *b)
{
    int  c;

    c = memcmp(a->s, b->s, a->len < b->len ? a->len : b->len);

    if (c != 0 || a->len == b->len) {
        return c;
    }

    return a->len < b->len ? -1 : 1;
}


static char *
slurp(const char *path, size_t *len)
{
    long   size;
    char  *data;
    FILE  *f;

    f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }

    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0
        || fseek(f, 0, SEEK_SET) != 0)
    {
        fclose(f);
        return NULL;
    }

    data = malloc((size_t) size + 1);

    if (data == NULL || fread(data, 1, (size_t) size, f) != (size_t) size) {
        free(data);
        fclose(f);
        return NULL;
    }

    fclose(f);
    data[size] = '\0';
    *len = (size_t) size;

    return data;
}
