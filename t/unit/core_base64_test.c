
/*
 * ngx_race: unit tests of the base64 core, TAP output.
 *
 * base64: RFC 4648's test vectors (section 10) in both alphabets, the
 * characters that tell them apart, and the decoder's refusals: a
 * character of the other alphabet or '=', a length no encoding has,
 * and bits left over that are not zero.
 */


#include <stdint.h>
#include <string.h>

#include "race_base64.h"
#include "tap.h"


static void test_vectors(void);
static void test_alphabets(void);
static void test_decode_refusals(void);


int
main(void)
{
    test_vectors();
    test_alphabets();
    test_decode_refusals();

    return tap_done();
}


static void
test_vectors(void)
{
    size_t   i, n, len;
    char     out[16];
    uint8_t  back[16];

    static const struct {
        const char  *in;
        const char  *std;
        const char  *url;
    } v[] = {
        { "",       "",         "" },
        { "f",      "Zg==",     "Zg" },
        { "fo",     "Zm8=",     "Zm8" },
        { "foo",    "Zm9v",     "Zm9v" },
        { "foob",   "Zm9vYg==", "Zm9vYg" },
        { "fooba",  "Zm9vYmE=", "Zm9vYmE" },
        { "foobar", "Zm9vYmFy", "Zm9vYmFy" }
    };

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        len = strlen(v[i].in);

        n = race_base64_encode(out, (const uint8_t *) v[i].in, len,
                               RACE_BASE64_STD);
        out[n] = '\0';
        is_str(out, v[i].std, "standard: \"%s\"", v[i].in);
        is_int(race_base64_encoded_len(len, RACE_BASE64_STD), n,
               "standard: length of \"%s\"", v[i].in);

        n = race_base64_encode(out, (const uint8_t *) v[i].in, len,
                               RACE_BASE64_URL);
        out[n] = '\0';
        is_str(out, v[i].url, "url: \"%s\"", v[i].in);
        is_int(race_base64_encoded_len(len, RACE_BASE64_URL), n,
               "url: length of \"%s\"", v[i].in);

        n = 99;
        ok(race_base64_decode(back, &n, v[i].url, strlen(v[i].url),
                              RACE_BASE64_URL) == 0
           && n == len && memcmp(back, v[i].in, len) == 0,
           "url: \"%s\" decodes back", v[i].url);
    }
}


static void
test_alphabets(void)
{
    size_t         n;
    char           out[8];
    uint8_t        back[8];
    const uint8_t  in[] = { 0xfb, 0xff, 0xbf };

    n = race_base64_encode(out, in, 3, RACE_BASE64_STD);
    out[n] = '\0';
    is_str(out, "+/+/", "standard: 62 and 63 are '+' and '/'");

    n = race_base64_encode(out, in, 3, RACE_BASE64_URL);
    out[n] = '\0';
    is_str(out, "-_-_", "url: 62 and 63 are '-' and '_'");

    is_int(race_base64_value('+', RACE_BASE64_STD), 62, "standard '+'");
    is_int(race_base64_value('/', RACE_BASE64_STD), 63, "standard '/'");
    is_int(race_base64_value('-', RACE_BASE64_STD), -1, "standard '-'");
    is_int(race_base64_value('-', RACE_BASE64_URL), 62, "url '-'");
    is_int(race_base64_value('_', RACE_BASE64_URL), 63, "url '_'");
    is_int(race_base64_value('+', RACE_BASE64_URL), -1, "url '+'");
    is_int(race_base64_value('=', RACE_BASE64_STD), -1, "'=' is none");
    is_int(race_base64_value('A', RACE_BASE64_URL), 0, "'A' is 0");
    is_int(race_base64_value('9', RACE_BASE64_STD), 61, "'9' is 61");

    ok(race_base64_decode(back, &n, "-_-_", 4, RACE_BASE64_URL) == 0
       && n == 3 && memcmp(back, in, 3) == 0, "url: \"-_-_\" decodes");
    ok(race_base64_decode(back, &n, "+/+/", 4, RACE_BASE64_STD) == 0
       && n == 3 && memcmp(back, in, 3) == 0, "standard: \"+/+/\" decodes");
}


static void
test_decode_refusals(void)
{
    size_t   n;
    uint8_t  back[16];

    ok(race_base64_decode(back, &n, "+/+/", 4, RACE_BASE64_URL) == -1,
       "url: the standard alphabet's characters refused");
    ok(race_base64_decode(back, &n, "Zg==", 4, RACE_BASE64_URL) == -1,
       "url: padding refused");
    ok(race_base64_decode(back, &n, "Zm9vY", 5, RACE_BASE64_URL) == -1,
       "a length of 4n + 1 refused");
    ok(race_base64_decode(back, &n, "Zh", 2, RACE_BASE64_URL) == -1,
       "bits left over that are not zero refused");
    ok(race_base64_decode(back, &n, "Zm9 ", 4, RACE_BASE64_URL) == -1,
       "a space refused");
}
