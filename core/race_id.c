
/*
 * ngx_race: race, rider and token ids, and Kafka topic names.
 */


#include <stdint.h>
#include <string.h>

#include "race_id.h"


int
race_id_valid(const char *s, size_t len)
{
    size_t   i;
    uint8_t  c;

    if (s == NULL || len == 0 || len > RACE_ID_MAX) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        c = (uint8_t) s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '_' || c == '-'))
        {
            return 0;
        }
    }

    return 1;
}


int
race_id_topic_valid(const char *s, size_t len)
{
    size_t   i;
    uint8_t  c;

    if (s == NULL || len == 0 || len > RACE_ID_TOPIC_MAX
        || (len == 1 && s[0] == '.')
        || (len == 2 && s[0] == '.' && s[1] == '.'))
    {
        return 0;
    }

    for (i = 0; i < len; i++) {
        c = (uint8_t) s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '.' || c == '_'
              || c == '-'))
        {
            return 0;
        }
    }

    return 1;
}
