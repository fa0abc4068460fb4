
/*
 * ngx_race: unit tests of the id core, TAP output: the race and rider
 * id rule and Kafka's topic-name rule at their edges.
 */


#include <string.h>

#include "race_id.h"
#include "tap.h"


static void test_ids(void);
static void test_topics(void);


int
main(void)
{
    test_ids();
    test_topics();

    return tap_done();
}


static void
test_ids(void)
{
    char  id[RACE_ID_MAX + 2];

    memset(id, 'a', sizeof(id));

    ok(race_id_valid("a", 1), "id: one character");
    ok(race_id_valid("Az09_-", 6), "id: every kind of character");
    ok(race_id_valid(id, RACE_ID_MAX), "id: 64 characters");
    ok(!race_id_valid(id, RACE_ID_MAX + 1), "id: 65 refused");
    ok(!race_id_valid("", 0), "id: empty refused");
    ok(!race_id_valid(NULL, 0), "id: NULL refused");
    ok(!race_id_valid("r.1", 3), "id: '.' refused");
    ok(!race_id_valid("r:1", 3), "id: ':' refused");
}


static void
test_topics(void)
{
    char  topic[RACE_ID_TOPIC_MAX + 1];

    memset(topic, 't', sizeof(topic));

    ok(race_id_topic_valid("race.fixes", 10), "topic: race.fixes");
    ok(race_id_topic_valid("Race.fixes-2_x", 14), "topic: every kind");
    ok(race_id_topic_valid(topic, RACE_ID_TOPIC_MAX), "topic: 249");
    ok(!race_id_topic_valid(topic, RACE_ID_TOPIC_MAX + 1),
       "topic: 250 refused");
    ok(!race_id_topic_valid("", 0), "topic: empty refused");
    ok(!race_id_topic_valid(".", 1), "topic: '.' refused");
    ok(!race_id_topic_valid("..", 2), "topic: '..' refused");
    ok(race_id_topic_valid("...", 3), "topic: '...' taken");
    ok(!race_id_topic_valid("race fixes", 10), "topic: a space refused");
    ok(!race_id_topic_valid("a/b", 3), "topic: '/' refused");
}
