// SPDX-License-Identifier: GPL-2.0
/* The rise/fall state machine of backend health (loader/health.c), without a
 * network: sequences of probe results in, health and its changes out.
 */
#include <string.h>

#include "health.h"
#include "lb_consts_common.h"
#include "test_harness.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct fsm_case {
	const char *description;
	__u32 rise, fall;
	__u8 start;            /* enum lb_health_state before the first result */
	const char *results;   /* one character per probe: '+' ok, '-' failed */
	const char *health;    /* health after each result: 'U' up, 'D' down */
	const char *changes;   /* '!' where lb_health_step() reports a change, '.' elsewhere */
};

static const struct fsm_case fsm_cases[] = {
	{ "unprobed starts up: successes change nothing", 2, 3, LB_HEALTH_UNPROBED,
	  "+++", "UUU", "..." },
	{ "down after exactly fall failures", 2, 3, LB_HEALTH_UNPROBED,
	  "---", "UUD", "..!" },
	{ "a success resets the failures", 2, 3, LB_HEALTH_IS_UP,
	  "--+---", "UUUUUD", ".....!" },
	{ "up after exactly rise successes", 2, 3, LB_HEALTH_IS_DOWN,
	  "-++", "DDU", "..!" },
	{ "a failure resets the successes", 3, 3, LB_HEALTH_IS_DOWN,
	  "++-+++", "DDDDDU", ".....!" },
	{ "every other probe lost: never down with fall 2", 2, 2, LB_HEALTH_IS_UP,
	  "-+-+-+-+", "UUUUUUUU", "........" },
	{ "every other probe answered: never up with rise 2", 2, 2, LB_HEALTH_IS_DOWN,
	  "+-+-+-+-", "DDDDDDDD", "........" },
	{ "rise 1, fall 1 follow each result", 1, 1, LB_HEALTH_IS_UP,
	  "-+-+", "DUDU", "!!!!" },
	{ "stays down while failing, comes back, goes again", 2, 2, LB_HEALTH_IS_UP,
	  "-----++--", "UDDDDDUUD", ".!....!.!" },
};

static void run_fsm_case(const struct fsm_case *c)
{
	struct lb_backend_health rec = { .health = c->start };
	size_t i, n = strlen(c->results);
	char health[32] = "", changes[32] = "";
	bool changed;

	for (i = 0; i < n && i < sizeof(health) - 1; i++) {
		changed = lb_health_step(&rec, c->results[i] == '+', c->rise, c->fall, 100 + i);
		health[i] = rec.health == LB_HEALTH_IS_UP ? 'U' : rec.health == LB_HEALTH_IS_DOWN ?
			    'D' : '?';
		changes[i] = changed ? '!' : '.';
		ASSERT_EQ(rec.last_ok, c->results[i] == '+', c->description);
		ASSERT_EQ(rec.last_s, 100 + i, c->description);
	}
	ASSERT_STREQ(health, c->health, c->description);
	ASSERT_STREQ(changes, c->changes, c->description);
}

static void test_rise_fall(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fsm_cases); i++)
		run_fsm_case(&fsm_cases[i]);
}

/* since_s moves only when health changes; the streak counts one kind of result. */
static void test_since_and_streak(void)
{
	struct lb_backend_health rec = { 0 };

	lb_health_step(&rec, true, 2, 2, 10);
	ASSERT_EQ(rec.since_s, 10, "first result: up since then");
	lb_health_step(&rec, true, 2, 2, 20);
	ASSERT_EQ(rec.since_s, 10, "still up: since unchanged");
	ASSERT_EQ(rec.streak, 2, "two successes");
	lb_health_step(&rec, false, 2, 2, 30);
	ASSERT_EQ(rec.streak, 1, "a failure starts a new streak");
	ASSERT_EQ(rec.since_s, 10, "one failure of two: still up");
	ASSERT_TRUE(lb_health_step(&rec, false, 2, 2, 40), "second failure: a change");
	ASSERT_EQ(rec.health, LB_HEALTH_IS_DOWN, "down");
	ASSERT_EQ(rec.since_s, 40, "down since the second failure");
	ASSERT_EQ(rec.streak, 2, "the streak goes on past the change");
}

/* Only a DOWN the daemon set counts as "down by probe". */
static void test_down_by_probe(void)
{
	struct lb_backend_health rec = { .marked_down = 1 };

	ASSERT_TRUE(lb_health_down_by_probe(&rec, LB_BACKEND_DOWN), "marked and DOWN");
	ASSERT_TRUE(!lb_health_down_by_probe(&rec, LB_BACKEND_UP), "marked, UP again");
	ASSERT_TRUE(!lb_health_down_by_probe(&rec, LB_BACKEND_DRAIN), "the operator's drain");
	rec.marked_down = 0;
	ASSERT_TRUE(!lb_health_down_by_probe(&rec, LB_BACKEND_DOWN), "the operator's down");
	ASSERT_STREQ(lb_health_name(LB_HEALTH_IS_UP), "up", "name up");
	ASSERT_STREQ(lb_health_name(LB_HEALTH_IS_DOWN), "down", "name down");
	ASSERT_STREQ(lb_health_name(LB_HEALTH_UNPROBED), "unprobed", "name unprobed");
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
		TEST_CASE(test_rise_fall),
		TEST_CASE(test_since_and_streak),
		TEST_CASE(test_down_by_probe),
	};

	return test_main("health", cases, ARRAY_SIZE(cases), argc, argv);
}
